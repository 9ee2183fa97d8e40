"""``robocoord eval`` for family "drigm": decentralised greedy execution of the artifact on its task.

Runs :class:`~robocoord.controllers.drigm_executor.DrigmTeamExecutor` (onnxruntime, every robot
with its own hidden state and previous action) — exactly what the robots run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from robocoord.config import StrictModel
from robocoord.training.drigm.config import EnvSpec


class ShiftFile(StrictModel):
    """A drigm shift file for the tiny game: ``kind`` is not used; ``params`` override the task's."""

    params: dict[str, float]


def _stderr(values: np.ndarray) -> float:
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


def evaluate_artifact(
    *,
    artifact: Path | str,
    task: str | None = None,
    robots: int | None = None,
    disruptions: Path | str | None = None,
    episodes: int = 5,
    seed: int = 0,
    seconds: float | None = None,
    params: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Mean team return of the artifact over ``episodes`` episodes (metrics dict of ``robocoord eval``)."""
    from robocoord.controllers.drigm_executor import DrigmTeamExecutor
    from robocoord.controllers.policy import PolicyRuntime
    from robocoord.training.drigm.tasks import check_team_size, make_task

    runtime = PolicyRuntime(artifact)
    fp = runtime.contract.family_params
    trained_task = str(fp.get("task", "tiny"))
    task = task or trained_task
    if task != trained_task:
        raise ValueError(f"task: the artifact was trained on {trained_task!r}, got {task!r}")
    n_agents = int(fp["n_agents"])
    robots = robots or n_agents
    check_team_size(task, robots)
    executor = DrigmTeamExecutor(runtime, n_agents=robots)
    steps = int(fp.get("episode_steps", 20))
    if seconds is not None:
        steps = max(1, int(round(seconds * runtime.contract.control_rate_hz)))
    env = EnvSpec(task=task, n_agents=robots, episode_steps=steps, params=dict(fp.get("env_params", {})))
    variant = dict(params or {})
    if disruptions is not None and task == "team_push":
        from robocoord.training.drigm.team_push_task import TeamPushTask

        sim: Any = TeamPushTask(env, 1, disruptions=disruptions)
    else:
        if disruptions is not None:
            variant.update(_tiny_shift_params(Path(disruptions)))
        sim = make_task(env, 1)
    sim.set_variants([variant])
    returns, successes, to_goal = [], [], []
    for episode in range(episodes):
        obs, _ = sim.reset(episode_seed(seed, episode))
        executor.reset()
        total, done, taken = 0.0, False, 0
        for _ in range(steps):
            actions = executor.act(obs[0])
            obs, _, reward, terminated, truncated = sim.step(actions[None, :])
            total += float(reward[0])
            taken += 1
            if bool(terminated[0] or truncated[0]):
                done = True
                break
        returns.append(total)
        successes.append(bool(sim.success()[0]) if done else False)
        to_goal.append(taken if successes[-1] else None)
    sim.close()
    arr = np.asarray(returns)
    return {
        "episodes": episodes,
        "return_mean": float(arr.mean()),
        "return_stderr": _stderr(arr),
        "cost_mean": None,
        "violations": None,
        "success_rate": float(np.mean(successes)),
        # decisions taken until the goal was reached, per episode (None: not reached)
        "decisions_to_goal": to_goal,
        "task": task,
        "robots": robots,
        "mixer": fp.get("mixer"),
        "robust": fp.get("robust"),
        "rho": fp.get("rho"),
    }


def episode_seed(seed: int, episode: int) -> int:
    """The task-reset seed of ``episode`` in an evaluation with ``seed`` (team_push env slot 0 resets with
    ``episode_seed * 1009``: :class:`~robocoord.training.drigm.team_push_task.TeamPushTask`)."""
    return seed * 1_000_003 + episode


def _tiny_shift_params(path: Path) -> dict[str, float]:
    import yaml

    from robocoord.config import validate_data

    data = yaml.safe_load(path.read_text()) if path.is_file() else None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with 'params:' (tiny-game shift file)")
    data.pop("kind", None)
    return dict(validate_data(ShiftFile, data, str(path)).params)
