"""Run-time safety shield for a discrete-action policy with K constraints (numpy / onnxruntime only).

The shield holds a table of worst-case constraint costs-to-go Q_ci(s, a) [K, S, A] (discounted, from the
robust evaluator at training time) and the budgets b_i. During an episode it tracks the discounted cost
spent so far, C_i = Σ_{k<t} γ^k c_i(k), so the budget left for the rest of the episode, in cost-to-go units
at time t, is

    R_i(t) = (b_i − C_i) / γ^t.

An action a in abstract state s is *admissible* when Q_ci(s, a) ≤ R_i(t) for every i. The shield passes
admissible actions through; otherwise it vetoes the action and substitutes the safest action,
argmin_a max_i (Q_ci(s, a) − R_i(t)), which is admissible whenever any action is. Every intervention is
logged (``logging`` at WARNING) and kept in :attr:`SafetyShield.interventions`.

For ``rcmdp`` artifacts the table travels in the contract: ``family_params`` holds ``constraint_q``
[K][S][A], ``budgets`` [K], ``gamma`` and ``state_encoding`` ("one_hot": the abstract state is the argmax
of the observation).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from robocoord.controllers.contract import PolicyContract

LOG = logging.getLogger("robocoord.shield")


class ShieldConfigError(ValueError):
    """The shield's table or budgets are malformed; the message names the field."""


@dataclass(frozen=True)
class Intervention:
    step: int
    state: int
    proposed: int
    substituted: int
    proposed_q: tuple[float, ...]
    remaining: tuple[float, ...]
    admissible_exists: bool


@dataclass(frozen=True)
class ShieldDecision:
    action: int
    vetoed: bool
    remaining: np.ndarray


class SafetyShield:
    def __init__(self, constraint_q: np.ndarray, budgets: np.ndarray, gamma: float):
        q = np.asarray(constraint_q, dtype=float)
        b = np.atleast_1d(np.asarray(budgets, dtype=float))
        if q.ndim != 3:
            raise ShieldConfigError(f"constraint_q: expected shape [K, S, A], got {q.shape}")
        if b.shape != (q.shape[0],):
            raise ShieldConfigError(
                f"budgets: constraint_q has {q.shape[0]} constraint(s), got {b.size} budget(s)"
            )
        if not np.isfinite(q).all() or not np.isfinite(b).all():
            raise ShieldConfigError("constraint_q / budgets: must be finite")
        if not 0.0 < gamma < 1.0:
            raise ShieldConfigError(f"gamma: must lie in (0, 1), got {gamma!r}")
        self.q = q
        self.budgets = b
        self.gamma = float(gamma)
        self.interventions: list[Intervention] = []
        self.reset()

    @classmethod
    def from_contract(cls, contract: PolicyContract) -> SafetyShield:
        params: dict[str, Any] = contract.family_params
        missing = [k for k in ("constraint_q", "budgets", "gamma") if k not in params]
        if contract.family != "rcmdp" or missing:
            raise ShieldConfigError(f"contract: family 'rcmdp' with family_params {missing} required")
        return cls(np.asarray(params["constraint_q"]), np.asarray(params["budgets"]), float(params["gamma"]))

    @property
    def n_states(self) -> int:
        return int(self.q.shape[1])

    @property
    def n_actions(self) -> int:
        return int(self.q.shape[2])

    def reset(self) -> None:
        """Start an episode: nothing spent yet (the intervention log is kept across episodes)."""
        self.t = 0
        self.spent = np.zeros_like(self.budgets)

    def remaining(self) -> np.ndarray:
        return (self.budgets - self.spent) / self.gamma**self.t

    def filter(self, state: int, proposed: int) -> ShieldDecision:
        """Pass ``proposed`` if admissible in ``state``; otherwise veto it, substitute and log."""
        if not 0 <= state < self.n_states:
            raise ShieldConfigError(f"state: {state} outside [0, {self.n_states})")
        if not 0 <= proposed < self.n_actions:
            raise ShieldConfigError(f"action: {proposed} outside [0, {self.n_actions})")
        left = self.remaining()
        excess = (self.q[:, state, :] - left[:, None]).max(
            axis=0
        )  # [A]: worst constraint overshoot per action
        if excess[proposed] <= 0.0:
            return ShieldDecision(action=proposed, vetoed=False, remaining=left)
        safest = int(np.argmin(excess))
        record = Intervention(
            step=self.t,
            state=int(state),
            proposed=int(proposed),
            substituted=safest,
            proposed_q=tuple(float(v) for v in self.q[:, state, proposed]),
            remaining=tuple(float(v) for v in left),
            admissible_exists=bool(excess[safest] <= 0.0),
        )
        self.interventions.append(record)
        LOG.warning(
            "shield veto at step %d, state %d: action %d (worst-case cost-to-go %s > remaining %s) -> action %d%s",
            record.step,
            record.state,
            record.proposed,
            np.round(record.proposed_q, 4).tolist(),
            np.round(record.remaining, 4).tolist(),
            safest,
            "" if record.admissible_exists else " (no admissible action: least overshoot)",
        )
        return ShieldDecision(action=safest, vetoed=True, remaining=left)

    def observe(self, costs: np.ndarray) -> None:
        """Account the constraint costs c_i(t) paid by the step just taken, and advance t."""
        c = np.atleast_1d(np.asarray(costs, dtype=float))
        if c.shape != self.budgets.shape:
            raise ShieldConfigError(f"costs: expected {self.budgets.size} constraint cost(s), got {c.size}")
        self.spent = self.spent + self.gamma**self.t * c
        self.t += 1


def state_from_observation(obs: np.ndarray) -> int:
    """Abstract state of a one-hot observation (the ``rcmdp`` artifact's state encoding)."""
    return int(np.argmax(np.asarray(obs)))
