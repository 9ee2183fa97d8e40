"""Simulation speed benchmark; same as ``robocoord bench sim``.

    python benchmarks/bench_sim.py [--json] [--quick]

With ``--json`` stdout carries exactly one JSON object (robocoord.benchjson format);
PyBullet's banner goes to stderr. See ``robocoord.sim.bench`` for what is timed.
"""

from __future__ import annotations

import argparse

from robocoord.benchjson import bench_document, emit, json_stdout, print_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--quick", action="store_true", help="short timing windows (smoke test only)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with json_stdout(args.json) as out:
        from robocoord.sim.bench import run_bench

        document = bench_document("sim", run_bench(quick=args.quick, seed=args.seed))
        if args.json:
            emit(document, out)
        else:
            print_table(document, out)


if __name__ == "__main__":
    main()
