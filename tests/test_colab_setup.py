"""The notebooks' first cell, as Colab runs it: in a fresh environment without `helpers`, it
installs the package from the repository (here a local clone instead of the web URL)."""

import json
import shutil
import subprocess
import sys

import pytest

from .conftest import ROOT
from .test_book import CONFIG, NOTEBOOKS


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                    reason="needs git and a git checkout of the book")
def test_setup_cell_installs_helpers_in_a_fresh_environment(tmp_path):
    cell = "".join(next(c for c in json.loads(NOTEBOOKS[0].read_text())["cells"]
                        if c["cell_type"] == "code")["source"])
    web = f'REPO = "{CONFIG["repository"]["url"]}.git"'
    assert web in cell
    install_part = cell.split("from helpers.environment import setup")[0]
    code = (install_part.replace(web, f'REPO = "file://{ROOT}"')
            + "\nimport helpers\nprint(helpers.__file__)\n")

    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "-q", "ipython"], check=True, capture_output=True)
    assert subprocess.run([py, "-c", "import helpers"], cwd=tmp_path, capture_output=True).returncode != 0

    # PIP_NO_DEPS: Colab already has keras, numpy and the rest; `import helpers` needs none of them.
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "PIP_NO_DEPS": "1", "HOME": str(tmp_path)}
    proc = subprocess.run([venv / "bin" / "ipython", "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installed = proc.stdout.strip().splitlines()[-1]
    assert installed.startswith(str(venv)) and installed.endswith("helpers/__init__.py")
