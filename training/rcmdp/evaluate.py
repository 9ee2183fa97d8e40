"""``robocoord eval`` for ``rcmdp`` artifacts: run the tabular policy on PyBullet ``safe_nav``.

Per decision: the abstract cell is read from the (possibly noisy) observation (x, y scaled by the arena
size), fed one-hot to the artifact, and an action is sampled from π = softmax(q_values) (the graph's
``q_values`` are log π). Robust artifacts (``family_params.robust``) run behind the
:class:`~robocoord.controllers.shield.SafetyShield`, fed the true per-decision costs ``info["cost"]``.
An episode *violates* when, for some constraint i, its discounted cost Σ_t γ^t c_i(t) exceeds b_i —
the quantity the CMDP constrains. Success = the goal cell was reached.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from robocoord.controllers.policy import PolicyRuntime
from robocoord.controllers.shield import SafetyShield


def cell_from_observation(obs: np.ndarray, grid_cells: int) -> int:
    """Flat cell index i·G + j from the normalised position (obs[0], obs[1]) = (x, y) / arena size."""
    ij = np.clip(np.floor(np.asarray(obs[:2], dtype=float) * grid_cells), 0, grid_cells - 1).astype(int)
    return int(ij[0] * grid_cells + ij[1])


def evaluate_artifact(
    *,
    artifact: Path | str,
    task: str | None = None,
    robots: int | None = None,
    disruptions: Path | str | None = None,
    episodes: int = 5,
    seed: int = 0,
    seconds: float | None = None,
    shield: bool | None = None,
) -> dict[str, Any]:
    runtime = PolicyRuntime(artifact)
    params = runtime.contract.family_params
    task = task or str(params.get("task", "safe_nav"))
    if task != "safe_nav":
        raise ValueError(f"task: rcmdp artifacts run on safe_nav, got {task!r}")
    if robots not in (None, 1):
        raise ValueError(f"robots: safe_nav is a single-robot task, got {robots}")
    use_shield = bool(params.get("robust", False)) if shield is None else shield
    grid = int(params["grid_cells"])
    gamma = float(params["gamma"])
    budgets = np.asarray(params["budgets"], dtype=float)

    from robocoord.sim.config import SafeNavParams
    from robocoord.sim.disruptions.spec import load_disruptions
    from robocoord.sim.disruptions.wrappers import wrap
    from robocoord.sim.tasks.safe_nav import SafeNavEnv

    sim_params = SafeNavParams()
    if seconds is not None:
        sim_params = SafeNavParams(max_decisions=max(1, math.ceil(seconds / sim_params.decision_period_s)))
    specs = load_disruptions(disruptions) if disruptions is not None else []
    env = wrap(SafeNavEnv(sim_params), specs, phase="eval")
    guard = SafetyShield.from_contract(runtime.contract) if use_shield else None
    rng = np.random.default_rng(seed)
    eye = np.eye(runtime.obs_dim, dtype=np.float32)
    returns, costs, discounted, successes, vetoes = [], [], [], [], 0
    try:
        for episode in range(episodes):
            obs, _ = env.reset(seed=seed * 100_003 + episode)
            if guard is not None:
                guard.reset()
            ret, total, disc, t, reached = 0.0, np.zeros(budgets.size), np.zeros(budgets.size), 0, False
            while True:
                cell = cell_from_observation(obs, grid)
                log_pi = runtime.act(eye[cell]).outputs["q_values"][0].astype(float)
                p = np.exp(log_pi - log_pi.max())
                action = int(rng.choice(p.size, p=p / p.sum()))
                if guard is not None:
                    decision = guard.filter(cell, action)
                    vetoes += int(decision.vetoed)
                    action = decision.action
                obs, reward, terminated, truncated, info = env.step(action)
                c = np.asarray(info["cost"], dtype=float)
                if guard is not None:
                    guard.observe(c)
                ret += float(reward)
                total += c
                disc += gamma**t * c
                t += 1
                if terminated or truncated:
                    reached = bool(terminated)
                    break
            returns.append(ret)
            costs.append(total)
            discounted.append(disc)
            successes.append(reached)
    finally:
        env.close()
    disc_arr = np.array(discounted)
    violated = (disc_arr > budgets).any(axis=1)
    return {
        "episodes": episodes,
        "return_mean": float(np.mean(returns)),
        "return_stderr": float(np.std(returns, ddof=1) / np.sqrt(episodes)) if episodes > 1 else 0.0,
        "cost_mean": float(np.mean(np.sum(costs, axis=1))),
        "violations": int(violated.sum()),
        "success_rate": float(np.mean(successes)),
        "discounted_cost_mean": disc_arr.mean(axis=0).tolist(),
        "violations_per_constraint": (disc_arr > budgets).sum(axis=0).tolist(),
        "budgets": budgets.tolist(),
        "shield": use_shield,
        "shield_interventions": vetoes,
    }
