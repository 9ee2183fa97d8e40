"""`robocoord gmfs study`: the paper's n = 25 reproduction, the JSON schema, plots and config errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from robocoord.config import ConfigError, load_config

CONFIGS = Path(__file__).resolve().parents[2] / "training" / "gmfs" / "configs"


def _study(tmp_path: Path, config: str, *sets: str) -> dict:
    args = ["--config", str(CONFIGS / config), "--json", "--set", f"run_root={tmp_path}"]
    for s in sets:
        args += ["--set", s]
    proc = subprocess.run(
        [sys.executable, "-m", "robocoord.cli.main", "gmfs", "study", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.slow
def test_paper_n25_reproduces_the_authors_table(tmp_path: Path) -> None:
    """Full paper config (T=250, M=50, H=100, 3 seeds x 30 rollouts, first-sweep semantics)."""
    doc = _study(tmp_path, "paper_n25.yaml")
    ret = {(r["kappa"], r["sampling"]): r["mean"] for r in doc["results"]}
    kappas = sorted({k for k, _ in ret})
    assert kappas == [1, 2, 4, 8, 16, 24]
    for kappa in (8, 16, 24):
        assert ret[kappa, "graphon"] >= ret[1, "graphon"] + 15, (kappa, ret)
    assert abs(ret[16, "graphon"] - ret[24, "graphon"]) <= 5, ret
    for kappa in kappas:
        assert ret[kappa, "graphon"] >= ret[kappa, "uniform"] + 10, (kappa, ret)
    sizes = {r["kappa"]: r["table_size"] for r in doc["results"]}
    assert sizes[24] == 2925 and sizes[1] == 27


def test_smoke_study_prints_the_documented_schema_and_writes_plots(tmp_path: Path) -> None:
    doc = _study(tmp_path, "smoke.yaml")
    assert set(doc) >= {"results", "tv_slope"}
    assert isinstance(doc["tv_slope"], float)
    seen = set()
    for row in doc["results"]:
        assert set(row) == {"kappa", "sampling", "mean", "stderr", "table_size", "train_seconds"}
        assert isinstance(row["kappa"], int) and isinstance(row["table_size"], int)
        assert row["sampling"] in ("graphon", "uniform") and row["stderr"] >= 0 and row["train_seconds"] > 0
        seen.add((row["kappa"], row["sampling"]))
    assert seen == {(k, m) for k in (1, 2, 4, 8) for m in ("graphon", "uniform")}
    plots = {Path(p).name for p in doc["plots"]}
    assert {"return_vs_kappa.png", "tv_vs_kappa.png"} <= plots
    for p in doc["plots"]:
        assert Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((Path(doc["run_dir"]) / "study.json").read_text())["results"] == doc["results"]


def _errors(*overrides: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(CONFIGS / "smoke.yaml", overrides)
    return info.value.lines


def test_nonpositive_kappa_is_a_config_error_naming_the_field() -> None:
    (line,) = _errors("kappas=[4, 0]")
    assert "kappas" in line and "κ must be a positive integer; got [0]" in line


def test_unknown_graphon_kind_is_a_config_error() -> None:
    (line,) = _errors("graphon.kind=ring")
    assert "graphon" in line and "'ring'" in line and "radius" in line


def test_layout_that_does_not_match_n_is_a_config_error() -> None:
    (line,) = _errors("n=20")
    assert "grid 4x4 has 16 positions but n is 20" in line


def test_too_large_tabular_table_points_to_the_neural_variant() -> None:
    (line,) = _errors("model={kind: synthetic, n_states: 12, n_actions: 3}", "max_table_size=100000")
    assert "max_table_size=100,000" in line and "neural GMFS" in line and "kappas" in line


def test_cli_reports_bad_config_with_exit_code_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "robocoord.cli.main",
            "gmfs",
            "study",
            "--config",
            str(CONFIGS / "smoke.yaml"),
            "--set",
            "kappas=[-1]",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "kappas" in proc.stderr and "Traceback" not in proc.stderr
