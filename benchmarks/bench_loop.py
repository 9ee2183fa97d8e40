"""Loop benchmark: ``python benchmarks/bench_loop.py [--robots 10 --rate 100 --seconds 60] [--json]``.

The same as ``robocoord bench loop``: N robots over virtual MCUs (reference firmware on ptys),
serial bridges and policy controllers in one rclpy process; reports telemetry-in -> command-out
latency p50/p99 (``loop_latency_ms_p50``, ``loop_latency_ms_p99``), ``deadline_misses`` and
``cpu_percent`` in the JSON convention of ``robocoord.benchjson``.
"""

from __future__ import annotations

import os
import sys

from robocoord.cli.main import app

if __name__ == "__main__":
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    sys.exit(app(["bench", "loop", *sys.argv[1:]]))
