"""Run-time shield: vetoes actions whose worst-case cost-to-go exceeds the remaining budget, logs each veto."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from robocoord.controllers.policy import PolicyRuntime
from robocoord.controllers.shield import SafetyShield, ShieldConfigError, state_from_observation
from robocoord.training.export import make_provenance
from robocoord.training.rcmdp.benchmarks import river_swim
from robocoord.training.rcmdp.export import export_tabular
from robocoord.training.rcmdp.rnpg import rnpg
from robocoord.training.rcmdp.uncertainty import KlPenalty, robust_evaluate

# two constraints, one state, three actions: action 0 cheap, 1 expensive on c1, 2 expensive on c2
Q = np.array([[[1.0, 5.0, 1.0]], [[1.0, 1.0, 5.0]]])


def test_admissible_action_passes_untouched():
    shield = SafetyShield(Q, budgets=[6.0, 6.0], gamma=0.9)
    decision = shield.filter(0, 1)
    assert decision.action == 1 and not decision.vetoed
    assert shield.interventions == []


def test_veto_substitutes_safest_admissible_action_and_logs(caplog):
    shield = SafetyShield(Q, budgets=[4.0, 6.0], gamma=0.9)
    with caplog.at_level(logging.WARNING, logger="robocoord.shield"):
        decision = shield.filter(0, 1)
    assert decision.vetoed and decision.action == 0
    (record,) = shield.interventions
    assert (record.proposed, record.substituted, record.admissible_exists) == (1, 0, True)
    assert record.proposed_q == (5.0, 1.0) and record.remaining == (4.0, 6.0)
    assert "shield veto at step 0, state 0: action 1" in caplog.text


def test_remaining_budget_shrinks_with_spent_discounted_cost():
    shield = SafetyShield(Q, budgets=[6.0, 6.0], gamma=0.5)
    shield.observe([1.0, 0.0])  # t=0: spent 1 on c1
    shield.observe([1.0, 0.0])  # t=1: spent 0.5 more
    # R_1(2) = (6 − 1.5)/0.25 = 18, R_2(2) = 24: all admissible
    np.testing.assert_allclose(shield.remaining(), [18.0, 24.0])
    shield2 = SafetyShield(Q, budgets=[5.5, 6.0], gamma=0.9)
    shield2.observe([1.0, 0.0])  # R_1(1) = 4.5/0.9 = 5 → action 1 (Q=5) still admissible, equality
    assert not shield2.filter(0, 1).vetoed
    shield2.observe([0.1, 0.0])  # R_1(2) = (4.5 − 0.09)/0.81 < 5.5 ... check against Q = 5
    expected = (5.5 - 1.0 - 0.9 * 0.1) / 0.81
    np.testing.assert_allclose(shield2.remaining()[0], expected)
    assert shield2.filter(0, 1).vetoed is (5.0 > expected)


def test_no_admissible_action_picks_least_overshoot_and_says_so():
    shield = SafetyShield(Q, budgets=[0.5, 0.5], gamma=0.9)
    decision = shield.filter(0, 2)
    assert decision.vetoed and decision.action == 0
    assert shield.interventions[0].admissible_exists is False


def test_bad_tables_are_refused_with_the_field_named():
    with pytest.raises(ShieldConfigError, match="budgets: constraint_q has 2 constraint"):
        SafetyShield(Q, budgets=[1.0], gamma=0.9)
    with pytest.raises(ShieldConfigError, match="gamma"):
        SafetyShield(Q, budgets=[1.0, 1.0], gamma=1.0)
    with pytest.raises(ShieldConfigError, match="state: 3 outside"):
        SafetyShield(Q, budgets=[1.0, 1.0], gamma=0.9).filter(3, 0)


def test_artifact_carries_policy_and_worst_case_q_to_the_shield(tmp_path):
    problem = river_swim(0.9, [4.2])
    uset = KlPenalty(5.0)
    result = rnpg(problem, uset, iterations=50, lam=50.0, xi=0.2, alpha=0.1)
    worst = robust_evaluate(problem, result.policy, uset)
    exported = export_tabular(
        result.policy,
        worst.Q[1:],
        problem.budgets,
        problem.gamma,
        tmp_path / "crs.onnx",
        action_meanings=["left", "right"],
        safe_action=0,
        control_rate_hz=10.0,
        provenance=make_provenance("rcmdp-test", git_sha="test"),
    )
    runtime = PolicyRuntime(exported.path)
    obs = np.eye(problem.S, dtype=np.float32)
    out = runtime.act(obs)
    np.testing.assert_array_equal(out.action, result.policy.argmax(axis=1))
    shield = SafetyShield.from_contract(runtime.contract)
    np.testing.assert_allclose(shield.q, worst.Q[1:], atol=1e-6)
    assert state_from_observation(obs[4]) == 4
    # with the whole budget already spent, any action with positive cost-to-go is vetoed
    shield.observe([problem.budgets[0]])
    assert shield.filter(5, int(out.action[5])).vetoed
