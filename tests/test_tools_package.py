"""The build and measurement code lives in tools/, run from the checkout; helpers/ is what a
reader installs, and only what the chapters import."""

import subprocess
import sys

from .conftest import ROOT


def test_helpers_holds_no_build_or_measurement_code():
    assert not (ROOT / "helpers" / "bench.py").exists()
    assert not (ROOT / "helpers" / "report.py").exists()
    for path in (ROOT / "helpers").glob("*.py"):
        text = path.read_text()
        assert "from tools" not in text and "import tools" not in text, path.name
    assert 'packages = ["helpers"]' in (ROOT / "pyproject.toml").read_text()


def test_the_makefile_runs_the_tools_from_the_checkout(tmp_path):
    makefile = (ROOT / "Makefile").read_text()
    assert "-m tools.report results book/results.md" in makefile
    assert "-m tools.bench --page results book/bench_tables.md" in makefile
    out = tmp_path / "results.md"
    done = subprocess.run([sys.executable, "-m", "tools.report", "results", str(out)], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("# Results at a glance")
