"""``robocoord rcmdp study``: every algorithm × γ × benchmark, with evaluations-to-ε and convergence plots.

evaluations_to_eps: the first robust evaluation (1-based) whose evaluated policy is ε-feasible
(max_i J_ci − b_i ≤ ε) and within ε of the best objective found (the smallest worst-case J_c0 among
the exactly feasible policies evaluated by *any* algorithm on that benchmark and γ). ε = epsilon_fraction·H.
evaluations_to_eps_own: the same, against the algorithm's own best feasible objective (how fast it settles,
whatever the quality of where it settles).
One evaluation = the worst-case J, Q, d of all K+1 channels of one policy; both methods pay the same
per evaluation, so the evaluation ratio is the algorithmic speed-up and the wall-clock confirms it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from robocoord.training.rcmdp.config import AlgoSpec, RcmdpStudyConfig
from robocoord.training.rcmdp.mdp import InfeasibleError, TabularCmdp
from robocoord.training.rcmdp.solve import build_benchmark, build_uncertainty, check_feasible, run_algo
from robocoord.training.rcmdp.trace import SolveResult, phi_terms


def algo_label(spec: AlgoSpec) -> str:
    return spec.label or spec.algo


def first_eps_hit(result: SolveResult, problem: TabularCmdp, reference: float, eps: float) -> int | None:
    J = result.trace.as_array()
    ok = ((J[:, 1:] - problem.budgets).max(axis=1) <= eps) & (J[:, 0] <= reference + eps)
    hits = np.flatnonzero(ok)
    return int(hits[0]) + 1 if hits.size else None


def best_feasible_objective(results: list[SolveResult], problem: TabularCmdp, eps: float) -> float:
    stacked = np.concatenate([r.trace.as_array() for r in results])
    viol = (stacked[:, 1:] - problem.budgets).max(axis=1)
    for tol in (1e-9 * problem.H, eps):  # exactly feasible first; ε-feasible if nobody got there
        mask = viol <= tol
        if mask.any():
            return float(stacked[mask, 0].min())
    return float("nan")


def run_study(
    cfg: RcmdpStudyConfig, progress: Callable[[str], None] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Returns (result rows as in the JSON schema, per-(benchmark, γ) ratio summaries)."""
    rows: list[dict[str, Any]] = []
    ratios: list[dict[str, Any]] = []
    for bench in cfg.benchmarks:
        for gamma in cfg.gammas:
            problem = build_benchmark(bench, gamma)
            uset = build_uncertainty(cfg.uncertainty, problem)
            eps = cfg.epsilon_fraction * problem.H
            base = {
                "benchmark": problem.name,
                "gamma": gamma,
                "uncertainty": uset.name,
                "budgets": problem.budgets.tolist(),
                "epsilon": eps,
            }
            try:
                check_feasible(problem, uset)
            except InfeasibleError as err:
                for spec in cfg.algos:
                    rows.append(
                        base
                        | {
                            "algo": algo_label(spec),
                            "objective": None,
                            "constraints": None,
                            "feasible": False,
                        }
                        | {"evaluations": 0, "evaluations_to_eps": None, "seconds": 0.0, "verdict": str(err)}
                    )
                continue
            results = []
            for spec in cfg.algos:
                if progress:
                    progress(f"{problem.name} γ={gamma} {algo_label(spec)}")
                results.append(run_algo(problem, uset, spec, cfg.epsilon_fraction))
            reference = best_feasible_objective(results, problem, eps)
            by_label: dict[str, dict[str, Any]] = {}
            for spec, res in zip(cfg.algos, results, strict=True):
                hit = first_eps_hit(res, problem, reference, eps)
                own = best_feasible_objective([res], problem, eps)
                own_hit = first_eps_hit(res, problem, own, eps)
                row = base | {
                    "algo": algo_label(spec),
                    "objective": float(res.evaluation.J[0]),
                    "constraints": res.evaluation.J[1:].tolist(),
                    "feasible": res.feasible(problem),
                    "evaluations": res.evaluations,
                    "evaluations_to_eps": hit,
                    "seconds": res.seconds,
                    "seconds_to_eps": res.trace.seconds[hit - 1] if hit else None,
                    "best_feasible_objective": reference,
                    "evaluations_to_eps_own": own_hit,
                    "verdict": "feasible" if res.feasible(problem) else "constraint violated at output",
                    "trace": res.trace.as_array(),
                }
                rows.append(row)
                by_label[row["algo"]] = row
            ratios.extend(_ratios(problem, gamma, by_label))
    return rows, ratios


def _ratios(problem: TabularCmdp, gamma: float, by_label: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """EpiRC-PGS over each RNPG/RPPG variant, evaluations-to-ε and seconds-to-ε, measured in this run."""
    out = []
    base = [r for r in by_label.values() if r["algo"].startswith("epirc")]
    for epi in base:
        for label, row in by_label.items():
            if row is epi or label.startswith("epirc"):
                continue
            e_num, e_den = epi["evaluations_to_eps"], row["evaluations_to_eps"]
            s_num, s_den = epi["seconds_to_eps"], row["seconds_to_eps"]
            out.append(
                {
                    "benchmark": problem.name,
                    "gamma": gamma,
                    "baseline": epi["algo"],
                    "algo": label,
                    "evaluations_ratio": (e_num / e_den) if e_num and e_den else None,
                    "seconds_ratio": (s_num / s_den) if s_num and s_den else None,
                    "baseline_seconds_total": epi["seconds"],
                    "algo_seconds_total": row["seconds"],
                }
            )
    return out


def plot_convergence(
    rows: list[dict[str, Any]], lam_of: Callable[[float], float], out_dir: Path
) -> list[Path]:
    """One PNG per (benchmark, γ): Φ (λ = 2H/ε, ξ = 0), J_c0 and each J_ci against robust evaluations."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    groups: dict[tuple[str, float], list[dict[str, Any]]] = {}
    for row in rows:
        if row.get("trace") is not None:
            groups.setdefault((row["benchmark"], row["gamma"]), []).append(row)
    paths = []
    for (bench, gamma), group in groups.items():
        budgets = np.asarray(group[0]["budgets"])
        K = budgets.size
        fig, axes = plt.subplots(1, 2 + K, figsize=(4.2 * (2 + K), 3.4))
        for row in group:
            J = row["trace"]
            x = np.arange(1, len(J) + 1)
            phi = np.array([phi_terms(j, budgets, lam_of(gamma), 0.0).max() for j in J])
            axes[0].plot(x, phi, label=row["algo"], lw=1)
            axes[1].plot(x, J[:, 0], label=row["algo"], lw=1)
            for i in range(K):
                axes[2 + i].plot(x, J[:, 1 + i], label=row["algo"], lw=1)
        axes[0].set_title("Φ (ξ = 0)")
        axes[1].set_title("worst-case J_c0 (objective)")
        for i in range(K):
            axes[2 + i].axhline(budgets[i], color="k", ls="--", lw=0.8, label=f"b_{i + 1}")
            axes[2 + i].set_title(f"worst-case J_c{i + 1}")
        for ax in axes:
            ax.set_xlabel("robust evaluations")
            ax.set_xscale("log")
        axes[-1].legend(fontsize=7)
        fig.suptitle(f"{bench}, γ = {gamma}")
        fig.tight_layout()
        path = out_dir / f"{bench}_gamma{gamma}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths


def public_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "trace"} for row in rows]
