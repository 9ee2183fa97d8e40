"""Soak: a long ``hil`` run (default 10 min) of the 8-robot inventory.

``python benchmarks/soak_hil.py [--minutes 10] [--warmup-s 60] [--json]``

Reports, in the JSON convention of ``robocoord.benchjson``: resident memory growth of the ROS host
process and of the virtual MCU process after warm-up (``rss_growth_percent``,
``mcu_rss_growth_percent``; goal ≤ 5 %), and serial frames lost in either direction beyond those
the receiver counted as corrupt (``lost_frames``; goal 0), comparing the firmware's own frame
counters with the host link's. The policy is the small linear GMFS artifact of the loop benchmark
(no torch needed), deciding at 0.5 Hz like the demo's.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def rss_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("VmRSS not found")


def counters(session) -> dict[int, dict[str, int]]:
    """Frame counters of both ends of every link, taken back to back."""
    status = session.prepared.mcus.status()["robots"]
    out = {}
    for bridge in session.runtime.nodes_of("serial_bridge"):
        stats = bridge.link.stats()
        fw = status[str(bridge.robot_id)]["firmware"]
        out[bridge.robot_id] = {
            "fw_tx": fw["tx_frames"],
            "fw_rx": fw["rx_frames"],
            "fw_crc": fw["crc_errors"],
            "fw_framing": fw["framing_errors"],
            "host_in": stats.frames_in,
            "host_out": stats.frames_out,
            "host_crc": stats.crc_errors,
            "host_framing": stats.framing_errors,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--warmup-s", type=float, default=60.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

    from robocoord.benchjson import Result, bench_document, emit, json_stdout, print_table
    from robocoord_ros.bench import build_linear_gmfs_artifact
    from robocoord_ros.demo import default_inventory
    from robocoord_ros.inventory import load_inventory
    from robocoord_ros.session import FleetSession

    with json_stdout(args.json) as out:
        artifact = build_linear_gmfs_artifact(Path(tempfile.mkdtemp()) / "policy.onnx", control_rate_hz=0.5)
        session = FleetSession.open(load_inventory(default_inventory()), artifact=artifact, record=False)
        mcu_pid = session.prepared.mcus.process.pid
        try:
            session.run(args.warmup_s, live=False)
            host0, mcu0 = rss_kib(), rss_kib(mcu_pid)
            before = counters(session)
            samples = []
            end = time.monotonic() + 60.0 * args.minutes
            while time.monotonic() < end:
                session.run(min(10.0, max(0.0, end - time.monotonic())), live=False)
                samples.append((rss_kib(), rss_kib(mcu_pid)))
            host1, mcu1 = samples[-1] if samples else (host0, mcu0)
            after = counters(session)
            lost = crc = 0
            for rid, end_counts in after.items():
                d = {k: end_counts[k] - before[rid][k] for k in end_counts}
                # firmware -> host: every frame sent during the soak arrived intact or was counted as corrupt
                # (4 frames of slack: in flight at either snapshot)
                lost += max(0, d["fw_tx"] - d["host_in"] - d["host_crc"] - d["host_framing"] - 4)
                # host -> firmware, the same the other way round
                lost += max(0, d["host_out"] - d["fw_rx"] - d["fw_crc"] - d["fw_framing"] - 4)
                crc += d["host_crc"] + d["fw_crc"]
        finally:
            summary = session.close()
        results = [
            Result(
                "rss_growth_percent", 100.0 * (host1 - host0) / host0, "% after warm-up (ROS host process)"
            ),
            Result("mcu_rss_growth_percent", 100.0 * (mcu1 - mcu0) / mcu0, "% after warm-up (virtual MCU)"),
            Result("rss_after_warmup_mib", host0 / 1024.0, "MiB"),
            Result("lost_frames", int(lost), "frames not accounted for by CRC/framing errors"),
            Result("crc_errors", int(crc), "count"),
            Result("minutes", args.minutes, "min"),
            Result("decisions", sum(r["decisions"] for r in summary["robots"]), "count"),
        ]
        document = bench_document("soak_hil", results)
        if args.json:
            emit(document, out)
        else:
            print_table(document, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
