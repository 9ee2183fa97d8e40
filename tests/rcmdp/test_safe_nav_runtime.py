"""The robot side of a safe_nav ``rcmdp`` policy (controllers/safe_nav.py): the arena from the contract is
the sim's arena, the cost channels of a pose, and an episode behind the shield with its cost accounting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from robocoord.controllers.policy import PolicyRuntime
from robocoord.controllers.safe_nav import ArenaSpecError, RcmdpAgent, SafeNavArena
from robocoord.controllers.shield import SafetyShield
from robocoord.sim.config import SafeNavParams
from robocoord.sim.tasks.safe_nav import ACTION_OFFSETS, SafeNavEnv, SafeNavLayout, arena_spec

S, A, DASH_EAST, EAST, STAY = 36, 9, 5, 1, 0


@pytest.fixture(scope="module")
def arena() -> SafeNavArena:
    return SafeNavArena.from_spec(arena_spec(SafeNavParams()))


def test_the_contracts_arena_is_the_sims(arena: SafeNavArena):
    layout = SafeNavLayout(SafeNavParams())
    rng = np.random.default_rng(0)
    for x, y in rng.uniform(-0.2, layout.arena_size_m + 0.2, size=(500, 2)):
        cell = layout.cell_of(np.array([x, y]))
        assert arena.cell_of(x, y) == cell
        assert arena.cell_index(cell) == layout.cell_index(cell)
        assert bool(arena.cost_indicators(x, y, 0.0)[0]) == bool(layout.hazard[cell])
    env = SafeNavEnv()
    try:
        for cell in [(0, 0), (2, 3), (5, 5), (0, 5)]:
            for action in range(A):
                x, y, speed = arena.target(action, cell)
                assert (x, y) == pytest.approx(tuple(env.target_for(action, cell)))
                assert speed == (0.65 if action >= 5 else 0.3)
    finally:
        env.close()
    assert arena.action_offsets == tuple(map(tuple, ACTION_OFFSETS.tolist()))


def test_cost_channels_of_a_pose(arena: SafeNavArena):
    assert arena.cost_indicators(0.75, 0.25, 0.2) == (0.0, 0.0, 0.0)  # open floor, slow
    assert arena.cost_indicators(1.25, 1.25, 0.2) == (1.0, 0.0, 0.0)  # centre of the hazard zone
    assert arena.cost_indicators(0.75, 0.25, 0.5) == (0.0, 0.0, 1.0)  # above the 0.35 m/s limit
    assert arena.cost_indicators(0.05, 1.0, 0.0)[1] == 1.0  # against the west wall
    px, py, pr = arena.pillars_m[0]
    assert arena.cost_indicators(px + pr + 0.05, py, 0.0)[1] == 1.0  # bumper on a pillar
    assert arena.cost_indicators(px + pr + 0.2, py, 0.0)[1] == 0.0


def test_a_contract_without_an_arena_is_refused():
    spec = arena_spec(SafeNavParams())
    del spec["walls_m"]
    with pytest.raises(ArenaSpecError, match="arena.walls_m missing"):
        SafeNavArena.from_spec(spec)


@pytest.fixture(scope="module")
def dasher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """π always dashes east; its constraint table makes a dash cost 1 of overspeed-to-go (budget 0.5)."""
    from robocoord.training.export import make_provenance
    from robocoord.training.rcmdp.export import export_tabular

    policy = np.full((S, A), 1e-6)
    policy[:, DASH_EAST] = 1.0
    policy /= policy.sum(axis=1, keepdims=True)
    q = np.zeros((3, S, A))
    q[2, :, 5:] = 1.0  # dashing: overspeed to go
    q[2, :, STAY] = 0.2  # standing still costs time near the limit: east at cruise is the safest move
    return export_tabular(
        policy,
        q,
        [5.0, 2.0, 0.5],
        0.95,
        tmp_path_factory.mktemp("rcmdp") / "dasher.onnx",
        action_meanings=[f"a{i}" for i in range(A)],
        safe_action=STAY,
        control_rate_hz=1 / 1.5,
        provenance=make_provenance("rcmdp"),
        extra_params={"task": "safe_nav", "robust": True, "arena": arena_spec(SafeNavParams())},
    ).path


def test_shield_vetoes_the_dash_and_the_costs_are_accounted(dasher: Path, arena: SafeNavArena):
    runtime = PolicyRuntime(dasher)
    agent = RcmdpAgent(runtime, arena, SafetyShield.from_contract(runtime.contract), np.random.default_rng(0))
    action, vetoed = agent.decide(0.25, 0.25)
    assert (action, vetoed) == (EAST, True)  # the dash would overshoot the overspeed budget
    assert arena.target(action, (0, 0)) == pytest.approx((0.75, 0.25, 0.3))
    for _ in range(20):  # half the decision's ticks too fast, half in the hazard-free open
        agent.observe_tick(0.5, 0.25, 0.5)
    for _ in range(10):
        agent.observe_tick(0.7, 0.25, 0.2)
    agent.decide(0.75, 0.25)
    assert agent.discounted_cost == pytest.approx([0.0, 0.0, 20 / 30])
    assert agent.shield is not None and agent.shield.t == 1
    for _ in range(30):
        agent.observe_tick(1.25, 1.25, 0.0)  # a whole decision in the hazard zone
    agent.decide(1.25, 1.25)
    assert agent.discounted_cost == pytest.approx([0.95, 0.0, 20 / 30])
    assert agent.violated() == [False, False, True]  # 0.67 > 0.5 of overspeed
    assert agent.cells_visited == {(0, 0), (1, 0), (2, 2)}


def test_the_episode_ends_at_the_goal_with_the_safe_action(dasher: Path, arena: SafeNavArena):
    runtime = PolicyRuntime(dasher)
    agent = RcmdpAgent(runtime, arena, None, np.random.default_rng(0))
    assert agent.decide(0.25, 0.25) == (DASH_EAST, False)  # no shield: π's own choice
    gx, gy = arena.cell_center_m(arena.goal_cell)
    assert agent.decide(gx, gy) == (STAY, False)
    assert agent.reached_goal and agent.done and agent.decisions == 1
