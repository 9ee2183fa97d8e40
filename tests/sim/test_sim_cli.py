"""``robocoord sim run`` and ``robocoord bench sim --json`` as real processes."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

REQUIRED_BENCH_RESULTS = {
    "realtime_factor_10_robots_240hz",
    "overhead_vs_raw_pybullet_10_robots",
    "sim_seconds_per_wall_second_1000_robots_20hz",
}


def robocoord(*args: str, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "robocoord.cli.main", *args], capture_output=True, text=True, timeout=timeout_s
    )


def test_sim_run_writes_run_folder_with_trajectory_plot(tmp_path: Path) -> None:
    result = robocoord(
        "sim", "run", "--task", "warehouse", "--robots", "6", "--seconds", "4", "--set", f"out_dir={tmp_path}"
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    run_dir = Path(summary["run_dir"])
    assert run_dir.parent == tmp_path
    png = Path(summary["trajectory_png"])
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with (run_dir / "metrics.csv").open() as handle:
        names = {row["name"] for row in csv.DictReader(handle)}
    assert {"reward_mean", "idle", "transit", "working"} <= names
    assert summary["decisions"] == 2 and summary["sim_seconds"] == pytest.approx(4.0)


def test_sim_run_applies_disruptions_and_records_frames(tmp_path: Path) -> None:
    disruptions = Path(__file__).resolve().parents[2] / "sim" / "configs" / "disruptions" / "box_mass_x3.yaml"
    result = robocoord(
        "sim", "run", "--task", "team_push", "--seconds", "1", "--disruptions", str(disruptions),
        "--record", "frames", "--set", f"out_dir={tmp_path}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["disruptions"] == ["box_mass_x3"]
    assert len(list(Path(summary["recording"]).glob("*.png"))) == summary["decisions"] + 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "warehouse", "--robots", "0"], "n_robots"),
        (["--task", "team_push", "--robots", "7"], "n_robots"),
        (["--task", "safe_nav", "--robots", "3"], "--robots"),
        (["--task", "forklift"], "task"),
        (["--record", "out.avi"], "record"),
    ],
)
def test_sim_run_bad_input_exits_2_naming_the_field(tmp_path: Path, args: list[str], message: str) -> None:
    result = robocoord("sim", "run", *args, "--set", f"out_dir={tmp_path}")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_sim_run_bad_disruption_file_exits_2_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: disruptions\ndisruptions:\n  - {source: observation, kind: gauss, sigma: -1}\n")
    result = robocoord(
        "sim", "run", "--task", "safe_nav", "--disruptions", str(bad), "--set", f"out_dir={tmp_path}"
    )
    assert result.returncode == 2
    assert "disruptions[0].sigma" in result.stderr


@pytest.mark.slow
def test_bench_sim_json_prints_exactly_one_clean_object() -> None:
    result = robocoord("bench", "sim", "--json", "--quick", timeout_s=600)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1  # pybullet's banner went to stderr
    document = json.loads(lines[0])
    assert document["bench"] == "sim"
    values = {r["name"]: r["value"] for r in document["results"]}
    assert REQUIRED_BENCH_RESULTS <= set(values)
    # the raw loop replays the task's PyBullet calls: its pose error is 0 when the replay is exact
    errors = {k: v for k, v in values.items() if k.startswith("raw_replay_pose_error_")}
    assert errors and all(isinstance(v, float) and 0 <= v < 1.0 for v in errors.values())
    assert all(isinstance(v, float) and v > 0 for k, v in values.items() if k not in errors)
