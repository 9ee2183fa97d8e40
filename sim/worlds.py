"""Static task worlds added to a running PyBullet world by name: what the hil plant (virtual MCUs) and the
``sim_world`` node build around their robots, so both carry the same walls and obstacles as the task.

``add_arena(client, "safe_nav", {"grid_cells": 6, ...})`` builds safe_nav's walls and pillars with the
task's own code; ``"team_push"`` adds the task's box at the origin (a movable body, tracked as a mocap
object named ``"box"`` in hil: :data:`ARENA_OBJECTS`); ``"open"`` adds nothing (the warehouse floor).
"""

from __future__ import annotations

from typing import Any

ARENAS = ("open", "safe_nav", "team_push")
# names of the movable bodies an arena creates, in the order add_arena returns them
ARENA_OBJECTS: dict[str, tuple[str, ...]] = {"open": (), "safe_nav": (), "team_push": ("box",)}


def object_pose_world(client: int, body: int) -> tuple[float, float, float]:
    """(x [m], y [m], yaw [rad]) of an arena body, world frame (what a mocap system would report)."""
    import pybullet as pb

    from robocoord.sim.pybullet_plant import yaw_of_quaternion

    (x, y, _), orientation = pb.getBasePositionAndOrientation(body, physicsClientId=client)
    return float(x), float(y), float(yaw_of_quaternion(orientation))


def add_arena(client: int, arena: str, params: dict[str, Any] | None = None) -> list[int]:
    """Add ``arena`` to PyBullet world ``client``; returns the bodies it created. ``params`` are the task's."""
    if arena == "open":
        return []
    if arena == "safe_nav":
        from robocoord.sim.config import SafeNavParams
        from robocoord.sim.tasks.safe_nav import SafeNavLayout, build_obstacles

        return [build_obstacles(client, SafeNavLayout(SafeNavParams(**(params or {}))))]
    if arena == "team_push":
        from robocoord.sim.config import TeamPushParams
        from robocoord.sim.tasks.team_push import build_box

        return [build_box(client, TeamPushParams(**(params or {})))]
    raise ValueError(f"arena: {arena!r} is not one of {', '.join(ARENAS)}")
