"""``robocoord train drigm``: run folders, TensorBoard curves, export and a short evaluation per seed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from robocoord.config import config_hash
from robocoord.runs import RunDir
from robocoord.training.drigm.config import DrigmTrainConfig
from robocoord.training.drigm.tasks import check_team_size
from robocoord.training.drigm.train import RunSpec, evaluate_learner, export_agent, train_learner


def _throttled(run_dir: RunDir, every: int) -> Callable[[int, dict[str, float]], None]:
    """Log to CSV/TensorBoard at most once per ``every`` env steps."""
    last = [-every]

    def log(step: int, metrics: dict[str, float]) -> None:
        if step - last[0] >= every and metrics:
            run_dir.log(step, **metrics)
            last[0] = step

    return log


def train_from_config(
    cfg: DrigmTrainConfig, argv: list[str] | None = None, progress: bool = False
) -> dict[str, Any]:
    check_team_size(cfg.env.task, cfg.env.n_agents)
    from robocoord.training.export import make_provenance

    run = RunSpec(
        algo=cfg.algo,
        robust=cfg.robust,
        rho=cfg.rho,
        env=cfg.env,
        learner=cfg.learner,
        v_min=cfg.v_min,
        g_loss=cfg.g_loss,
        dr_shifts=tuple(cfg.dr_shifts),
    )
    runs = []
    for seed in cfg.seeds:
        with RunDir.create(f"{cfg.name}-s{seed}", cfg, seed, root=cfg.runs_root, argv=argv) as run_dir:
            learner, stats = train_learner(run, seed, log=_throttled(run_dir, cfg.learner.update_every_steps))
            provenance = make_provenance(
                "robocoord.training.drigm",
                config_hash=config_hash(cfg),
                seed=seed,
                disruptions=[s.model_dump() for s in cfg.dr_shifts]
                if cfg.robust in ("dr", "groupdr")
                else [],
            )
            exported = export_agent(
                learner,
                run_dir.artifacts / "policy.onnx",
                env=cfg.env,
                control_rate_hz=cfg.control_rate_hz,
                provenance=provenance,
            )
            evals = {"nominal": float(evaluate_learner(learner, cfg.env, {}, cfg.eval_episodes, seed).mean())}
            for shift in cfg.validation_shifts:
                evals[shift.name] = float(
                    evaluate_learner(learner, cfg.env, dict(shift.params), cfg.eval_episodes, seed).mean()
                )
            run_dir.log(stats.env_steps, **{f"eval/{k}": v for k, v in evals.items()})
            summary = {
                "seed": seed,
                "run_dir": str(run_dir.path),
                "artifact": str(exported.path),
                "env_steps": stats.env_steps,
                "q_updates": stats.q_updates,
                "g_updates": stats.g_updates,
                "train_seconds": stats.wall_s,
                "env_steps_per_s": stats.steps_per_s,
                "eval": evals,
            }
            run_dir.write_json("summary.json", summary)
            runs.append(summary)
    return {"algo": cfg.algo, "robust": cfg.robust, "rho": cfg.rho, "runs": runs}
