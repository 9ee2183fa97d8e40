"""``safe_nav`` on the robot: finite abstraction -> calibrated TV radius -> RNPG -> ``rcmdp`` artifact.

1. Nominal kernel P⁰ [S, A, S'] (cells × 9 moves), expected reward and the K = 3 cost channels
   (hazard, collision, overspeed) are estimated from PyBullet rollouts (``robocoord.sim``'s estimator).
2. For each training-disruption condition the kernel is re-estimated the same way; the TV radius β is a
   quantile over (s, a) of ½‖P_d − P⁰‖₁.
3. Objective cost c_0 = (R_max − R)/(R_max − R_min) ∈ [0, 1] (0 at the absorbing goal); constraints c_1..c_3
   = the sim's per-decision cost fractions. RNPG with margin ξ solves the robust problem (TV ball β) and,
   for comparison, the non-robust CMDP (nominal kernel).
4. Export: one-hot cell -> log π graph, worst-case constraint Q in the contract (see :mod:`.export`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from robocoord.config import config_hash
from robocoord.runs import RunDir
from robocoord.training.rcmdp.config import RcmdpTrainConfig, RnpgSpec, SafeNavSpec
from robocoord.training.rcmdp.mdp import RcmdpInputError, TabularCmdp
from robocoord.training.rcmdp.solve import check_feasible, run_algo
from robocoord.training.rcmdp.uncertainty import Nominal, TvBall, UncertaintySet, robust_evaluate

ACTION_MEANINGS = [
    "stay",
    "east",
    "north",
    "west",
    "south",
    "dash_east",
    "dash_north",
    "dash_west",
    "dash_south",
]


PILLAR_CLEARANCE_M = 0.2  # pillar radius 0.07 m + robot half-width ~0.12 m


def estimate_kernel(
    samples_per_pair: int, seed: int, dynamics: dict[str, float] | None = None, cache: Path | None = None
) -> dict[str, np.ndarray]:
    """P, R, C, counts of the safe_nav abstraction, estimated under ``dynamics`` (None = nominal). Cached.

    For every (cell, action), ``samples_per_pair`` times: drop the robot at rest at a uniform pose in the
    cell (clear of pillars), apply the dynamics, run one decision, record end cell, reward and costs.
    (Own loop rather than ``sim.tasks.safe_nav_abstraction.estimate_abstraction``, which takes no dynamics
    and, at this commit, never finds a start pose in the pillar cells.)
    """
    canonical = {k: (int(v) if float(v).is_integer() else float(v)) for k, v in (dynamics or {}).items()}
    key = hashlib.sha256(
        json.dumps([samples_per_pair, seed, canonical], sort_keys=True).encode()
    ).hexdigest()[:16]
    path = cache / f"kernel-{key}.npz" if cache is not None else None
    if path is not None and path.is_file():
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    from robocoord.sim.pybullet_plant import DynamicsParams
    from robocoord.sim.tasks.safe_nav import N_ACTIONS, SafeNavEnv

    params = DynamicsParams(
        **{k: (int(v) if k == "actuation_latency_steps" else v) for k, v in (dynamics or {}).items()}
    )
    rng = np.random.default_rng(seed)
    env = SafeNavEnv()
    layout = env.layout
    S, K = layout.n_cells, len(env.cost_names)
    goal = layout.cell_index(layout.goal_cell)
    pillars = np.array([layout.cell_center_m(*cell) for cell in layout.pillar_cells])
    counts = np.zeros((S, N_ACTIONS, S))
    reward_sum = np.zeros((S, N_ACTIONS))
    cost_sum = np.zeros((K, S, N_ACTIONS))
    try:
        for s in range(S):
            if s == goal:
                continue
            low = np.array(layout.index_cell(s), dtype=float) * layout.cell_size_m
            for a in range(N_ACTIONS):
                for _ in range(samples_per_pair):
                    # drop the robot at rest at a uniform pose in the cell, clear of the pillars
                    # (the whole cell is sampled: a pillar cell has free corners only)
                    for _attempt in range(10_000):
                        xy = low + rng.uniform(0.05, 0.95, 2) * layout.cell_size_m
                        if np.min(np.hypot(*(pillars - xy).T)) > PILLAR_CLEARANCE_M:
                            break
                    else:
                        raise RuntimeError(f"safe_nav cell {s}: no start pose clear of the pillars")
                    env.reset(
                        seed=int(rng.integers(2**31)),
                        options={"pose_world": (*xy, rng.uniform(-np.pi, np.pi))},
                    )
                    env.set_dynamics(params)
                    _, reward, _, _, info = env.step(a)
                    counts[s, a, info["cell"]] += 1
                    reward_sum[s, a] += reward
                    cost_sum[:, s, a] += info["cost"]
    finally:
        env.close()
    P = counts / np.maximum(counts.sum(axis=-1, keepdims=True), 1)
    P[goal] = 0.0
    P[goal, :, goal] = 1.0
    out = {
        "P": P,
        "R": reward_sum / samples_per_pair,
        "C": cost_sum / samples_per_pair,
        "counts": counts,
        "start": np.array(layout.cell_index(layout.start_cell)),
        "goal": np.array(goal),
        "grid": np.array(layout.grid_cells),
        "cell_size": np.array(layout.cell_size_m),
        "decision_period_s": np.array(env.params.decision_period_s),
    }
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **out)
    return out


def calibrate_tv_radius(P0: np.ndarray, P_disrupted: np.ndarray, goal: int, quantile: float) -> float:
    """Quantile over non-goal (s, a) of the TV distance ½‖P_d(·|s,a) − P⁰(·|s,a)‖₁."""
    tv = 0.5 * np.abs(P_disrupted - P0).sum(axis=-1)
    keep = np.ones(P0.shape[0], dtype=bool)
    keep[goal] = False
    return float(np.quantile(tv[keep], quantile))


def safe_nav_problem(kernel: dict[str, np.ndarray], gamma: float, budgets: list[float]) -> TabularCmdp:
    R, C, goal = kernel["R"], kernel["C"], int(kernel["goal"])
    non_goal = np.ones(R.shape[0], dtype=bool)
    non_goal[goal] = False
    r_max, r_min = R[non_goal].max(), R[non_goal].min()
    c0 = (r_max - R) / max(r_max - r_min, 1e-12)
    c0[goal] = 0.0
    costs = np.concatenate([c0[None], np.clip(C, 0.0, 1.0)])
    if len(budgets) != C.shape[0]:
        raise RcmdpInputError(
            f"budgets: safe_nav has {C.shape[0]} cost channels, got {len(budgets)} budget(s)"
        )
    rho = np.zeros(R.shape[0])
    rho[int(kernel["start"])] = 1.0
    return TabularCmdp(
        kernel["P"],
        costs,
        np.asarray(budgets),
        gamma,
        rho,
        "safe_nav",
        ("objective", "hazard", "collision", "overspeed"),
    )


def solve_pair(
    problem: TabularCmdp, robust: UncertaintySet, algo: RnpgSpec, epsilon_fraction: float
) -> dict[str, Any]:
    """The robust policy (at ``robust``) and the non-robust CMDP policy (at P⁰), each with its worst-case eval."""
    out: dict[str, Any] = {}
    for label, uset in (("robust", robust), ("nominal", Nominal())):
        check_feasible(problem, uset)
        result = run_algo(problem, uset, algo, epsilon_fraction)
        out[label] = {
            "result": result,
            "uset": uset,
            "at_robust_set": robust_evaluate(problem, result.policy, robust),
        }
    return out


def train_safe_nav(cfg: RcmdpTrainConfig, argv: list[str] | None = None) -> tuple[Path, dict[str, Any]]:
    from robocoord.sim.config import SafeNavParams
    from robocoord.sim.tasks.safe_nav import arena_spec
    from robocoord.training.export import make_provenance
    from robocoord.training.rcmdp.export import export_tabular

    spec = cfg.benchmark
    if not isinstance(spec, SafeNavSpec) or not isinstance(cfg.algo, RnpgSpec):
        raise RcmdpInputError("safe_nav: benchmark safe_nav with algo rnpg|rppg required")
    if cfg.uncertainty.kind != "tv":
        raise RcmdpInputError("uncertainty: safe_nav calibrates a TV radius; set uncertainty.kind: tv")
    cache = Path(spec.kernel_cache) if spec.kernel_cache else None
    nominal = estimate_kernel(spec.samples_per_pair, spec.seed, None, cache)
    radii = [] if spec.radius is None else [spec.radius]
    for i, dynamics in enumerate(spec.train_dynamics if spec.radius is None else []):
        disrupted = estimate_kernel(spec.samples_per_pair, spec.seed + 1 + i, dynamics, cache)
        radii.append(
            calibrate_tv_radius(nominal["P"], disrupted["P"], int(nominal["goal"]), spec.radius_quantile)
        )
    beta = min(max(radii), 1.0)
    problem = safe_nav_problem(nominal, cfg.gamma, spec.budgets)
    pair = solve_pair(problem, TvBall(beta), cfg.algo, cfg.epsilon_fraction)

    with RunDir.create(cfg.name, cfg, cfg.seed, root=cfg.runs_root, argv=argv) as run:
        summary: dict[str, Any] = {
            "benchmark": "safe_nav",
            "gamma": cfg.gamma,
            "tv_radius": beta,
            "radii": radii,
        }
        for label, item in pair.items():
            result = item["result"]
            for step, J in enumerate(result.trace.J, start=1):
                run.log(step, **{f"{label}/J_c{i}": float(v) for i, v in enumerate(J)})
            worst = item["at_robust_set"]
            q_export = worst.Q[1:] if label == "robust" else result.evaluation.Q[1:]
            exported = export_tabular(
                result.policy,
                q_export,
                spec.budgets,
                cfg.gamma,
                run.artifacts / f"{label}.onnx",
                action_meanings=ACTION_MEANINGS,
                safe_action=0,
                control_rate_hz=1.0 / float(nominal["decision_period_s"]),
                provenance=make_provenance(
                    "rcmdp",
                    config_hash=config_hash(cfg),
                    seed=cfg.seed,
                    disruptions=[{"train_dynamics": spec.train_dynamics, "tv_radius": beta}],
                ),
                extra_params={
                    "task": "safe_nav",
                    "robust": label == "robust",
                    "tv_radius": beta if label == "robust" else 0.0,
                    "grid_cells": int(nominal["grid"]),
                    "cell_size_m": float(nominal["cell_size"]),
                    "cost_names": ["hazard", "collision", "overspeed"],
                    "arena": arena_spec(SafeNavParams()),  # what the robot needs to run it (robocoord_ros)
                },
            )
            summary[label] = {
                "artifact": str(exported.path),
                "objective": float(result.evaluation.J[0]),
                "constraints": result.evaluation.J[1:].tolist(),
                "constraints_at_tv_worst_case": worst.J[1:].tolist(),
                "feasible_at_tv_worst_case": bool((worst.J[1:] <= problem.budgets + 1e-9).all()),
                "evaluations": result.evaluations,
            }
        summary["budgets"] = list(spec.budgets)
        run.write_json("result.json", summary)
        return run.path, summary
