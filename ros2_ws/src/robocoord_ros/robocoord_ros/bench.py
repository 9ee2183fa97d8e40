"""``robocoord bench loop``: telemetry-in -> command-out latency through the whole host chain.

Chain per robot: virtual MCU (real firmware) -> pty -> SerialLink reader thread -> serial_bridge
publishes ``odom`` -> policy_controller (go-to towards the policy's station) publishes ``cmd_vel``
-> serial_bridge writes the wheel command to the pty. With ``trace_latency`` on, the policy logs
each ``cmd_vel`` with the bridge's receive stamp of the odometry it used, and the bridge logs when
each ``cmd_vel`` went out on the wire; pairing the two logs (same order, same values) gives the
latency of every command, on one clock (system time, one process).

The policy artifact is a small linear GMFS Q-policy built here with ``onnx.helper`` and sealed with
the artifact contract (no torch on the robot side).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from robocoord.benchjson import Result


def build_linear_gmfs_artifact(path: Path | str, *, control_rate_hz: float, kappa: int = 4) -> Path:
    """A sealed GMFS artifact: q = obs @ W + b, action = argmax q (prefers Working unless crowded)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from robocoord import __version__
    from robocoord.controllers.contract import (
        METADATA_KEY,
        DiscreteActionSpec,
        ObservationField,
        ObservationSpec,
        PolicyContract,
        Provenance,
        TensorSpec,
        seal,
    )

    weights = np.zeros((6, 3), dtype=np.float32)
    weights[5, 2] = -2.0
    bias = np.array([0.5, 0.0, 1.0], dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["obs", "W"], ["qw"]),
            helper.make_node("Add", ["qw", "b"], ["q_values"]),
            helper.make_node("ArgMax", ["q_values"], ["action"], axis=1, keepdims=0),
        ],
        "linear_gmfs",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", 6])],
        [
            helper.make_tensor_value_info("action", TensorProto.INT64, ["batch"]),
            helper.make_tensor_value_info("q_values", TensorProto.FLOAT, ["batch", 3]),
        ],
        [numpy_helper.from_array(weights, "W"), numpy_helper.from_array(bias, "b")],
    )
    opset = 17
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    contract = PolicyContract(
        family="gmfs",
        observation=ObservationSpec(
            fields=[
                ObservationField(name="task_state_onehot", size=3, unit="1"),
                ObservationField(name="neighbour_state_fraction", size=3, unit="1"),
            ],
            mean=[0.0] * 6,
            std=[1.0] * 6,
            clip=None,
        ),
        action=DiscreteActionSpec(n=3, meanings=["Idle", "Transit", "Working"], safe_action=0),
        control_rate_hz=control_rate_hz,
        opset=opset,
        inputs=[TensorSpec(name="obs", shape=["batch", 6], dtype="float32")],
        outputs=[
            TensorSpec(name="action", shape=["batch"], dtype="int64"),
            TensorSpec(name="q_values", shape=["batch", 3], dtype="float32"),
        ],
        family_params={"kappa": kappa, "graphon": {"kind": "radius", "radius": 0.5}, "n_states": 3},
        provenance=Provenance(
            trainer="robocoord_ros.bench linear policy",
            created_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            robocoord_version=__version__,
        ),
    )
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, contract.to_json()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(seal(model.SerializeToString()))
    return path


def pair_latencies_ms(
    policy_log: list[tuple[int, int, float, float]], bridge_log: list[tuple[int, int, float, float]]
) -> list[float]:
    """Per-command latency [ms] from the two logs (one clock: the ROS system clock of one process).

    policy_log: (odometry stamp ns or 0, publish ns, v, ω) per cmd_vel published, in order;
    bridge_log: (receive ns, wire-out ns or 0, v, ω) per cmd_vel received, in order. Each received
    command is matched to the newest command published before it was received with the very same
    values; commands the bridge never received (or dropped under e-stop) simply have no pair.
    """
    out: list[float] = []
    j = 0
    for received, wire_out, v, w in bridge_log:
        while j < len(policy_log) and policy_log[j][1] <= received:
            j += 1
        for k in range(j - 1, max(-1, j - 50), -1):  # newest first
            stamp_in, _, pv, pw = policy_log[k]
            if (pv, pw) == (v, w):
                if stamp_in and wire_out:
                    out.append(1e-6 * (wire_out - stamp_in))
                break
    return out


