"""The warehouse task, its reward and its PyBullet-measured generative model."""

from __future__ import annotations

import numpy as np
import pytest

from robocoord.sim.config import WarehouseParams
from robocoord.sim.disruptions.spec import DisruptionSpec
from robocoord.sim.tasks.warehouse import WarehouseLayout, WarehouseParallelEnv, WarehouseSim
from robocoord.sim.tasks.warehouse_fit import accumulate, measure_transitions
from robocoord.sim.tasks.warehouse_model import (
    DEFAULT_TRANSITIONS_PATH,
    TaskState,
    WarehouseTransitionModel,
    warehouse_reward,
)

IDLE, TRANSIT, WORKING = TaskState.IDLE, TaskState.TRANSIT, TaskState.WORKING


def test_reward_follows_the_gmfs_robotic_model() -> None:
    s = np.array([IDLE, TRANSIT, WORKING, WORKING, WORKING])
    a = np.array([IDLE, TRANSIT, WORKING, IDLE, WORKING])
    c = np.array([0.0, 0.5, 0.25, 1.0, 0.9])
    L = 1.0
    expected = [10 * 1.0, 5 * 0.5, 20 * 0.75 - 5, 20 * 0.4, 20 * 0.4 - 5]  # floor of 0.4 on the factor
    np.testing.assert_allclose(warehouse_reward(s, a, c, L), expected)


def test_reward_rejects_states_outside_the_three() -> None:
    with pytest.raises(ValueError, match="state"):
        warehouse_reward(np.array([3]), np.array([0]), np.array([0.0]), 1.0)


def test_shipped_transition_table_is_valid_and_documents_its_origin() -> None:
    model = WarehouseTransitionModel.load(DEFAULT_TRANSITIONS_PATH)
    assert model.probs.shape == (3, 3, len(model.congestion_levels), 3)
    np.testing.assert_allclose(model.probs.sum(axis=-1), 1.0)
    assert model.counts.sum() == pytest.approx(model.provenance["samples"], rel=1e-6)
    for key in ("generator", "git_sha", "pybullet", "seed", "params", "created_utc"):
        assert key in model.provenance


def test_measured_crowding_lowers_the_chance_of_reaching_work() -> None:
    """Physical congestion, not a formula: more Working neighbours, fewer robots get to the station."""
    model = WarehouseTransitionModel.load()
    for s in (IDLE, TRANSIT):
        p_reach = model.transition_probs(
            np.array([s, s]), np.array([WORKING, WORKING]), np.array([0.0, 0.4])
        )[:, WORKING]
        assert p_reach[1] < p_reach[0]


def test_sample_next_matches_the_table_and_is_vectorised() -> None:
    model = WarehouseTransitionModel.load()
    rng = np.random.default_rng(0)
    n = 200_000
    s = np.full(n, TRANSIT)
    a = np.full(n, WORKING)
    c = np.full(n, 0.3)
    nxt = model.sample_next(s, a, c, rng)
    assert nxt.shape == (n,) and nxt.dtype == np.int64
    empirical = np.bincount(nxt, minlength=3) / n
    np.testing.assert_allclose(empirical, model.transition_probs(TRANSIT, WORKING, 0.3), atol=0.005)
    # broadcasting: a (2, 3) batch gives a (2, 3) answer
    grid = model.sample_next(np.zeros((2, 3), int), np.ones((2, 3), int), np.full((2, 3), 0.1), rng)
    assert grid.shape == (2, 3)


def test_interpolation_between_congestion_levels_is_linear() -> None:
    model = WarehouseTransitionModel.load()
    lo, hi = model.congestion_levels[1], model.congestion_levels[2]
    mid = model.transition_probs(IDLE, WORKING, 0.5 * (lo + hi))
    ends = 0.5 * (model.transition_probs(IDLE, WORKING, lo) + model.transition_probs(IDLE, WORKING, hi))
    np.testing.assert_allclose(mid, ends)


def test_accumulate_splits_a_sample_between_neighbouring_levels() -> None:
    levels = np.linspace(0.0, 1.0, 6)
    counts = np.zeros((3, 3, 6, 3))
    accumulate(counts, levels, np.array([0]), np.array([2]), np.array([0.3]), np.array([1]))
    np.testing.assert_allclose(counts[0, 2, :, 1], [0, 0.5, 0.5, 0, 0, 0])


def test_measure_transitions_regenerates_a_table_from_pybullet() -> None:
    model = measure_transitions(WarehouseParams(n_robots=16), episodes=1, decisions_per_episode=3, seed=4)
    assert model.counts.sum() == pytest.approx(16 * 3)
    np.testing.assert_allclose(model.probs.sum(axis=-1), 1.0)
    assert model.provenance["episodes"] == 1


