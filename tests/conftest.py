"""Shared fixtures: every test gets a private cache and no mirror unless it asks for one."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MIRROR = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated_data_env(tmp_path, monkeypatch):
    """A fresh cache folder, no mirror, downloads disabled (tests enable them explicitly)."""
    monkeypatch.setenv("AEBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("AEBOOK_DATA", raising=False)
    monkeypatch.setenv("AEBOOK_OFFLINE", "1")
    monkeypatch.delenv("AEBOOK_PROFILE", raising=False)
    return tmp_path / "cache"
