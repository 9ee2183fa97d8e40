"""The OOD study: {non-robust, DR, ρ-contamination, TV} × {VDN, QMIX, QTRAN} × seeds.

Every cell is trained on the nominal task (DR: on nominal ∪ ``dr_shifts``), then its greedy
decentralised policy is evaluated nominal, on the validation shifts and on the test shifts.
For each robust kind the ρ of its grid with the best mean *validation* return is kept; test
shifts never take part in any choice. Returns are divided by ``return_scale``.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from robocoord.training.drigm.config import DrigmStudyConfig

ROBUST_KINDS = ("contamination", "tv")


@dataclass(frozen=True)
class Cell:
    mixer: str
    robust: str
    rho: float
    v_min: str
    seed: int


def cells_of(cfg: DrigmStudyConfig) -> list[Cell]:
    out = []
    for mixer in cfg.mixers:
        for variant in cfg.variants:
            for rho in variant.rho_grid:
                for seed in cfg.seeds:
                    out.append(Cell(mixer, variant.robust, rho, variant.v_min, seed))
    return out


def run_cell(cfg: DrigmStudyConfig, cell: Cell) -> dict[str, Any]:
    """Train one cell and evaluate it everywhere: {shift name: mean return} plus throughput."""
    import torch

    from robocoord.training.drigm.train import RunSpec, evaluate_learner, train_learner

    torch.set_num_threads(1)
    run = RunSpec(
        algo=cell.mixer,
        robust=cell.robust,
        rho=cell.rho,
        env=cfg.env,
        learner=cfg.learner,
        v_min=cell.v_min,
        dr_shifts=tuple(cfg.dr_shifts),
    )
    learner, stats = train_learner(run, seed=cell.seed)
    returns: dict[str, float] = {}
    shifts = [("nominal", {})] + [(s.name, dict(s.params)) for s in cfg.validation_shifts + cfg.test_shifts]
    for i, (name, params) in enumerate(shifts):
        r = evaluate_learner(learner, cfg.env, params, cfg.eval_episodes, seed=10_000 + 97 * cell.seed + i)
        returns[name] = float(r.mean())
    return {"cell": cell, "returns": returns, "env_steps": stats.env_steps, "wall_s": stats.wall_s}


def _run_cell_star(args: tuple[DrigmStudyConfig, Cell]) -> dict[str, Any]:
    return run_cell(*args)


def run_cells(cfg: DrigmStudyConfig, progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    cells = cells_of(cfg)
    out: list[dict[str, Any]] = []
    if cfg.workers == 1:
        for i, cell in enumerate(cells):
            out.append(run_cell(cfg, cell))
            if progress:
                progress(f"[{i + 1}/{len(cells)}] {cell}")
        return out
    with mp.get_context("spawn").Pool(cfg.workers) as pool:
        for i, result in enumerate(pool.imap_unordered(_run_cell_star, [(cfg, c) for c in cells])):
            out.append(result)
            if progress:
                progress(f"[{i + 1}/{len(cells)}] {result['cell']}")
    return out


def _stats(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=np.float64)
    stderr = float(arr.std(ddof=1) / np.sqrt(len(arr))) if len(arr) > 1 else 0.0
    return float(arr.mean()), stderr


def summarise(cfg: DrigmStudyConfig, raw: list[dict[str, Any]]) -> dict[str, Any]:
    """ρ selection on validation, the results rows of the issue's schema, and the acceptance criteria."""
    scale = cfg.return_scale
    val_names = [s.name for s in cfg.validation_shifts]
    test_names = [s.name for s in cfg.test_shifts]
    split = {"nominal": "nominal", **{n: "validation" for n in val_names}, **{n: "test" for n in test_names}}
    groups: dict[tuple[str, str, float], list[dict[str, float]]] = {}
    seeds_of: dict[tuple[str, str, float], list[int]] = {}
    for item in sorted(raw, key=lambda it: it["cell"].seed):  # seed order: per_seed lists line up
        c: Cell = item["cell"]
        groups.setdefault((c.mixer, c.robust, c.rho), []).append(item["returns"])
        seeds_of.setdefault((c.mixer, c.robust, c.rho), []).append(c.seed)

    def seed_means(key: tuple[str, str, float], names: list[str]) -> list[float]:
        return [float(np.mean([r[n] for n in names])) / scale for r in groups[key]]

    grid_rows = []
    chosen: dict[tuple[str, str], float] = {}
    for mixer in cfg.mixers:
        for variant in cfg.variants:
            best_rho, best_val = variant.rho_grid[0], -np.inf
            for rho in variant.rho_grid:
                val_mean = float(np.mean(seed_means((mixer, variant.robust, rho), val_names)))
                grid_rows.append(
                    {"mixer": mixer, "robust": variant.robust, "rho": rho, "validation_mean": val_mean}
                )
                if val_mean > best_val:
                    best_rho, best_val = rho, val_mean
            chosen[(mixer, variant.robust)] = best_rho
    for row in grid_rows:
        row["selected"] = chosen[(row["mixer"], row["robust"])] == row["rho"]

    results = []
    for (mixer, robust), rho in chosen.items():
        runs = groups[(mixer, robust, rho)]
        for name in ["nominal", *val_names, *test_names]:
            mean, stderr = _stats([r[name] / scale for r in runs])
            results.append(
                {
                    "mixer": mixer,
                    "robust": robust,
                    "rho": rho,
                    "shift": name,
                    "split": split[name],
                    "mean": mean,
                    "stderr": stderr,
                    "seeds": len(runs),
                    # one normalised return per training seed (in ``seed_ids`` order): a mean moved by
                    # one bad seed shows here
                    "per_seed": [r[name] / scale for r in runs],
                    "seed_ids": seeds_of[(mixer, robust, rho)],
                }
            )
    criteria = []
    kinds = {v.robust for v in cfg.variants}
    for mixer in cfg.mixers:
        robust_kinds = [k for k in ROBUST_KINDS if k in kinds]
        if "none" not in kinds or not robust_kinds:
            continue
        best_kind = max(
            robust_kinds, key=lambda k: float(np.mean(seed_means((mixer, k, chosen[(mixer, k)]), val_names)))
        )
        rho = chosen[(mixer, best_kind)]
        ood_robust = float(np.mean(seed_means((mixer, best_kind, rho), test_names)))
        ood_none = float(np.mean(seed_means((mixer, "none", 0.0), test_names)))
        id_robust = float(np.mean(seed_means((mixer, best_kind, rho), ["nominal"])))
        id_none = float(np.mean(seed_means((mixer, "none", 0.0), ["nominal"])))
        id_drop = (id_none - id_robust) / abs(id_none) if id_none != 0 else 0.0
        criteria.append(
            {
                "mixer": mixer,
                "robust_best": best_kind,
                "rho": rho,
                "ood_mean_robust": ood_robust,
                "ood_mean_none": ood_none,
                "ood_gain": ood_robust - ood_none,
                "id_mean_robust": id_robust,
                "id_mean_none": id_none,
                "id_drop": id_drop,
                "ood_ok": ood_robust >= ood_none,
                "id_ok": id_drop <= cfg.max_id_drop,
            }
        )
    steps = sum(item["env_steps"] for item in raw)
    wall = sum(item["wall_s"] for item in raw)
    return {
        "results": results,
        "rho_grid": grid_rows,
        "criteria": criteria,
        "training": {
            "runs": len(raw),
            "env_steps": steps,
            "train_seconds": wall,
            "env_steps_per_s": steps / wall,
        },
    }


