"""What a chapter shows with ``show_source`` is what the helpers hold now, call by call."""

import importlib
import inspect
import re

import pytest

from .test_book import NOTEBOOKS, code_cells, load

CALL = re.compile(r"show_source\(([\w.]+)\)")


BARE = {"auroc": "scores.auroc"}  # helpers a chapter imports by their own name


def _resolve(dotted):
    module, *attributes = BARE.get(dotted, dotted).split(".")
    obj = importlib.import_module(f"helpers.{module}")
    for name in attributes:
        obj = getattr(obj, name)
    return obj


def _shown(cell):
    return "".join("".join(o.get("data", {}).get("text/plain", "")) for o in cell["outputs"])


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_shown_source_is_in_the_outputs_and_current(nb_path):
    missing = []
    for i, cell in enumerate(code_cells(load(nb_path))):
        for dotted in CALL.findall("".join(cell["source"])):
            if inspect.getsource(_resolve(dotted)).strip() not in _shown(cell):
                missing.append((i, dotted))
    assert not missing, f"code cells whose shown source is absent or stale: {missing}"


def test_show_source_displays_every_call(monkeypatch):
    from IPython import display as ipy_display

    from helpers import environment, models

    shown = []
    monkeypatch.setattr(ipy_display, "display", shown.append)
    assert environment.show_source(models.conv_autoencoder) is None
    environment.show_source(models.conv_autoencoder_improved)
    assert [c.data for c in shown] == [inspect.getsource(models.conv_autoencoder),
                                      inspect.getsource(models.conv_autoencoder_improved)]
