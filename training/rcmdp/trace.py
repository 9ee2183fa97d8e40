"""What every solver returns: the output policy, its worst-case evaluation, and a per-evaluation trace."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from robocoord.training.rcmdp.mdp import Evaluation, TabularCmdp


def phi_terms(J: np.ndarray, budgets: np.ndarray, lam: float, xi: float) -> np.ndarray:
    """The K+1 terms of Φ: [J_c0/λ, J_c1 − b_1 + ξ, …, J_cK − b_K + ξ]; Φ is their max."""
    return np.concatenate([[J[0] / lam], J[1:] - budgets + xi])


@dataclass
class Trace:
    """One row per robust evaluation (one evaluation = all K+1 channels of one policy)."""

    J: list[np.ndarray] = field(default_factory=list)  # worst-case [J_c0, …, J_cK] of the evaluated policy
    seconds: list[float] = field(default_factory=list)  # wall-clock since the solver started
    chosen: list[int] = field(default_factory=list)  # index the update used (i_t)
    _start: float = field(default_factory=time.perf_counter)

    def record(self, J: np.ndarray, chosen: int) -> None:
        self.J.append(np.array(J, dtype=float))
        self.seconds.append(time.perf_counter() - self._start)
        self.chosen.append(int(chosen))

    def as_array(self) -> np.ndarray:
        return np.array(self.J)

    def __len__(self) -> int:
        return len(self.J)


@dataclass
class SolveResult:
    algo: str
    policy: np.ndarray
    evaluation: Evaluation  # worst-case evaluation of ``policy``
    trace: Trace
    info: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def evaluations(self) -> int:
        return len(self.trace)

    @property
    def seconds(self) -> float:
        return self.trace.seconds[-1] if self.trace.seconds else 0.0

    def violations(self, problem: TabularCmdp) -> np.ndarray:
        """J_ci − b_i at the worst case, per constraint (≤ 0 means satisfied)."""
        return self.evaluation.J[1:] - problem.budgets

    def feasible(self, problem: TabularCmdp, tol: float = 1e-9) -> bool:
        return bool((self.violations(problem) <= tol * problem.H).all())
