"""safe_nav cost channels and its PyBullet-estimated finite abstraction."""

from __future__ import annotations

import numpy as np
import pytest

from robocoord.sim.config import SafeNavParams
from robocoord.sim.tasks.safe_nav import COST_NAMES, SafeNavEnv
from robocoord.sim.tasks.safe_nav_abstraction import SafeNavAbstraction, estimate_abstraction

HAZARD, COLLISION, OVERSPEED = range(3)
EAST, NORTH, WEST, SOUTH, DASH_EAST = 1, 2, 3, 4, 5


@pytest.fixture
def env() -> SafeNavEnv:
    e = SafeNavEnv()
    yield e
    e.close()


def test_has_at_least_two_cost_channels(env: SafeNavEnv) -> None:
    env.reset(seed=0)
    info = env.step(EAST)[4]
    assert len(COST_NAMES) >= 2 and info["cost"].shape == (len(COST_NAMES),)
    assert np.all((info["cost"] >= 0) & (info["cost"] <= 1))


def test_dash_costs_overspeed_and_cruise_does_not(env: SafeNavEnv) -> None:
    env.reset(seed=0, options={"pose_world": (0.25, 0.25, 0.0)})
    assert env.step(EAST)[4]["cost"][OVERSPEED] == 0.0
    env.reset(seed=0, options={"pose_world": (0.25, 0.25, 0.0)})
    assert env.step(DASH_EAST)[4]["cost"][OVERSPEED] > 0.0


def test_entering_the_hazard_zone_costs(env: SafeNavEnv) -> None:
    centre = env.layout.cell_center_m(1, 2)  # the hazard starts at cell (2, 2) for G = 6
    env.reset(seed=0, options={"pose_world": (*centre, 0.0)})
    cost = env.step(EAST)[4]["cost"]
    assert cost[HAZARD] > 0.0 and cost[COLLISION] == 0.0


def test_driving_into_a_wall_costs_collision(env: SafeNavEnv) -> None:
    env.reset(seed=0, options={"pose_world": (0.25, 0.25, np.pi)})  # facing the west wall
    plant = env.plant
    plant.apply(0, [8.0, 8.0])  # straight ahead, past the cell-centre target
    for _ in range(30):
        plant.step(0.05)
    assert env._cost_indicators()[COLLISION] == 1.0


def test_reaching_the_goal_terminates_with_bonus(env: SafeNavEnv) -> None:
    goal = env.layout.cell_center_m(*env.layout.goal_cell)
    env.reset(seed=0, options={"pose_world": (goal[0] - 0.5, goal[1], 0.0)})
    _, reward, terminated, truncated, _ = env.step(EAST)
    assert terminated and not truncated and reward > 10.0


def test_shipped_abstraction_is_a_valid_kernel() -> None:
    abstraction = SafeNavAbstraction.load()
    g = abstraction.params.grid_cells
    S, A = abstraction.n_states, abstraction.n_actions
    assert (S, A) == (g * g, 9)
    np.testing.assert_allclose(abstraction.P.sum(axis=-1), 1.0)
    assert abstraction.R.shape == (S, A) and abstraction.C.shape == (len(COST_NAMES), S, A)
    goal = abstraction.goal_state
    np.testing.assert_array_equal(abstraction.P[goal, :, goal], 1.0)
    assert np.all(abstraction.C[:, goal] == 0.0)
    assert abstraction.counts[abstraction.start_state].sum() > 0
    assert "git_sha" in abstraction.provenance and "samples_per_pair" in abstraction.provenance


def test_shipped_abstraction_reflects_the_physics() -> None:
    abstraction = SafeNavAbstraction.load()
    hazard = abstraction.hazard_states
    safe = np.setdiff1d(np.arange(abstraction.n_states), [*hazard, abstraction.goal_state])
    stay = 0
    # staying inside a hazard cell costs, staying in a safe cell does not
    assert abstraction.C[HAZARD, hazard, stay].mean() > 0.9
    assert abstraction.C[HAZARD, safe, stay].max() == 0.0
    # dashing is over the speed limit far more often than cruising
    assert abstraction.C[OVERSPEED, :, 5:].mean() > 5 * abstraction.C[OVERSPEED, :, 1:5].mean()
    # from the start cell, moving east mostly lands one cell east
    start = abstraction.start_state
    east_of_start = start + abstraction.params.grid_cells
    assert abstraction.P[start, EAST, east_of_start] > 0.5


def test_estimate_abstraction_regenerates_from_pybullet(tmp_path) -> None:
    params = SafeNavParams(grid_cells=4, decision_period_s=0.5)
    abstraction = estimate_abstraction(params, samples_per_pair=1, seed=0)
    assert abstraction.P.shape == (16, 9, 16)
    assert abstraction.counts.sum() == 15 * 9  # every non-goal (cell, action) once
    again = SafeNavAbstraction.load(abstraction.save(tmp_path / "k.npz"))
    np.testing.assert_array_equal(again.P, abstraction.P)
    assert again.params == params
