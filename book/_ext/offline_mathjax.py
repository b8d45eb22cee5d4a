"""Sphinx extension: serve MathJax from the built site, so maths renders without a network.

MathJax 2.7 comes from the ``jupyter-server-mathjax`` package (a build requirement); its files
are copied to ``_static/mathjax`` and Sphinx's ``mathjax_path`` points there instead of a CDN.
"""

import shutil
from pathlib import Path

CONFIG = "TeX-AMS-MML_HTMLorMML-full"  # the combined configuration the package ships


def _source() -> Path:
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).parent / "static"


def _use_local_path(app, config):
    config.mathjax_path = f"mathjax/MathJax.js?config={CONFIG}"
    # The package ships the STIX-Web fonts only: tell MathJax 2 to use them, never a CDN.
    config.mathjax2_config = {
        "HTML-CSS": {"availableFonts": ["STIX-Web"], "preferredFont": "STIX-Web",
                     "webFont": "STIX-Web", "imageFont": None},
        "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]],
                    "processEscapes": True},
    }


def _copy(app, exception):
    if exception is None and app.builder.format == "html":
        dest = Path(app.outdir) / "_static" / "mathjax"
        if not (dest / "MathJax.js").is_file():
            shutil.copytree(_source(), dest, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.py"))


def setup(app):
    _source()  # fail early, with an ImportError naming the missing package
    app.connect("config-inited", _use_local_path, priority=900)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
