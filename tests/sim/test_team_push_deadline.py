"""team_push's deadline variant: a near bay delivered by letting go of the box, a tight delivery window.

The variant exists so that a shift can make a choice risky (the DrIGM OOD study on it:
``training/drigm/configs/study_team_push_deadline.yaml``). These tests pin its rules in the sim, that the
robot-side runtime applies the same rule, and that the choice is real: the far goal is worth more
nominally, the near bay under a shift that slows the team.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from robocoord.controllers.team_push import TeamPushSpec, delivered_to
from robocoord.sim.config import TeamPushParams
from robocoord.sim.tasks.team_push import (
    PROGRESS_REWARD_PER_M,
    STEP_PENALTY,
    TeamPushParallelEnv,
    delivery,
    task_spec,
)
from robocoord.training.drigm.config import EnvSpec
from robocoord.training.drigm.team_push_task import TeamPushTask

FORWARD, STOP = 1, 0
# the study's task (training/drigm/configs/study_team_push_deadline.yaml)
DEADLINE = {"goal_distance_m": 2.5, "near_bay_m": 1.0, "near_bay_bonus": 22.8, "decision_period_s": 0.5}
WINDOW = 14


def _episode(
    env: TeamPushParallelEnv, stop_at_x_m: float | None, seed: int = 0
) -> tuple[float, str | None, int]:
    """Both robots push forward; they stop once the box passed ``stop_at_x_m`` (None: never).

    Returns (team return, where delivered, decisions)."""
    env.reset(seed=seed)
    total, where, decisions = 0.0, None, 0
    while env.agents:
        push = stop_at_x_m is None or env.box_pose_world()[0] < stop_at_x_m
        action = FORWARD if push else STOP
        _, reward, _, _, info = env.step({a: action for a in env.agents})
        total += reward["robot_0"]
        where = info["robot_0"]["delivered_to"]
        decisions += 1
    return total, where, decisions


def test_letting_go_in_the_near_bay_delivers_there_and_pays_as_at_the_bay_centre() -> None:
    # 0.25 s decisions (0.11 m of push each), so the two release points below differ
    params = TeamPushParams(n_robots=2, max_decisions=2 * WINDOW, **{**DEADLINE, "decision_period_s": 0.25})
    env = TeamPushParallelEnv(params=params)
    try:
        rest_x_m = []
        for stop_at in (0.8, 0.95):  # two release points inside the bay: the same pay
            total, where, decisions = _episode(env, stop_at)
            assert where == "near_bay"
            expected = PROGRESS_REWARD_PER_M * 1.0 + 22.8 - STEP_PENALTY * decisions
            assert total == pytest.approx(expected, abs=1e-6)
            rest_x_m.append(env.box_pose_world()[0])
        assert abs(rest_x_m[1] - rest_x_m[0]) > 0.05
        total, where, decisions = _episode(env, None)  # pushing through the bay does not deliver there
        assert where == "goal" and decisions <= 2 * WINDOW
    finally:
        env.close()


def test_without_a_near_bay_stopping_early_delivers_nothing() -> None:
    env = TeamPushParallelEnv(params=TeamPushParams(n_robots=2, max_decisions=8, goal_distance_m=2.5))
    try:
        _, where, decisions = _episode(env, 0.9)
        assert where is None and decisions == 8  # truncated by the window, never terminated
    finally:
        env.close()


def test_robot_side_delivery_rule_is_the_sims() -> None:
    params = TeamPushParams(n_robots=2, **DEADLINE)
    spec = TeamPushSpec.from_spec(task_spec(params))
    rng = np.random.default_rng(3)
    seen: set[str | None] = set()
    for _ in range(4000):
        box = rng.uniform((0.6, -0.2), (2.6, 0.2))
        previous = box - rng.uniform(-0.08, 0.08, 2)
        where = delivery(params, box, previous)
        seen.add(where)
        assert delivered_to(spec, box, previous) == where
    assert seen == {None, "goal", "near_bay"}


def test_old_contracts_without_a_near_bay_still_load() -> None:
    data = task_spec(TeamPushParams(n_robots=2))
    for key in ("near_bay_xy_m", "near_bay_bonus", "bay_settle_m"):
        data.pop(key)
    spec = TeamPushSpec.from_spec(data)
    assert spec.near_bay_xy_m is None
    assert delivered_to(spec, (1.0, 0.0), (1.0, 0.0)) is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"goal_distance_m": 1.5, "near_bay_m": 1.4}, "near_bay_m"),  # the bay would overlap the goal
        ({"near_bay_bonus": 5.0}, "near_bay_bonus"),  # a bonus for a bay that does not exist
        ({"near_bay_m": 1.0, "near_bay_bonus": -1.0}, "near_bay_bonus"),
    ],
)
def test_bad_near_bay_parameters_are_named(overrides: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        TeamPushParams(n_robots=2, **overrides)


def _mean_return(task: TeamPushTask, variant: dict[str, float], stop_at_x_m: float | None) -> float:
    task.set_variants([variant] * task.n_envs)
    task.reset(seed=5)
    total = np.zeros(task.n_envs)
    while not task._done.all():  # noqa: SLF001 - the test drives whole episodes
        pushing = [stop_at_x_m is None or core.box_pose_world()[0] < stop_at_x_m for core in task.cores]
        actions = np.array([[FORWARD if p else STOP] * task.n_agents for p in pushing])
        total += task.step(actions)[2]
    return float(total.mean())


def test_the_deadline_variant_is_a_real_choice() -> None:
    """Nominally the far goal beats the near bay (by < 5 %); when the motors are 30 % weaker, the far plan
    misses the window and the near bay is worth much more. A learner has to weigh the two."""
    task = TeamPushTask(
        EnvSpec(task="team_push", n_agents=2, episode_steps=WINDOW, params=DEADLINE), n_envs=2
    )
    try:
        far, near = _mean_return(task, {}, None), _mean_return(task, {}, 0.85)
        assert 0.95 * far < near < far
        weak_far = _mean_return(task, {"motor_gain": 0.7}, None)
        weak_near = _mean_return(task, {"motor_gain": 0.7}, 0.85)
        assert weak_near > 1.5 * weak_far
    finally:
        task.close()
