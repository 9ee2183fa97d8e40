"""`robocoord bridge` and `robocoord bench bridge` end to end, as subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from robocoord.cli.common import CliGroups
from robocoord.firmware_bridge.cli import register
from robocoord.firmware_bridge.vmcu_client import VirtualMcu

ROBOCOORD = [sys.executable, "-m", "robocoord.cli.main"]


def test_bridge_monitor_shows_live_telemetry_and_link_stats(mcu: VirtualMcu) -> None:
    done = subprocess.run(
        [*ROBOCOORD, "bridge", "--port", mcu.ports[0], "--robot-id", "0", "--duration-s", "1.5", "--plain"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("link ")]
    assert lines and "link UP" in lines[-1] and "batt 7400 mV" in lines[-1]


def test_bridge_refuses_a_robot_id_out_of_range() -> None:
    # This layer's commands on a bare app: the full `robocoord` app would import every layer.
    app, bench, train = typer.Typer(), typer.Typer(), typer.Typer()
    app.add_typer(bench, name="bench")
    register(CliGroups(app=app, bench=bench, train=train))
    result = CliRunner().invoke(app, ["bridge", "--port", "loop://", "--robot-id", "255"])
    assert result.exit_code == 2 and "robot-id" in result.output


@pytest.mark.slow
def test_bench_bridge_prints_one_json_document() -> None:
    done = subprocess.run(
        [
            *ROBOCOORD,
            "bench",
            "bridge",
            "--json",
            "--frames",
            "1000",
            "--rtt-samples",
            "50",
            "--cpu-robots",
            "2",
            "--cpu-seconds",
            "0.5",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    names = {r["name"]: r for r in document["results"]}
    for required in (
        "codec_frames_per_s",
        "pymavlink_frames_per_s",
        "codec_speedup_vs_pymavlink",
        "rtt_ms_p50",
        "rtt_ms_p99",
        "host_cpu_percent_per_robot_100hz",
    ):
        assert isinstance(names[required]["value"], float) and names[required]["value"] > 0, required
    assert names["rtt_ms_p50"]["value"] <= names["rtt_ms_p99"]["value"]
    assert document["bench"] == "bridge"
