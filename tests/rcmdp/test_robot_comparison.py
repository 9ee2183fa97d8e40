"""Issue #7, robot: in PyBullet safe_nav under held-out disruptions (friction ×0.5, mass ×1.5, actuation
latency 2 steps, observation noise), the robust policy with the shield has fewer constraint violations
than the non-robust CMDP policy solved at the nominal kernel, over 3 seeds × 20 episodes.

The whole pipeline runs for real: kernels estimated from PyBullet rollouts, the TV radius calibrated
under the training disruptions, both policies solved and exported, then `robocoord rcmdp compare`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _robocoord(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "robocoord.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1800,
    )


def test_robust_shielded_policy_violates_less_than_nominal_under_held_out_disruptions(tmp_path: Path) -> None:
    train = _robocoord(
        "train", "rcmdp", "--config", str(ROOT / "training/rcmdp/configs/safe_nav.yaml"), cwd=tmp_path
    )
    assert train.returncode == 0, train.stderr[-3000:]
    (run,) = [p for p in (tmp_path / "runs").iterdir() if (p / "artifacts" / "robust.onnx").is_file()]
    held_out = ROOT / "training/rcmdp/configs/heldout_disruptions.yaml"
    compare = _robocoord(
        "rcmdp", "compare", "--run", str(run), "--disruptions", str(held_out), "--seeds", "3", "--episodes", "20",
        "--json", cwd=tmp_path,
    )  # fmt: skip
    assert compare.returncode == 0, compare.stderr[-3000:]
    results = {r["name"]: r["value"] for r in json.loads(compare.stdout)["results"]}
    print(json.dumps(results, indent=1))  # the closing note quotes these figures
    assert results["robust_shield/violations"] < results["nominal/violations"]
    for arm in ("robust_shield", "nominal"):
        assert 0.0 <= results[f"{arm}/success_rate"] <= 1.0
