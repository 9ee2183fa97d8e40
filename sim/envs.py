"""Environment ids. Importing this module registers them (idempotent).

* ``robocoord/SafeNav-v0`` — a ``gymnasium.Env``: ``gymnasium.make("robocoord/SafeNav-v0")``.
* ``robocoord/Warehouse-v0``, ``robocoord/TeamPush-v0`` — PettingZoo ``ParallelEnv``s.
  Gymnasium's ``make`` wraps single-agent envs only, so these live in
  :data:`PARALLEL_ENVS` under the same id scheme; :func:`make` builds any of the three.
"""

from __future__ import annotations

import importlib
from typing import Any

import gymnasium

SAFE_NAV_ID = "robocoord/SafeNav-v0"
WAREHOUSE_ID = "robocoord/Warehouse-v0"
TEAM_PUSH_ID = "robocoord/TeamPush-v0"

PARALLEL_ENVS: dict[str, str] = {
    WAREHOUSE_ID: "robocoord.sim.tasks.warehouse:WarehouseParallelEnv",
    TEAM_PUSH_ID: "robocoord.sim.tasks.team_push:TeamPushParallelEnv",
}
TASK_IDS = {"safe_nav": SAFE_NAV_ID, "warehouse": WAREHOUSE_ID, "team_push": TEAM_PUSH_ID}


def register_envs() -> None:
    if SAFE_NAV_ID not in gymnasium.registry:
        gymnasium.register(id=SAFE_NAV_ID, entry_point="robocoord.sim.tasks.safe_nav:SafeNavEnv")


def make(env_id: str, **kwargs: Any) -> Any:
    """Build a registered env by id (or by task name: ``warehouse``, ``team_push``, ``safe_nav``)."""
    env_id = TASK_IDS.get(env_id, env_id)
    if env_id in PARALLEL_ENVS:
        module_name, _, class_name = PARALLEL_ENVS[env_id].partition(":")
        return getattr(importlib.import_module(module_name), class_name)(**kwargs)
    if env_id == SAFE_NAV_ID:
        return gymnasium.make(env_id, **kwargs)
    known = ", ".join(sorted([*PARALLEL_ENVS, SAFE_NAV_ID]))
    raise KeyError(f"env id {env_id!r} is not registered; known: {known}")


register_envs()
