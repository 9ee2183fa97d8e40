"""One ``robocoord train rcmdp`` run: solve, log every evaluation, save the policy and its worst-case values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from robocoord.config import config_hash
from robocoord.runs import RunDir
from robocoord.training.rcmdp.config import RcmdpTrainConfig, SafeNavSpec
from robocoord.training.rcmdp.solve import build_benchmark, build_uncertainty, check_feasible, run_algo
from robocoord.training.rcmdp.trace import phi_terms


def train_run(cfg: RcmdpTrainConfig, argv: list[str] | None = None) -> tuple[Path, dict[str, Any]]:
    if isinstance(cfg.benchmark, SafeNavSpec):
        from robocoord.training.rcmdp.robot import train_safe_nav

        return train_safe_nav(cfg, argv)
    problem = build_benchmark(cfg.benchmark, cfg.gamma)
    uset = build_uncertainty(cfg.uncertainty, problem)
    check_feasible(problem, uset)
    result = run_algo(problem, uset, cfg.algo, cfg.epsilon_fraction)
    lam = 2.0 / cfg.epsilon_fraction
    with RunDir.create(cfg.name, cfg, cfg.seed, root=cfg.runs_root, argv=argv) as run:
        for step, J in enumerate(result.trace.J, start=1):
            terms = phi_terms(J, problem.budgets, lam, 0.0)
            metrics = {"phi": float(terms.max()), "J_c0": float(J[0])}
            metrics.update({f"J_c{i}": float(J[i]) for i in range(1, problem.K + 1)})
            run.log(step, **metrics)
        np.save(run.artifacts / "policy.npy", result.policy)
        np.save(run.artifacts / "worst_case_q.npy", result.evaluation.Q)
        summary = {
            "benchmark": problem.name,
            "gamma": problem.gamma,
            "algo": result.algo,
            "uncertainty": uset.name,
            "objective": float(result.evaluation.J[0]),
            "constraints": result.evaluation.J[1:].tolist(),
            "budgets": problem.budgets.tolist(),
            "feasible": result.feasible(problem),
            "evaluations": result.evaluations,
            "seconds": result.seconds,
            "config_hash": config_hash(cfg),
        }
        run.write_json("result.json", summary)
        return run.path, summary
