"""Robust TD targets for value factorisation (pure tensor maths, plus tabular references).

Notation: ``r`` team reward, ``d`` terminal flag, ``V'`` = Q̄'_tot, the target mixer applied
to every agent's max_a Q_i^target(h_i', a). DrIGM puts the robustness in the *team* target,
so every agent's utility is defined at the global worst-case model and greedy decentralised
execution stays consistent with the robust joint optimum.

* standard:        y = r + γ · V' · (1 − d)
* ρ-contamination: y = r + γ · [(1 − ρ) · V' + ρ · V_min] · (1 − d)
  (the uncertainty set {(1 − ρ) P + ρ q}; its worst q is a point mass on argmin V)
* total variation: y = r + γ · [(1 − ρ) · g − (g − V')₊ + ρ · V_min] · (1 − d)
  with g = G(s, a) the dual variable η. For a TV ball of radius ρ,
      inf_{TV(P̃, P) ≤ ρ} E_P̃[V] = max_η  (1 − ρ) η − E_P[(η − V)₊] + ρ · V_min,
  attained at the (1 − ρ)-quantile of V under P. Minimising the negative dual in g is
  the pinball (quantile-regression) loss at level τ = 1 − ρ.

``V_min`` is 0 (``v_min: zero``, what the authors' code amounts to) or the smallest V' of
the batch (``v_min: batch_min``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

VMinKind = Literal["zero", "batch_min"]


def check_rho(rho: float) -> float:
    if not 0.0 <= rho < 1.0:
        raise ValueError(f"rho must lie in [0, 1), got {rho}")
    return float(rho)


def v_min_of(next_value: torch.Tensor, mask: torch.Tensor | None, kind: VMinKind) -> torch.Tensor:
    """V_min: 0, or the smallest V' over the valid entries of the batch (detached)."""
    if kind == "zero":
        return torch.zeros((), dtype=next_value.dtype)
    if kind == "batch_min":
        valid = next_value if mask is None else next_value[mask.bool()]
        if valid.numel() == 0:
            return torch.zeros((), dtype=next_value.dtype)
        return valid.min().detach()
    raise ValueError(f"v_min must be 'zero' or 'batch_min', got {kind!r}")


def standard_target(
    r: torch.Tensor, next_value: torch.Tensor, done: torch.Tensor, gamma: float
) -> torch.Tensor:
    return r + gamma * next_value * (1.0 - done)


def contamination_target(
    r: torch.Tensor,
    next_value: torch.Tensor,
    done: torch.Tensor,
    gamma: float,
    rho: float,
    v_min: torch.Tensor | float = 0.0,
) -> torch.Tensor:
    rho = check_rho(rho)
    return r + gamma * ((1.0 - rho) * next_value + rho * v_min) * (1.0 - done)


def tv_target(
    r: torch.Tensor,
    next_value: torch.Tensor,
    g: torch.Tensor,
    done: torch.Tensor,
    gamma: float,
    rho: float,
    v_min: torch.Tensor | float = 0.0,
) -> torch.Tensor:
    rho = check_rho(rho)
    robust_next = (1.0 - rho) * g - torch.relu(g - next_value) + rho * v_min
    return r + gamma * robust_next * (1.0 - done)


def tv_dual_loss(
    g: torch.Tensor, next_value: torch.Tensor, rho: float, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Negative TV dual, mean((g − V')₊ − (1 − ρ) g): its minimiser in g is the (1 − ρ)-quantile of V'."""
    rho = check_rho(rho)
    per_entry = torch.relu(g - next_value) - (1.0 - rho) * g
    return _masked_mean(per_entry, mask)


def tv_squared_loss(
    g: torch.Tensor, next_value: torch.Tensor, rho: float, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """mean(((g − V')₊ − (1 − ρ) g)²), the G step as written in the issue.

    Kept for comparison only: whenever V' ≥ 0 everywhere, g = 0 is a global minimiser, which
    turns the TV target into y = r. ``g_loss: dual`` is the default for that reason.
    """
    rho = check_rho(rho)
    per_entry = (torch.relu(g - next_value) - (1.0 - rho) * g) ** 2
    return _masked_mean(per_entry, mask)


def _masked_mean(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    if mask is None:
        return values.mean()
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp_min(1.0)


# --- tabular references (numpy), used by tests and the matrix-game checks -------------------------


def tv_worst_case_expectation(p: np.ndarray, v: np.ndarray, rho: float) -> float:
    """min over P̃ with TV(P̃, P) = ½‖P̃ − P‖₁ ≤ ρ of E_P̃[V]: move mass ρ from the highest-value states to argmin V."""
    rho = check_rho(rho)
    p = np.asarray(p, dtype=np.float64).copy()
    v = np.asarray(v, dtype=np.float64)
    if p.shape != v.shape or p.ndim != 1:
        raise ValueError(f"p and v must be 1-D of the same length, got {p.shape} and {v.shape}")
    sink = int(np.argmin(v))
    budget = rho
    for idx in np.argsort(-v, kind="stable"):
        if budget <= 0.0 or idx == sink:
            continue
        moved = min(budget, p[idx])
        p[idx] -= moved
        p[sink] += moved
        budget -= moved
    return float(p @ v)


def tv_dual_objective(eta: float, p: np.ndarray, v: np.ndarray, rho: float) -> float:
    """(1 − ρ) η − E_P[(η − V)₊] + ρ · min V: maximised over η it equals the TV worst case."""
    p = np.asarray(p, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    return float((1.0 - rho) * eta - p @ np.maximum(eta - v, 0.0) + rho * v.min())


def contamination_worst_case(p: np.ndarray, v: np.ndarray, rho: float) -> float:
    """min over q of E_{(1−ρ)P + ρq}[V] = (1 − ρ) E_P[V] + ρ · min V."""
    rho = check_rho(rho)
    p = np.asarray(p, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    return float((1.0 - rho) * (p @ v) + rho * v.min())
