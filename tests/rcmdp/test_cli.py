"""`robocoord rcmdp study --json` and `robocoord train rcmdp`, run as real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

# The layer's own commands mounted on a fresh app, exactly as robocoord.cli.main does it.
LAUNCH = """
import sys, typer
from robocoord.cli.common import CliGroups
from robocoord.training.rcmdp.cli import register
app, bench, train = typer.Typer(), typer.Typer(), typer.Typer()
app.add_typer(bench, name="bench"); app.add_typer(train, name="train")
register(CliGroups(app=app, bench=bench, train=train))
app(sys.argv[1:])
"""


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", LAUNCH, *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


def test_study_json_follows_the_schema_and_writes_plots(tmp_path):
    cfg = write(
        tmp_path / "study.yaml",
        {
            "kind": "rcmdp-study",
            "gammas": [0.9],
            "epsilon_fraction": 0.01,
            "benchmarks": [{"name": "river_swim", "budget_fractions": [0.42]}],
            "uncertainty": {"kind": "tv", "beta": 0.1},
            "algos": [
                {"algo": "rnpg", "iterations": 60, "lam": 50, "xi_fraction": 0.02, "step_size": 1.0},
                {"algo": "epirc_pgs", "bisection_steps": 3, "inner_iterations": 30, "eta": 10.0},
            ],
            "plots_dir": str(tmp_path / "plots"),
        },
    )
    proc = run_cli("rcmdp", "study", "--config", str(cfg), "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # stdout is exactly one JSON object
    assert [r["algo"] for r in doc["results"]] == ["rnpg", "epirc_pgs"]
    for row in doc["results"]:
        for key in (
            "benchmark",
            "gamma",
            "uncertainty",
            "objective",
            "constraints",
            "budgets",
            "feasible",
            "seconds",
        ):
            assert key in row
        assert row["benchmark"] == "river_swim" and row["gamma"] == 0.9 and row["uncertainty"] == "tv"
        assert (
            isinstance(row["feasible"], bool)
            and isinstance(row["evaluations"], int)
            and row["evaluations"] > 0
        )
        assert row["evaluations_to_eps"] is None or 1 <= row["evaluations_to_eps"] <= row["evaluations"]
        assert len(row["constraints"]) == len(row["budgets"]) == 1
    assert doc["results"][0]["evaluations"] == 60
    assert doc["ratios"][0]["baseline"] == "epirc_pgs"
    (png,) = doc["plots"]
    assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_writes_a_run_folder(tmp_path):
    cfg = write(
        tmp_path / "train.yaml",
        {
            "kind": "rcmdp-train",
            "gamma": 0.9,
            "benchmark": {"name": "hazard_corridor", "budgets": [1.5, 1.5]},
            "uncertainty": {"kind": "tv", "beta": 0.1},
            "algo": {"algo": "rnpg", "iterations": 40, "lam": 50, "xi_fraction": 0.02, "step_size": 1.0},
            "runs_root": str(tmp_path / "runs"),
        },
    )
    proc = run_cli("train", "rcmdp", "--config", str(cfg), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["algo"] == "rnpg" and summary["evaluations"] == 40 and len(summary["constraints"]) == 2
    (run,) = (tmp_path / "runs").iterdir()
    assert (run / "artifacts" / "policy.npy").is_file()
    metrics = (run / "metrics.csv").read_text().splitlines()
    assert len([line for line in metrics if ",phi," in line]) == 40
    assert json.loads((run / "result.json").read_text())["feasible"] == summary["feasible"]


def test_train_reports_infeasible_problem_with_exit_2(tmp_path):
    cfg = write(
        tmp_path / "train.yaml",
        {
            "kind": "rcmdp-train",
            "gamma": 0.99,
            "benchmark": {"name": "river_swim", "budgets": [42.0]},
            "uncertainty": {"kind": "kl_penalty", "C": 0.1},
            "algo": {"algo": "rnpg", "iterations": 10},
            "runs_root": str(tmp_path / "runs"),
        },
    )
    proc = run_cli("train", "rcmdp", "--config", str(cfg), cwd=tmp_path)
    assert proc.returncode == 2
    assert "infeasible: constraint 'constraint'" in proc.stderr
    assert not (tmp_path / "runs").exists()


def test_bad_config_names_the_field_and_exits_2(tmp_path):
    cfg = write(
        tmp_path / "train.yaml",
        {
            "kind": "rcmdp-train",
            "benchmark": {"name": "river_swim", "budgets": [42.0], "budget_fractions": [0.4]},
            "uncertainty": {"kind": "kl", "delta": -1},
            "algo": {"algo": "rnpg"},
        },
    )
    proc = run_cli("train", "rcmdp", "--config", str(cfg), cwd=tmp_path)
    assert proc.returncode == 2
    assert "uncertainty.kl.delta" in proc.stderr
    assert "give exactly one of budgets or budget_fractions" in proc.stderr
