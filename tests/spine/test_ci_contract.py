"""CI runs exactly the README's test command, and a run that tests nothing fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_ci_calls_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci
    assert os.access(REPO / ".ci" / "run", os.X_OK)


def test_make_test_runs_every_test_including_slow_ones() -> None:
    makefile = (REPO / "Makefile").read_text()
    test_recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "scripts/run-pytest" in test_recipe
    assert "not slow" not in test_recipe and " -m " not in test_recipe


def run_pytest_in(folder: Path) -> subprocess.CompletedProcess[str]:
    """``scripts/run-pytest`` on ``folder``, the way ``make test`` calls it."""
    return subprocess.run(
        [str(REPO / "scripts" / "run-pytest"), "-q", "-p", "no:cacheprovider", str(folder)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": sys.executable},
        cwd=folder,
        timeout=120,
    )


def test_a_run_that_collects_no_tests_fails(tmp_path: Path) -> None:
    (tmp_path / "test_nothing_here.py").write_text("# no tests\n")
    proc = run_pytest_in(tmp_path)
    assert proc.returncode == 1
    assert "collected no tests" in proc.stderr


def test_a_failing_test_fails_the_run(tmp_path: Path) -> None:
    (tmp_path / "test_red.py").write_text("def test_red():\n    assert False\n")
    proc = run_pytest_in(tmp_path)
    assert proc.returncode == 1
