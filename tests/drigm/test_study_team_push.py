"""``robocoord drigm study`` end to end on team_push (PyBullet): the shipped study config, shrunk.

study_team_push.yaml with one mixer, two seeds, a 2-point ρ grid, 300 env steps per run and two
evaluation episodes per shift: it checks the pipeline and the JSON schema, not the results
(those are in training/drigm/README.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parents[2] / "training" / "drigm" / "configs" / "study_team_push.yaml"


@pytest.mark.slow
def test_team_push_study_runs_end_to_end_and_prints_the_schema() -> None:
    overrides = [
        "mixers=[vdn]",
        "seeds=[0, 1]",
        "variants=[{robust: none}, {robust: contamination, rho_grid: [0.02, 0.05]}]",
        "learner.total_env_steps=300",
        "learner.learning_starts_episodes=4",
        "learner.batch_episodes=4",
        "learner.eps_anneal_steps=150",
        "eval_episodes=2",
        "validation_shifts=[{name: mass_x1.5, params: {box_mass_scale: 1.5}}]",
        "test_shifts=[{name: mass_x3, params: {box_mass_scale: 3.0}},"
        " {name: motor_gain_x0.7, params: {motor_gain: 0.7}}]",
    ]
    args = [sys.executable, "-m", "robocoord.cli.main", "drigm", "study", "--config", str(CONFIG), "--json"]
    for o in overrides:
        args += ["--set", o]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert doc["study"] == "drigm-study-team-push-small"
    rows = doc["results"]
    assert {
        "mixer",
        "robust",
        "rho",
        "shift",
        "split",
        "mean",
        "stderr",
        "seeds",
        "per_seed",
        "seed_ids",
    } <= set(rows[0])
    assert all(len(r["per_seed"]) == 2 and r["seed_ids"] == [0, 1] for r in rows)
    assert {(r["robust"], r["shift"], r["split"]) for r in rows} == {
        (robust, shift, split)
        for robust in ("none", "contamination")
        for shift, split in (
            ("nominal", "nominal"),
            ("mass_x1.5", "validation"),
            ("mass_x3", "test"),
            ("motor_gain_x0.7", "test"),
        )
    }
    assert all(r["seeds"] == 2 and r["mixer"] == "vdn" for r in rows)
    grid = [g for g in doc["rho_grid"] if g["robust"] == "contamination"]
    assert sorted(g["rho"] for g in grid) == [0.02, 0.05] and sum(g["selected"] for g in grid) == 1
    (criterion,) = doc["criteria"]
    assert criterion["mixer"] == "vdn" and criterion["robust_best"] == "contamination"
    assert doc["training"]["runs"] == 6 and doc["training"]["env_steps"] >= 6 * 300
