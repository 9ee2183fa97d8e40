"""Tabular RCMDP policy -> ``rcmdp`` artifact (ONNX + contract) carrying the worst-case constraint Q.

Graph: observation = one-hot abstract state [batch, S]; a bias-free linear layer whose weights are
log π(a|s) gives the logits; the exporter's ``argmax`` post-processing outputs ``action`` (the mode of
π) and ``q_values`` (= log π, for inspection). The contract's ``family_params`` carries what the run-time
shield needs: ``constraint_q`` [K][S][A] (worst-case Q_ci at the trained uncertainty set), ``budgets``,
``gamma``, ``state_encoding: one_hot``, plus ``policy`` [S][A] for samplers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from robocoord.controllers.contract import DiscreteActionSpec, ObservationField, ObservationSpec, Provenance
from robocoord.training.export import ExportedPolicy, export_policy

LOG_FLOOR = 1e-12


def export_tabular(
    policy: np.ndarray,
    constraint_q: np.ndarray,
    budgets: Sequence[float],
    gamma: float,
    path: Path | str,
    *,
    action_meanings: Sequence[str],
    safe_action: int,
    control_rate_hz: float,
    provenance: Provenance,
    extra_params: dict[str, Any] | None = None,
) -> ExportedPolicy:
    S, A = policy.shape
    if constraint_q.ndim != 3 or constraint_q.shape[1:] != (S, A):
        raise ValueError(f"constraint_q: expected [K, {S}, {A}], got {constraint_q.shape}")
    net = nn.Linear(S, A, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.as_tensor(np.log(np.maximum(policy, LOG_FLOOR)).T, dtype=torch.float32))
    observation = ObservationSpec(
        fields=[ObservationField(name="cell", size=S, unit="1", description="one-hot abstract state")],
        mean=[0.0] * S,
        std=[1.0] * S,
        clip=None,
    )
    action = DiscreteActionSpec(n=A, meanings=list(action_meanings), safe_action=safe_action)
    params: dict[str, Any] = {
        "state_encoding": "one_hot",
        "constraint_q": np.round(constraint_q, 6).tolist(),
        "budgets": [float(b) for b in budgets],
        "gamma": float(gamma),
        "policy": np.round(policy, 6).tolist(),
    }
    params.update(extra_params or {})
    return export_policy(
        net,
        path,
        family="rcmdp",
        observation=observation,
        action=action,
        control_rate_hz=control_rate_hz,
        provenance=provenance,
        family_params=params,
    )
