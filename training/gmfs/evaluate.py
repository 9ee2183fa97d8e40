"""GMFS artifacts in the PyBullet warehouse: ``robocoord eval ARTIFACT`` and the robots comparison.

Every decision period each robot reads its own task state from its observation, draws κ
neighbours from W̄_i· of the artifact's graphon over the fleet's latent positions (the runtime
sampler of :mod:`robocoord.controllers.gmfs_sampler`), counts their reported states into ĝ_i and
runs the artifact on (one-hot s_i, ĝ_i/κ). Disruptions (``kind: disruptions``) are applied by the
sim's wrappers in the ``eval`` phase, physics included.

Two readings of "completed work", both per robot and minute of simulated time:

* ``throughput``: robot-decisions that end in Working (time spent working);
* ``jobs``: arrivals at the work station (a decision that starts outside Working and ends in it).

``dispatches``: decisions that send a robot outside Working towards its station (intended action
Working), per robot and minute; ``dispatches - jobs`` is roughly the wasted trips.

``return_mean`` is the per-robot undiscounted sum of the sim's reward (the paper's reward) over an
episode; ``objective_return_mean`` the same sum of the objective the artifact was trained on (its
``family_params.model``): the paper's reward, or for ``objective: jobs`` the arrivals minus
``trip_cost`` per dispatch.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from robocoord.controllers.gmfs_sampler import (
    NeighbourSampler,
    graphon_matrix,
    neighbour_counts,
    normalised_weights,
    uniform_weights,
)

BASELINES = ("gmfs", "gmfs_uniform", "always_work", "random")
N_STATES, WORKING = 3, 2


def _policy(
    name: str, artifact: Path, positions: np.ndarray, rng: np.random.Generator
) -> tuple[Callable[[np.ndarray], np.ndarray], dict[str, Any]]:
    """(task states -> actions, artifact facts) for one of :data:`BASELINES`."""
    from robocoord.controllers.policy import PolicyRuntime

    runtime = PolicyRuntime(artifact)
    params = runtime.contract.family_params
    if runtime.contract.family != "gmfs":
        raise ValueError(f"{artifact}: family {runtime.contract.family!r} is not gmfs")
    for key in ("kappa", "graphon"):
        if key not in params:
            raise ValueError(f"{artifact}: family_params.{key} missing")
    kappa = int(params["kappa"])
    graphon = dict(params["graphon"])
    kind = str(graphon.pop("kind"))
    n = len(positions)
    w_bar = normalised_weights(graphon_matrix(kind, positions, **graphon))
    model = params.get("model", {})
    facts = {
        "kappa": kappa,
        "graphon": kind,
        "L": float(model.get("L", 1.0)),
        "objective": str(model.get("objective", "paper")),
        "trip_cost": float(model.get("trip_cost", 0.0)),
    }
    if name == "always_work":
        return (lambda s: np.full(s.shape, WORKING)), facts
    if name == "random":
        return (lambda s: rng.integers(0, N_STATES, size=s.shape)), facts
    if name not in ("gmfs", "gmfs_uniform"):
        raise ValueError(f"policy: unknown {name!r}; expected one of {', '.join(BASELINES)}")
    sampler = NeighbourSampler(w_bar if name == "gmfs" else uniform_weights(n), kappa)

    def act(s: np.ndarray) -> np.ndarray:
        g_hat = neighbour_counts(s, sampler.sample(rng), N_STATES)  # ĝ_i
        obs = np.concatenate(
            [np.eye(N_STATES, dtype=np.float32)[s], g_hat.astype(np.float32) / kappa], axis=1
        )
        return np.asarray(runtime.act(obs).action, dtype=np.int64)

    return act, facts


def run_warehouse(
    artifact: Path,
    policy: str = "gmfs",
    robots: int = 100,
    disruptions: Path | None = None,
    episodes: int = 1,
    seed: int = 0,
    seconds: float = 60.0,
) -> dict[str, Any]:
    """Episodes of one policy in the PyBullet warehouse; per-episode return and throughput."""
    from robocoord.sim.config import WarehouseParams
    from robocoord.sim.tasks.warehouse import WarehouseParallelEnv

    probe = WarehouseParams(n_robots=robots)
    decisions = max(1, round(seconds / probe.decision_period_s))
    env: Any = None
    returns, objective_returns, throughput, working, jobs, dispatches = [], [], [], [], [], []
    try:
        for episode in range(episodes):
            rng = np.random.default_rng([seed, episode])
            if env is None:
                base = WarehouseParallelEnv(n_robots=robots, max_decisions=decisions)
                act, facts = _policy(policy, artifact, base.latent_positions, rng)
                base.close()
                params = WarehouseParams(
                    n_robots=robots, max_decisions=decisions, congestion_penalty_L=facts["L"]
                )
                env = WarehouseParallelEnv(params)
                if disruptions is not None:
                    from robocoord.sim.disruptions.spec import load_disruptions
                    from robocoord.sim.disruptions.wrappers import wrap

                    env = wrap(env, load_disruptions(disruptions), phase="eval")
                agents = list(env.possible_agents)
            else:
                act, facts = _policy(policy, artifact, env.unwrapped.latent_positions, rng)
            obs, _ = env.reset(seed=int(seed * 1000 + episode))
            total_reward, at_work, arrivals, sent = 0.0, 0, 0, 0
            for _ in range(decisions):
                seen = np.stack([obs[a] for a in agents])[:, :N_STATES]
                s = np.argmax(
                    seen, axis=1
                )  # the state each robot reports (noisy under observation disruptions)
                actions = act(s)
                before = env.unwrapped.task_states  # true states, for counting arrivals
                sent += int(((actions == WORKING) & (before != WORKING)).sum())
                obs, reward, _, _, infos = env.step({a: int(actions[i]) for i, a in enumerate(agents)})
                total_reward += sum(float(infos[a].get("true_reward", reward[a])) for a in agents)
                after = np.array([int(infos[a]["task_state"]) for a in agents])
                at_work += int((after == WORKING).sum())
                arrivals += int(((after == WORKING) & (before != WORKING)).sum())
            minutes = decisions * probe.decision_period_s / 60.0
            returns.append(total_reward / robots)
            if facts["objective"] == "jobs":
                objective_returns.append((arrivals - facts["trip_cost"] * sent) / robots)
            else:
                objective_returns.append(total_reward / robots)
            throughput.append(at_work / robots / minutes)
            working.append(at_work / (robots * decisions))
            jobs.append(arrivals / robots / minutes)
            dispatches.append(sent / robots / minutes)
    finally:
        if env is not None:
            env.close()
    r = np.asarray(returns)
    o = np.asarray(objective_returns)
    return {
        "policy": policy,
        "episodes": episodes,
        "return_mean": float(r.mean()),
        "return_stderr": float(r.std() / np.sqrt(len(r))) if len(r) > 1 else 0.0,
        "returns_per_episode": [float(x) for x in r],
        "objective": facts["objective"],
        "objective_return_mean": float(o.mean()),
        "objective_return_stderr": float(o.std() / np.sqrt(len(o))) if len(o) > 1 else 0.0,
        "objective_returns_per_episode": [float(x) for x in o],
        "throughput_mean": float(np.mean(throughput)),
        "throughput_per_episode": [float(t) for t in throughput],
        "working_fraction": float(np.mean(working)),
        "jobs_mean": float(np.mean(jobs)),
        "jobs_stderr": float(np.std(jobs) / np.sqrt(len(jobs))) if len(jobs) > 1 else 0.0,
        "jobs_per_episode": [float(j) for j in jobs],
        "dispatches_mean": float(np.mean(dispatches)),
        "dispatches_per_episode": [float(d) for d in dispatches],
        "decisions": decisions,
        "robots": robots,
    }


def evaluate_artifact(
    *,
    artifact: Path,
    task: str | None = None,
    robots: int | None = None,
    disruptions: Path | None = None,
    episodes: int = 5,
    seed: int = 0,
    seconds: float | None = None,
) -> dict[str, Any]:
    """``robocoord eval`` for family gmfs: the artifact in the PyBullet warehouse (default 100 robots, 60 s)."""
    if task not in (None, "warehouse"):
        raise ValueError(f"task: gmfs artifacts run on 'warehouse', got {task!r}")
    result = run_warehouse(
        Path(artifact),
        "gmfs",
        robots or 100,
        disruptions,
        episodes,
        seed,
        seconds if seconds is not None else 60.0,
    )
    result.update({"cost_mean": None, "violations": 0, "success_rate": None, "task": "warehouse"})
    return result


def robots_comparison(
    artifact: Path,
    out_dir: Path,
    robots: int = 100,
    disruptions: Path | None = None,
    seeds: int = 3,
    seconds: float = 60.0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Neural GMFS vs random, always-work and uniform-sampling GMFS, ``seeds`` episodes each; table + plot."""
    rows = []
    for policy in BASELINES:
        res = run_warehouse(artifact, policy, robots, disruptions, episodes=seeds, seed=0, seconds=seconds)
        rows.append(res)
        if progress is not None:
            progress(
                f"{policy:<13} throughput {res['throughput_mean']:.2f} jobs {res['jobs_mean']:.2f} "
                f"dispatches {res['dispatches_mean']:.2f} return {res['return_mean']:.1f} "
                f"objective return {res['objective_return_mean']:.2f}"
            )
    document = {
        "robots": robots,
        "seeds": seeds,
        "seconds": seconds,
        "disruptions": str(disruptions),
        "rows": rows,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    import json

    (out_dir / "robots_comparison.json").write_text(json.dumps(document, indent=2))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(17, 4))
    names = [r["policy"] for r in rows]
    for ax, key, label in zip(
        axes,
        (
            "throughput_per_episode",
            "jobs_per_episode",
            "returns_per_episode",
            "objective_returns_per_episode",
        ),
        (
            "robot-decisions in Working / robot / min",
            "arrivals at work (jobs) / robot / min",
            "sim (paper) return per robot",
            f"trained objective ({rows[0]['objective']}) return per robot",
        ),
        strict=True,
    ):
        values = [np.asarray(r[key]) for r in rows]
        ax.bar(names, [v.mean() for v in values], yerr=[v.std() / np.sqrt(len(v)) for v in values], capsize=4)
        ax.set(ylabel=label)
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle(f"PyBullet warehouse, {robots} robots, {seeds} seeds")
    fig.tight_layout()
    fig.savefig(out_dir / "robots_throughput.png", dpi=120)
    plt.close(fig)
    return document
