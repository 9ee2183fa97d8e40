"""The `robocoord` command: doctor, inspect, bench JSON, and the robot-side import rule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from robocoord.cli import doctor as doctor_module
from robocoord.cli.main import app
from robocoord.training.export import ExportedPolicy

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]


def test_robot_side_imports_pull_in_neither_torch_nor_pybullet() -> None:
    """Import every module of controllers/, firmware_bridge/ and the ROS nodes in a clean interpreter."""
    probe = """
import importlib, pkgutil, sys
roots = ["robocoord.controllers", "robocoord.firmware_bridge", "robocoord_ros"]
imported = []
for root in roots:
    package = importlib.import_module(root)
    imported.append(root)
    for info in pkgutil.walk_packages(package.__path__, root + "."):
        importlib.import_module(info.name)
        imported.append(info.name)
bad = [m for m in ("torch", "pybullet") if m in sys.modules]
print(len(imported), bad)
sys.exit(1 if bad else 0)
"""
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    count = int(proc.stdout.split()[0])
    assert count >= 4


def test_doctor_passes_on_this_machine() -> None:
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "rclpy loopback pub/sub" in result.output and "message received" in result.output
    assert "pseudo-terminal" in result.output and "gcc" in result.output


def test_doctor_fails_and_names_the_fix_when_a_part_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = (("robocoord-missing-part", "robocoord_missing_part", "robot", True),)
    monkeypatch.setattr(doctor_module, "DEPENDENCIES", doctor_module.DEPENDENCIES + fake)
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    assert "[FAIL] robocoord-missing-part" in result.output
    assert "fix: pip install -e '.[robot]'" in result.output


def test_inspect_prints_the_contract(small_artifact: ExportedPolicy) -> None:
    result = runner.invoke(app, ["inspect", str(small_artifact.path)])
    assert result.exit_code == 0, result.output
    for text in ("family        gmfs", "(verified)", "20 Hz", "pose", "safe='stop'", '"kappa": 4'):
        assert text in result.output
    as_json = runner.invoke(app, ["inspect", str(small_artifact.path), "--json"])
    assert json.loads(as_json.stdout)["family_params"] == {"kappa": 4}


def test_inspect_refuses_a_tampered_artifact_with_exit_2(
    small_artifact: ExportedPolicy, tmp_path: Path
) -> None:
    data = bytearray(small_artifact.path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(bytes(data))
    result = runner.invoke(app, ["inspect", str(bad)])
    assert result.exit_code == 2
    assert "hash" in result.stderr and "Traceback" not in result.output


def test_bench_policy_json_is_exactly_one_object_on_stdout() -> None:
    """A real subprocess, so C-level writes to fd 1 would be caught too."""
    proc = subprocess.run(
        [sys.executable, "-m", "robocoord.cli.main", "bench", "policy", "--json", "--iterations", "200"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)  # raises if anything else is on stdout
    assert document["bench"] == "policy"
    assert set(document["machine"]) >= {"cpus", "python", "versions"}
    names = {r["name"] for r in document["results"]}
    assert names >= {
        "ort_latency_us_p50_b1",
        "ort_latency_us_p99_b1",
        "torch_latency_us_p50_b1",
        "speedup_ort_vs_torch_b1",
        "ort_latency_us_p50_b100",
    }
    for r in document["results"]:
        assert isinstance(r["value"], float | int) and r["value"] > 0 and r["unit"]


def test_help_lists_every_command_group() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("doctor", "config", "inspect", "bench", "train", "eval", "demo"):
        assert command in result.output
