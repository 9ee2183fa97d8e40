"""``robocoord gmfs study``: the κ sweep of the paper, graphon vs uniform neighbour sampling.

For each κ and training seed, Alg. 1 learns Q[s, a, z] once (training never looks at n,
the layout or the graphon), then Alg. 2 evaluates the greedy policy with ``rollouts``
rollouts per sampling mode. ``train_seconds`` is the mean Alg. 1 wall time per seed at
that κ; both modes share it. The return is the discounted per-agent average return.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from robocoord.controllers.gmfs_sampler import graphon_matrix, normalised_weights, table_size, uniform_weights
from robocoord.training.gmfs.config import (
    AnalyticModelConfig,
    GmfsStudyConfig,
    GridLayout,
    ModelConfig,
    PowerLawLayout,
    PybulletModelConfig,
    graphon_params,
)
from robocoord.training.gmfs.models import AnalyticWarehouseModel, GenerativeModel, SyntheticModel
from robocoord.training.gmfs.tabular import TabularGmfs, execute


def layout_positions(layout: GridLayout | PowerLawLayout, n: int) -> np.ndarray:
    """Latent positions α_i: a grid over [0, 1]^2 (row-major, corners included) or a power law on [0, 1]."""
    if isinstance(layout, GridLayout):
        xs, ys = np.linspace(0.0, 1.0, layout.cols), np.linspace(0.0, 1.0, layout.rows)
        return np.array([(x, y) for y in ys for x in xs])
    return (((np.arange(n) + 0.5) / n) ** layout.exponent)[:, None]


def build_model(config: ModelConfig) -> GenerativeModel:
    if isinstance(config, AnalyticModelConfig):
        return AnalyticWarehouseModel(L=config.L)
    if isinstance(config, PybulletModelConfig):
        from robocoord.training.gmfs.pybullet_model import PybulletWarehouseModel

        return PybulletWarehouseModel.from_config(config)
    return SyntheticModel(config.n_states, config.n_actions, config.seed)


def log_log_slope(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def run_study(
    config: GmfsStudyConfig, plots_dir: Path | None = None, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Run the sweep; returns the JSON document (results, tv_slope, tv, deltas) and writes PNGs to ``plots_dir``."""
    model = build_model(config.model)
    positions = layout_positions(config.layout, config.n)
    w_bar = normalised_weights(
        graphon_matrix(config.graphon.kind, positions, **graphon_params(config.graphon))
    )
    sampling_w_bar = {"graphon": w_bar, "uniform": uniform_weights(config.n)}

    results: list[dict[str, Any]] = []
    tv: dict[str, list[float]] = {mode: [] for mode in config.sampling}
    deltas: dict[int, list[float]] = {}
    for kappa in config.kappas:
        returns: dict[str, list[np.ndarray]] = {mode: [] for mode in config.sampling}
        tv_k: dict[str, list[float]] = {mode: [] for mode in config.sampling}
        seconds = 0.0
        for seed_index in range(config.training_seeds):
            alg1 = TabularGmfs(
                model, kappa, config.gamma, config.mc_samples, config.neighbor_action, config.max_table_size
            )
            start = time.perf_counter()
            sweep_deltas = alg1.fit(config.sweeps, np.random.default_rng([config.seed, kappa, seed_index]))
            seconds += time.perf_counter() - start
            deltas.setdefault(kappa, sweep_deltas)
            act = alg1.policy()
            for mode_index, mode in enumerate(config.sampling):
                rng = np.random.default_rng([config.seed, kappa, seed_index, mode_index, 1])
                out = execute(
                    act,
                    model,
                    w_bar,
                    sampling_w_bar[mode],
                    kappa,
                    config.horizon,
                    config.rollouts,
                    config.gamma,
                    rng,
                )
                returns[mode].append(out.returns)
                tv_k[mode].append(out.mean_tv)
        for mode in config.sampling:
            all_returns = np.concatenate(returns[mode])
            results.append(
                {
                    "kappa": kappa,
                    "sampling": mode,
                    "mean": float(all_returns.mean()),
                    "stderr": float(all_returns.std() / np.sqrt(all_returns.size)),
                    "table_size": table_size(model.n_states, model.n_actions, kappa),
                    "train_seconds": seconds / config.training_seeds,
                }
            )
            tv[mode].append(float(np.mean(tv_k[mode])))
            if progress is not None:
                r = results[-1]
                progress(f"κ={kappa:<3} {mode:<8} return {r['mean']:.1f} ± {r['stderr']:.1f}")
    kappas = np.array(config.kappas, dtype=float)
    slope_mode = "graphon" if "graphon" in tv else config.sampling[0]
    tv_slope = log_log_slope(kappas, np.array(tv[slope_mode])) if len(kappas) > 1 else None
    document: dict[str, Any] = {
        "results": results,
        "tv_slope": tv_slope,
        "tv": [
            {"kappa": int(k), "sampling": m, "tv": tv[m][i]} for m in tv for i, k in enumerate(config.kappas)
        ],
        "neighbor_action": config.neighbor_action,
    }
    if plots_dir is not None:
        document["plots"] = [str(p) for p in write_plots(document, deltas, plots_dir)]
    return document


def write_plots(document: dict[str, Any], deltas: dict[int, list[float]], plots_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots_dir.mkdir(parents=True, exist_ok=True)
    written = []

    fig, ax = plt.subplots(figsize=(6, 4))
    for mode in dict.fromkeys(r["sampling"] for r in document["results"]):
        rows = [r for r in document["results"] if r["sampling"] == mode]
        ax.errorbar(
            [r["kappa"] for r in rows],
            [r["mean"] for r in rows],
            yerr=[r["stderr"] for r in rows],
            marker="o",
            capsize=3,
            label=f"{mode} sampling",
        )
    ax.set(xlabel="κ (neighbours subsampled)", ylabel="discounted per-agent return", title="GMFS return vs κ")
    ax.grid(alpha=0.3)
    ax.legend()
    written.append(plots_dir / "return_vs_kappa.png")
    fig.tight_layout()
    fig.savefig(written[-1], dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    for mode in dict.fromkeys(t["sampling"] for t in document["tv"]):
        rows = [t for t in document["tv"] if t["sampling"] == mode]
        ax.loglog(
            [t["kappa"] for t in rows], [t["tv"] for t in rows], marker="o", label=f"TV(ĝ/κ, g), {mode}"
        )
    graphon_rows = [t for t in document["tv"] if t["sampling"] == "graphon"] or document["tv"]
    k = np.array([t["kappa"] for t in graphon_rows], dtype=float)
    anchor = graphon_rows[0]["tv"] * np.sqrt(k[0])
    ax.loglog(k, anchor / np.sqrt(k), "k--", label="∝ 1/√κ")
    ax.set(
        xlabel="κ",
        ylabel="mean TV distance",
        title=f"mean-field estimate error (slope {document['tv_slope']:.2f})",
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    written.append(plots_dir / "tv_vs_kappa.png")
    fig.tight_layout()
    fig.savefig(written[-1], dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    for kappa, series in deltas.items():
        ax.semilogy(np.arange(1, len(series) + 1), np.maximum(series, 1e-12), label=f"κ={kappa}")
    ax.set(
        xlabel="sweep t", ylabel="max |ΔQ|", title=f"Alg. 1 Bellman max-delta ({document['neighbor_action']})"
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    written.append(plots_dir / "bellman_max_delta.png")
    fig.tight_layout()
    fig.savefig(written[-1], dpi=120)
    plt.close(fig)
    return written
