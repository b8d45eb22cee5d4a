"""Shared code for *Autoencoders by Example*: data, run profiles, models, plots.

Modules are imported on demand (``from helpers.data import load_dataset``) so that
``import helpers`` stays cheap and never pulls in a deep-learning backend.
"""

__version__ = "0.1.0"
