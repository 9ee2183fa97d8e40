"""Bad input gets a clear error naming the field (and state/action), or a clear infeasible verdict."""

from __future__ import annotations

import numpy as np
import pytest

from robocoord.config import ConfigError, validate_data
from robocoord.training.rcmdp.benchmarks import river_swim, river_swim_kernel
from robocoord.training.rcmdp.config import RcmdpTrainConfig
from robocoord.training.rcmdp.mdp import InfeasibleError, RcmdpInputError, TabularCmdp
from robocoord.training.rcmdp.solve import check_feasible
from robocoord.training.rcmdp.uncertainty import KlBall, KlPenalty, TvBall


def _costs() -> np.ndarray:
    return np.zeros((2, 6, 2))


def test_budgets_of_wrong_length_are_refused():
    with pytest.raises(RcmdpInputError, match=r"budgets: 1 constraint cost\(s\) need 1 budget\(s\), got 2"):
        TabularCmdp(river_swim_kernel(), _costs(), [1.0, 2.0], 0.9, np.full(6, 1 / 6))


@pytest.mark.parametrize("gamma", [0.0, 1.0, -0.5, 1.5, float("nan")])
def test_gamma_outside_open_unit_interval_is_refused(gamma):
    with pytest.raises(RcmdpInputError, match="gamma: must lie in"):
        river_swim(gamma, [1.0])


def test_kernel_row_not_summing_to_one_names_state_and_action():
    P = river_swim_kernel()
    P[3, 1, 2] += 0.05
    with pytest.raises(RcmdpInputError, match=r"row of state 3, action 1 sums to 1\.05"):
        TabularCmdp(P, _costs(), [1.0], 0.9, np.full(6, 1 / 6))


def test_negative_probability_names_the_entry():
    P = river_swim_kernel()
    P[2, 0, 1], P[2, 0, 2] = -0.1, 1.0
    with pytest.raises(RcmdpInputError, match=r"negative probability P\(1\|2,0\)"):
        TabularCmdp(P, _costs(), [1.0], 0.9, np.full(6, 1 / 6))


@pytest.mark.parametrize(
    ("make", "field"),
    [(lambda: KlBall(-0.1), "kl delta"), (lambda: TvBall(-0.01), "tv beta"), (lambda: KlPenalty(-1), "C")],
)
def test_negative_radius_is_refused(make, field):
    with pytest.raises(RcmdpInputError, match=field):
        make()


def test_negative_radius_in_config_names_the_field():
    data = {
        "benchmark": {"name": "river_swim", "budgets": [42.0]},
        "uncertainty": {"kind": "tv", "beta": -0.2},
        "algo": {"algo": "rnpg"},
    }
    with pytest.raises(ConfigError) as err:
        validate_data(RcmdpTrainConfig, data, "cfg.yaml")
    assert any(
        "uncertainty.tv.beta" in line and "greater than or equal to 0" in line for line in err.value.lines
    )


def test_config_gamma_out_of_range_names_the_field():
    data = {
        "gamma": 1.0,
        "benchmark": {"name": "river_swim", "budget_fractions": [0.42]},
        "uncertainty": {"kind": "kl_penalty", "C": 5.0},
        "algo": {"algo": "epirc_pgs"},
    }
    with pytest.raises(ConfigError) as err:
        validate_data(RcmdpTrainConfig, data, "cfg.yaml")
    assert any(line.startswith("cfg.yaml: gamma:") for line in err.value.lines)


def test_paper_kl_penalty_on_river_swim_is_reported_infeasible():
    """C_KL = 0.1 at γ = 0.99, b = 42: every policy's worst-case constraint exceeds the budget."""
    problem = river_swim(0.99, [42.0])
    with pytest.raises(
        InfeasibleError, match=r"infeasible: constraint 'constraint' \(c1\).*above its budget 42"
    ):
        check_feasible(problem, KlPenalty(0.1))


def test_feasible_problem_passes_the_check():
    problem = river_swim(0.99, [42.0])
    lows = check_feasible(problem, KlPenalty(5.0))
    assert lows.shape == (1,) and lows[0] < 42.0


def test_infeasibility_certificate_is_the_exact_robust_minimum_on_a_small_problem():
    """robust_lower_bound (robust policy iteration) = min over all deterministic policies, by enumeration."""
    import itertools

    from robocoord.training.rcmdp.benchmarks import garnet
    from robocoord.training.rcmdp.uncertainty import robust_evaluate, robust_lower_bound

    problem = garnet(0.9, [1.0], states=3, actions=3, seed=11)
    uset = TvBall(0.2)
    brute = np.inf
    for actions in itertools.product(range(3), repeat=3):
        pi = np.eye(3)[list(actions)]
        brute = min(brute, robust_evaluate(problem, pi, uset).J[1])
    assert robust_lower_bound(problem, uset, 1) == pytest.approx(brute, rel=1e-9)
