"""The book's build and measurement tools, run from the repository root (``python -m tools.report``,
``python -m tools.bench``) by the Makefile. Not part of the ``helpers`` package a reader installs."""
