"""Sphinx extension: nothing on a page scrolls sideways at a 1280 px window.

Chapters keep code lines within 80 characters; at the theme's 14 px a code box holds only about
77, so code is set at 13 px. Outputs (a dataset's source line, a long table row) wrap at the
page edge instead of scrolling.
"""

from pathlib import Path

CSS = """\
div.highlight pre { font-size: 13px; }
div.cell_output pre, div.output pre { white-space: pre-wrap; overflow-wrap: anywhere; }
"""


def _write_css(app, exception):
    if exception is None and app.builder.format == "html":
        (Path(app.outdir) / "_static" / "fit_page.css").write_text(CSS)


def setup(app):
    app.add_css_file("fit_page.css")
    app.connect("build-finished", _write_css)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
