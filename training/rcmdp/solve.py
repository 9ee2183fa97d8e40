"""From specs to numbers: build a benchmark and an uncertainty set, check feasibility, run one solver.

This is the one place that turns configs into calls; the algorithms themselves live in
:mod:`.rnpg` and :mod:`.epirc_pgs`.
"""

from __future__ import annotations

import numpy as np

from robocoord.training.rcmdp import benchmarks
from robocoord.training.rcmdp.config import AlgoSpec, EpircSpec, FiniteSpec, RnpgSpec, SafeNavSpec
from robocoord.training.rcmdp.epirc_pgs import epirc_pgs
from robocoord.training.rcmdp.mdp import InfeasibleError, TabularCmdp
from robocoord.training.rcmdp.rnpg import rnpg, theory_step
from robocoord.training.rcmdp.trace import SolveResult
from robocoord.training.rcmdp.uncertainty import UncertaintySet, make_uncertainty, robust_lower_bound


def build_benchmark(spec: object, gamma: float) -> TabularCmdp:
    if isinstance(spec, SafeNavSpec):
        raise ValueError("safe_nav is built from PyBullet rollouts by robocoord.training.rcmdp.robot")
    data = spec.model_dump()  # type: ignore[attr-defined]
    name = data.pop("name")
    budgets = spec.budget_values(gamma)  # type: ignore[attr-defined]
    data.pop("budgets")
    data.pop("budget_fractions")
    return benchmarks.BUILDERS[name](gamma=gamma, budgets=budgets, **data)


def build_uncertainty(spec: object, problem: TabularCmdp) -> UncertaintySet:
    data = spec.model_dump()  # type: ignore[attr-defined]
    if isinstance(spec, FiniteSpec):
        data["seed"] = spec.seed
    return make_uncertainty(data, problem.P0)


def check_feasible(problem: TabularCmdp, uset: UncertaintySet) -> np.ndarray:
    """Per constraint, min over policies of the worst-case value; raise :class:`InfeasibleError` if above b_i.

    (A per-constraint certificate: each constraint alone is satisfiable. Joint infeasibility of several
    constraints shows up as ``feasible: false`` in the solver's output.)
    """
    lows = np.array([robust_lower_bound(problem, uset, i) for i in range(1, problem.K + 1)])
    tol = 1e-9 * problem.H
    for i, (low, b) in enumerate(zip(lows, problem.budgets, strict=True), start=1):
        if low > b + tol:
            raise InfeasibleError(
                f"infeasible: constraint {problem.cost_names[i]!r} (c{i}) has worst-case value >= {low:.4g} "
                f"under every policy with {uset.describe()}, above its budget {b:.4g}"
            )
    return lows


def run_algo(
    problem: TabularCmdp, uset: UncertaintySet, spec: AlgoSpec, epsilon_fraction: float
) -> SolveResult:
    H = problem.H
    if isinstance(spec, RnpgSpec):
        lam = spec.lam if spec.lam is not None else 2.0 * H / (epsilon_fraction * H)
        iters = spec.iterations
        alpha = (
            theory_step(problem, iters)
            if spec.step_size == "theory"
            else spec.step_size * (1 - problem.gamma)
        )
        update = "mirror" if spec.algo == "rnpg" else "projection"
        return rnpg(
            problem, uset, iterations=iters, lam=lam, xi=spec.xi_fraction * H, alpha=alpha, update=update
        )
    if isinstance(spec, EpircSpec):
        eta = spec.eta * (1 - problem.gamma) ** 2
        return epirc_pgs(
            problem,
            uset,
            bisection_steps=spec.bisection_steps,
            inner_iterations=spec.inner_iterations,
            eta=eta,
            warm_start=spec.warm_start,
        )
    raise TypeError(f"unknown algorithm spec {spec!r}")
