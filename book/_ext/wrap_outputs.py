"""Sphinx extension: long output lines wrap instead of scrolling sideways.

Code cells are kept within about 80 characters by the chapters themselves; outputs (a dataset's
source line, a long table row) wrap at the page edge, so a reader never scrolls sideways.
"""

from pathlib import Path

CSS = "div.cell_output pre, div.output pre { white-space: pre-wrap; overflow-wrap: anywhere; }\n"


def _write_css(app, exception):
    if exception is None and app.builder.format == "html":
        (Path(app.outdir) / "_static" / "wrap_outputs.css").write_text(CSS)


def setup(app):
    app.add_css_file("wrap_outputs.css")
    app.connect("build-finished", _write_css)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
