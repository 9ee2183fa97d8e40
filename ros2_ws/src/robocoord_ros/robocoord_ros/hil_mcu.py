"""Virtual MCUs around a warehouse-shaped PyBullet plant: ``python -m robocoord_ros.hil_mcu``.

The firmware layer's virtual MCU (:class:`robocoord.firmware_bridge.vmcu.VirtualMcuServer`: the
real C firmware per robot on its own pty, one plant, 1 ms ticks) with the plant built from the
fleet inventory: robots start at their inventory home poses, with the warehouse task's body model,
so that a hil run and the pure-sim evaluation of the same artifact crowd at the same stations.

Runs in its own process and imports pybullet there (sim extra) — like ``sim_world``, never in a
ROS node process. Prints the same ``ready`` JSON line as ``robocoord mcu``, so
:class:`robocoord.firmware_bridge.vmcu_client.VirtualMcu` drives it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from robocoord.sim.worlds import ARENAS  # noqa: E402 - names only; pybullet loads inside build_plant


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m robocoord_ros.hil_mcu")
    parser.add_argument("--robot-ids", required=True, help="comma-separated robot ids")
    parser.add_argument(
        "--homes", required=True, help="JSON list of [x_m, y_m, yaw_rad] per robot, world frame"
    )
    parser.add_argument("--body", choices=("disc", "wheeled"), default="disc")
    parser.add_argument("--plant", choices=("pybullet", "kinematic"), default="pybullet")
    parser.add_argument("--tick-ms", type=int, default=1)
    parser.add_argument("--telemetry-period-ms", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--arena",
        choices=ARENAS,
        default="open",
        help="static world around the robots (robocoord.sim.worlds)",
    )
    parser.add_argument(
        "--arena-params",
        default="{}",
        help="JSON: the arena's task parameters (SafeNavParams, TeamPushParams)",
    )
    parser.add_argument(
        "--mocap-objects",
        default="{}",
        help='JSON {name: mocap body id}: stream these movable bodies of the arena too (team_push: {"box": 200})',
    )
    from robocoord.firmware_bridge.vmcu import add_mocap_args

    add_mocap_args(parser)  # the plant's ground-truth poses as a motion-capture stream
    return parser.parse_args(argv)


def build_plant(
    plant: str,
    robot_ids: list[int],
    homes: list[list[float]],
    body: str,
    seed: int,
    arena: str = "open",
    arena_params: dict | None = None,
    objects: dict[str, int] | None = None,
):
    """The plant; ``objects`` (when given) is filled with the arena's movable bodies, name -> PyBullet body id."""
    if plant == "kinematic":
        from robocoord.firmware_bridge.kinematic_plant import KinematicPlant

        kinematic = KinematicPlant(robot_ids)
        kinematic.reset(seed)
        return kinematic
    import numpy as np

    from robocoord.firmware_bridge.pybullet_plant import SubsteppedPlant
    from robocoord.sim.pybullet_plant import PyBulletPlant

    inner = PyBulletPlant(np.asarray(homes, dtype=float), body=body)
    from robocoord.sim.worlds import ARENA_OBJECTS, add_arena

    # the task's walls, obstacles and movable bodies, by the task's own code
    bodies = add_arena(inner.client, arena, arena_params)
    if objects is not None:
        objects.update(zip(ARENA_OBJECTS[arena], bodies, strict=False))
    substepped = SubsteppedPlant(inner, robot_ids, inner.physics_dt_s)
    substepped.reset(seed)
    return substepped


def object_poses(plant, bodies: dict[int, int]):
    """Reader of the arena's movable bodies for the mocap stream: mocap body id -> (x, y, yaw), world frame."""
    from robocoord.sim.tasks.team_push import box_pose_world

    client = plant.inner.client

    def read() -> dict[int, tuple[float, ...]]:
        return {
            mocap_id: tuple(map(float, box_pose_world(client, body))) for mocap_id, body in bodies.items()
        }

    return read


def main(argv: Sequence[str] | None = None) -> int:
    from robocoord.firmware_bridge.vmcu import VirtualMcuServer, mocap_from_args

    args = parse_args(argv)
    robot_ids = [int(x) for x in args.robot_ids.split(",")]
    homes = json.loads(args.homes)
    if len(homes) != len(robot_ids) or any(len(h) != 3 for h in homes):
        print(f"--homes: need one [x, y, yaw] per robot ({len(robot_ids)})", file=sys.stderr)
        return 2
    try:
        mocap = mocap_from_args(args)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    directory = Path(tempfile.mkdtemp(prefix="rc-hil-"))
    if args.arena != "open" and args.plant != "pybullet":
        print(f"--arena {args.arena}: needs --plant pybullet", file=sys.stderr)
        return 2
    streamed: dict[str, int] = json.loads(args.mocap_objects)
    bodies: dict[str, int] = {}
    plant = build_plant(
        args.plant, robot_ids, homes, args.body, args.seed, args.arena, json.loads(args.arena_params), bodies
    )
    missing = sorted(set(streamed) - set(bodies))
    if missing:
        print(
            f"--mocap-objects: {missing} not in the {args.arena} arena (it has {sorted(bodies)})",
            file=sys.stderr,
        )
        return 2
    tracked = {int(mocap_id): bodies[name] for name, mocap_id in streamed.items()}
    server = VirtualMcuServer(
        robot_ids,
        plant,
        directory,
        args.tick_ms,
        args.telemetry_period_ms,
        mocap,
        mocap_objects=object_poses(plant, tracked) if tracked else None,
    )

    def stop(_signum: int, _frame: object) -> None:
        server.running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        ready = server.start()
        ready["plant"] = f"{args.plant}:{args.body}"
        sys.stdout.write(json.dumps(ready) + "\n")
        sys.stdout.flush()
        server.run()
    finally:
        server.close()
        with contextlib.suppress(OSError):
            directory.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