def run_study(cfg: DrigmStudyConfig, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    return summarise(cfg, run_cells(cfg, progress))


def format_table(doc: dict[str, Any]) -> str:
    """Paper-style table: normalised return ± stderr per (mixer, robust kind) and shift."""
    rows: dict[tuple[str, str, float], dict[str, str]] = {}
    shifts: list[str] = []
    for r in doc["results"]:
        if r["shift"] not in shifts:
            shifts.append(r["shift"])
        rows.setdefault((r["mixer"], r["robust"], r["rho"]), {})[r["shift"]] = (
            f"{r['mean']:.3f}±{r['stderr']:.3f}"
        )
    width = max(13, *(len(s) + 2 for s in shifts))
    lines = [f"{'mixer':<7}{'robust':<15}{'rho':>6} " + "".join(f"{s:>{width}}" for s in shifts)]
    for (mixer, robust, rho), cells in rows.items():
        lines.append(
            f"{mixer:<7}{robust:<15}{rho:>6.3g} " + "".join(f"{cells.get(s, '-'):>{width}}" for s in shifts)
        )
    for c in doc.get("criteria", []):
        lines.append(
            f"{c['mixer']}: best robust = {c['robust_best']} ρ={c['rho']:g}; OOD {c['ood_mean_robust']:.3f} vs "
            f"non-robust {c['ood_mean_none']:.3f} ({'ok' if c['ood_ok'] else 'NOT met'}); "
            f"ID drop {100 * c['id_drop']:.1f}% ({'ok' if c['id_ok'] else 'NOT met'})"
        )
    t = doc.get("training")
    if t:
        lines.append(f"training: {t['runs']} runs, {t['env_steps_per_s']:.0f} env steps/s per run")
    return "\n".join(lines) + "\n"