def _process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def run_loop_bench(
    robots: int = 10,
    rate_hz: float = 100.0,
    seconds: float = 60.0,
    warmup_s: float = 3.0,
    plant: str = "kinematic",
    decision_hz: float = 2.0,
) -> list[Result]:
    """Bring up ``robots`` hil robots, telemetry and go-to at ``rate_hz``, policy at ``decision_hz``; measure ``seconds``."""
    from robocoord_ros.fleet import FleetRuntime, prepare_fleet
    from robocoord_ros.graph import FleetGraph, NodeSpec
    from robocoord_ros.inventory import FleetInventory

    workdir = Path(tempfile.mkdtemp(prefix="rc-bench-loop-"))
    # the policy decides at a GMFS-like 2 Hz; the loop under test is the go-to path at rate_hz
    artifact = build_linear_gmfs_artifact(workdir / "policy.onnx", control_rate_hz=decision_hz)
    side = int(np.ceil(np.sqrt(robots)))
    inventory = FleetInventory.model_validate(
        {
            "name": "bench_loop",
            "backend": "hil",
            "plant": plant,
            "policy": {"warehouse": {"goto_rate_hz": rate_hz}},
            "rates": {"telemetry_hz": rate_hz},
            "robots": [
                {
                    "id": i,
                    "home": {"x_m": float(i % side), "y_m": float(i // side)},
                    "work_station": {"x_m": 50.0, "y_m": 50.0},
                }
                for i in range(robots)
            ],
        }
    )
    prepared = prepare_fleet(inventory, artifact=artifact, record=False)
    nodes = []
    for spec in prepared.graph.nodes:
        params: dict[str, Any] = dict(spec.parameters)
        if spec.executable in ("serial_bridge", "policy_controller"):
            params["trace_latency"] = True
        if spec.executable == "policy_controller":
            params["stale_after_s"] = max(0.05, 5.0 / rate_hz)
        nodes.append(NodeSpec(spec.executable, spec.name, spec.namespace, params, spec.param_files))
    runtime = FleetRuntime(FleetGraph(prepared.graph.backend, nodes))
    try:
        runtime.start()
        time.sleep(warmup_s)  # benchmark warm-up: timing belongs here, not in tests
        bridges = {b.robot_id: b for b in runtime.nodes_of("serial_bridge")}
        policies = {p.robot_id: p for p in runtime.nodes_of("policy_controller")}
        mark_policy = {rid: len(p.trace) for rid, p in policies.items()}
        mark_bridge = {rid: len(b.trace) for rid, b in bridges.items()}
        misses0 = sum(p.deadline_misses for p in policies.values())
        cpu0, mcu0, wall0 = time.process_time(), _process_cpu_s(prepared.mcus.process.pid), time.monotonic()
        time.sleep(seconds)
        cpu1, mcu1, wall1 = time.process_time(), _process_cpu_s(prepared.mcus.process.pid), time.monotonic()
        misses = sum(p.deadline_misses for p in policies.values()) - misses0
        latencies: list[float] = []
        commands = 0
        for rid in sorted(bridges):
            policy_log = list(policies[rid].trace)[mark_policy[rid] :]
            bridge_log = list(bridges[rid].trace)[mark_bridge[rid] :]
            commands += len(bridge_log)
            latencies += pair_latencies_ms(policy_log, bridge_log)
        crc = sum(b.link.stats().crc_errors for b in bridges.values() if b.link is not None)
        now = time.monotonic()
        telemetry_hz = float(np.mean([b.telemetry_rate.rate_hz(now) for b in bridges.values()]))
        load = os.getloadavg()[0]
    finally:
        runtime.stop()
        prepared.stop_mcus()
    runtime.check()
    lat = np.asarray(latencies) if latencies else np.asarray([np.nan])
    wall = wall1 - wall0
    return [
        Result("loop_latency_ms_p50", float(np.percentile(lat, 50)), "ms"),
        Result("loop_latency_ms_p99", float(np.percentile(lat, 99)), "ms"),
        Result("loop_latency_ms_max", float(np.max(lat)), "ms"),
        Result("deadline_misses", int(misses), "count"),
        Result("cpu_percent", 100.0 * (cpu1 - cpu0) / wall, "% of one core (ROS host process)"),
        Result("mcu_cpu_percent", 100.0 * (mcu1 - mcu0) / wall, "% of one core (virtual MCU process)"),
        Result("commands_per_s", len(latencies) / wall, "1/s (paired telemetry-triggered commands)"),
        Result("commands_total_per_s", commands / wall, "1/s"),
        Result("crc_errors", int(crc), "count"),
        Result("telemetry_rate_hz_mean", telemetry_hz, "Hz per robot (periodic + command replies)"),
        Result("machine_load_average_1min", load, "runnable tasks (2 cores)"),
        Result("robots", robots, "count"),
        Result("rate_hz", rate_hz, "Hz"),
        Result("measured_s", wall, "s"),
    ]
