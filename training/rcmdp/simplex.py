"""Policy updates on the probability simplex, row by row (one row per state).

* :func:`project_simplex` — Euclidean projection, exact, by sorting: p = max(v − τ, 0) with τ the
  unique threshold making the row sum to 1.
* :func:`mirror_step` — the KL-proximal (mirror-descent / natural-gradient) step
  argmin_p ⟨α·g, p⟩ + KL(p‖π), whose closed form is p ∝ π·exp(−α·g).
"""

from __future__ import annotations

import numpy as np


def project_simplex(v: np.ndarray) -> np.ndarray:
    """Project each row of ``v`` [..., A] onto {p ≥ 0, Σp = 1} in the Euclidean norm."""
    v = np.asarray(v, dtype=float)
    A = v.shape[-1]
    u = -np.sort(-v, axis=-1)  # descending
    css = np.cumsum(u, axis=-1) - 1.0
    k = np.arange(1, A + 1)
    active = u - css / k > 0  # true for a prefix of the sorted entries
    rho = active.sum(axis=-1, keepdims=True)  # size of the support, >= 1
    tau = np.take_along_axis(css, rho - 1, axis=-1) / rho
    return np.maximum(v - tau, 0.0)


def mirror_step(pi: np.ndarray, g: np.ndarray, alpha: float) -> np.ndarray:
    """π_{t+1}(a|s) ∝ π_t(a|s)·exp(−α·g(s,a)); computed with a per-row shift for stability."""
    with np.errstate(divide="ignore"):
        log_w = np.log(pi) - alpha * np.asarray(g, dtype=float)
    log_w = log_w - log_w.max(axis=-1, keepdims=True)
    w = np.exp(log_w)
    return w / w.sum(axis=-1, keepdims=True)