def test_model_roundtrips_through_its_file(tmp_path) -> None:
    model = WarehouseTransitionModel.load()
    path = model.save(tmp_path / "t.npz")
    again = WarehouseTransitionModel.load(path)
    np.testing.assert_array_equal(again.probs, model.probs)
    assert again.provenance == model.provenance


def test_layout_latent_positions_and_graphon_follow_the_lattice() -> None:
    layout = WarehouseLayout.build(WarehouseParams(n_robots=64, block_side=4))
    assert layout.latent_positions.min() > 0 and layout.latent_positions.max() < 1
    # robots 0 and 1 share a block, robot 0 and robot 7 (other end of the first row) do not
    w = layout.graphon(layout.latent_positions[[0, 0]], layout.latent_positions[[1, 7]])
    np.testing.assert_array_equal(w, [1.0, 0.0])
    same_block = layout.block_of[:, None] == layout.block_of[None, :]
    full = layout.graphon(layout.latent_positions[:, None, :], layout.latent_positions[None, :, :])
    np.testing.assert_array_equal(full.astype(bool), same_block)


def test_congestion_is_the_working_fraction_of_block_mates() -> None:
    sim = WarehouseSim(WarehouseParams(n_robots=16, block_side=4))
    try:
        states = np.zeros(16, dtype=np.int64)
        states[[0, 1, 2]] = WORKING
        c = sim.congestion(states)
        assert c[0] == pytest.approx(2 / 15)  # itself excluded
        assert c[5] == pytest.approx(3 / 15)
    finally:
        sim.close()


def test_working_action_drives_robots_to_the_station_and_state_follows_position() -> None:
    env = WarehouseParallelEnv(n_robots=4, decision_period_s=2.0)
    try:
        env.reset(seed=0)
        assert np.all(env.task_states == IDLE)
        step = env.step_arrays(np.full(4, WORKING))
        assert np.all(step.state == IDLE)
        assert np.any(step.next_state == WORKING)  # 4 robots, 0.7 m from a shared station
        np.testing.assert_array_equal(step.next_state, env.task_states)
        step = env.step_arrays(np.full(4, IDLE))
        step = env.step_arrays(np.full(4, IDLE))
        assert np.all(step.next_state == IDLE)  # everyone found the way home again
    finally:
        env.close()


def test_parallel_step_observation_exposes_state_congestion_and_latent_position() -> None:
    env = WarehouseParallelEnv(n_robots=9, decision_period_s=1.0)
    try:
        obs, infos = env.reset(seed=0)
        o = obs["robot_4"]
        np.testing.assert_array_equal(o[:3], [1, 0, 0])  # Idle one-hot
        np.testing.assert_allclose(o[4:], env.latent_positions[4])
        assert infos["robot_4"]["task_state"] == IDLE
    finally:
        env.close()


@pytest.mark.slow
def test_warehouse_scales_to_1000_robots() -> None:
    env = WarehouseParallelEnv(n_robots=1000, decision_period_s=0.5)
    try:
        obs, _ = env.reset(seed=0)
        assert len(obs) == 1000
        rng = np.random.default_rng(0)
        step = env.step_arrays(rng.integers(0, 3, 1000))
        assert step.next_state.shape == (1000,)
        assert np.any(step.next_state != IDLE)  # robots left home
    finally:
        env.close()


def test_measure_transitions_under_a_dynamics_disruption_records_it() -> None:
    slow_motors = DisruptionSpec(
        source="dynamics", kind="set", parameter="motor_gain", choices=[0.2], mode="episode"
    )
    nominal = measure_transitions(WarehouseParams(n_robots=16), episodes=1, decisions_per_episode=2, seed=1)
    slowed = measure_transitions(
        WarehouseParams(n_robots=16), episodes=1, decisions_per_episode=2, seed=1, disruptions=[slow_motors]
    )
    assert slowed.provenance["disruptions"][0]["parameter"] == "motor_gain"
    # same seed, same behaviour policy: only the physics differs, and 20 % motors reach less
    reached_work = lambda m: m.counts[:, TaskState.WORKING, :, TaskState.WORKING].sum()  # noqa: E731
    assert reached_work(slowed) < reached_work(nominal)


def test_sampling_from_a_neighbourhood_histogram_uses_its_working_share() -> None:
    model = WarehouseTransitionModel.load()
    n = 10_000
    histogram = np.tile([3.0, 3.0, 4.0], (n, 1))  # counts: 40 % Working
    by_histogram = model.sample_next_from_histogram(
        np.full(n, IDLE), np.full(n, WORKING), histogram, np.random.default_rng(5)
    )
    by_congestion = model.sample_next(
        np.full(n, IDLE), np.full(n, WORKING), np.full(n, 0.4), np.random.default_rng(5)
    )
    np.testing.assert_array_equal(by_histogram, by_congestion)
    with pytest.raises(ValueError, match="histogram"):
        model.sample_next_from_histogram(
            np.array([0]), np.array([0]), np.array([[1.0, 2.0]]), np.random.default_rng(0)
        )
