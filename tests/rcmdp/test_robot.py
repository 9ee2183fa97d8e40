"""safe_nav pieces: radius calibration, the abstraction as a CMDP, and a short real PyBullet evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from robocoord.training.export import make_provenance
from robocoord.training.rcmdp.evaluate import cell_from_observation, evaluate_artifact
from robocoord.training.rcmdp.export import export_tabular
from robocoord.training.rcmdp.mdp import RcmdpInputError
from robocoord.training.rcmdp.robot import ACTION_MEANINGS, calibrate_tv_radius, safe_nav_problem


def test_tv_radius_is_the_quantile_of_per_pair_distances_ignoring_the_goal():
    P0 = np.zeros((3, 2, 3))
    P0[:, :, 0] = 1.0
    Pd = P0.copy()
    Pd[0, 0] = [0.8, 0.2, 0.0]  # TV 0.2
    Pd[1, 1] = [0.6, 0.0, 0.4]  # TV 0.4
    Pd[2, :] = [0.0, 0.0, 1.0]  # goal row: ignored
    assert calibrate_tv_radius(P0, Pd, goal=2, quantile=1.0) == pytest.approx(0.4)
    assert calibrate_tv_radius(P0, Pd, goal=2, quantile=0.5) == pytest.approx(0.1)


def _kernel(S: int = 4, A: int = 9) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    P[S - 1] = 0.0
    P[S - 1, :, S - 1] = 1.0
    return {
        "P": P,
        "R": rng.normal(size=(S, A)),
        "C": rng.uniform(size=(3, S, A)),
        "start": np.array(0),
        "goal": np.array(S - 1),
    }


def test_abstraction_becomes_a_cmdp_with_free_absorbing_goal():
    problem = safe_nav_problem(_kernel(), 0.95, [1.0, 1.0, 1.0])
    assert problem.K == 3 and problem.cost_names[1:] == ("hazard", "collision", "overspeed")
    assert problem.costs[0].min() >= 0 and problem.costs[0].max() <= 1
    assert (problem.costs[0, 3] == 0).all()
    with pytest.raises(RcmdpInputError, match="budgets: safe_nav has 3 cost channels, got 2"):
        safe_nav_problem(_kernel(), 0.95, [1.0, 1.0])


def test_cell_from_observation_matches_the_sim_indexing():
    # x = 1.2 m, y = 2.9 m in a 6 × 0.5 m arena: cell (2, 5) -> 2·6 + 5
    assert cell_from_observation(np.array([1.2 / 3.0, 2.9 / 3.0]), 6) == 17
    assert cell_from_observation(np.array([-0.1, 1.3]), 6) == 5  # clipped into the arena


@pytest.mark.slow
def test_evaluate_artifact_runs_the_policy_in_pybullet(tmp_path):
    G = 6
    S = G * G
    policy = np.zeros((S, 9))
    policy[:, 1] = 1.0  # always "east"
    q = np.zeros((3, S, 9))
    q[1, :, 1] = 100.0  # the collision cost-to-go of "east" exceeds any budget: the shield must veto it
    exported = export_tabular(
        policy,
        q,
        [1.0, 1.0, 1.0],
        0.95,
        tmp_path / "east.onnx",
        action_meanings=ACTION_MEANINGS,
        safe_action=0,
        control_rate_hz=1 / 1.5,
        provenance=make_provenance("rcmdp-test", git_sha="test"),
        extra_params={"task": "safe_nav", "robust": True, "grid_cells": G, "cell_size_m": 0.5},
    )
    shielded = evaluate_artifact(artifact=exported.path, episodes=1, seed=0, seconds=3.0)
    assert shielded["episodes"] == 1 and shielded["shield"] is True
    assert shielded["shield_interventions"] == 2  # 2 decisions of 1.5 s, both vetoed
    plain = evaluate_artifact(artifact=exported.path, episodes=1, seed=0, seconds=3.0, shield=False)
    assert plain["shield_interventions"] == 0
    assert plain["return_mean"] != shielded["return_mean"]  # moving east changes the goal distance
