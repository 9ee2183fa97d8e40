"""``robocoord train drigm`` end to end: run folder, TensorBoard curves, artifact, ``robocoord eval``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from robocoord.controllers.policy import read_contract
from robocoord.training.drigm.evaluate import evaluate_artifact


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "robocoord.cli.main", *args], capture_output=True, text=True, timeout=600
    )


def test_train_writes_a_run_with_curves_and_an_artifact_that_evaluates(tmp_path: Path) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(
        f"""kind: drigm-train
name: t
algo: qtran
robust: tv
rho: 0.2
seeds: [0]
env: {{task: tiny, n_agents: 2, episode_steps: 8}}
learner: {{total_env_steps: 300, batch_episodes: 8, learning_starts_episodes: 8, update_every_steps: 50,
           eps_anneal_steps: 150}}
validation_shifts: [{{name: hazard_0.1, params: {{hazard: 0.1}}}}]
runs_root: {tmp_path / "runs"}
"""
    )
    proc = _cli("train", "drigm", "--config", str(config), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    run = summary["runs"][0]
    assert set(run["eval"]) == {"nominal", "hazard_0.1"}
    assert run["q_updates"] > 0 and run["g_updates"] == run["q_updates"]
    run_dir = Path(run["run_dir"])
    assert any((run_dir / "tb").iterdir())
    metrics = (run_dir / "metrics.csv").read_text()
    assert "loss_opt" in metrics and "g_loss" in metrics
    contract = read_contract(run["artifact"])
    assert contract.family == "drigm" and contract.family_params["mixer"] == "qtran"

    proc = _cli("eval", run["artifact"], "--episodes", "6", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    via_cli = json.loads(proc.stdout)
    direct = evaluate_artifact(artifact=run["artifact"], episodes=6, seed=0)
    assert via_cli["return_mean"] == direct["return_mean"]
    assert via_cli["episodes"] == 6 and 0.0 <= via_cli["success_rate"] <= 1.0
    hazardous = evaluate_artifact(artifact=run["artifact"], episodes=6, seed=0, params={"hazard": 1.0})
    assert hazardous["success_rate"] == 0.0  # the box tips before any move
