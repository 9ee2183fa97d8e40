"""Measure the warehouse transition table P(s' | s, a, c) from PyBullet rollouts.

Behaviour policy: every episode each block draws its own action propensities from a
flat Dirichlet and its robots act i.i.d. from them, so blocks range from nearly all
idle to nearly all heading for work and every congestion level gets visited. Each
(s, a, c, s') of each robot and decision is one sample; c is spread over the two
nearest congestion levels with linear weights, matching the linear interpolation
of :meth:`WarehouseTransitionModel.transition_probs`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from importlib import metadata

import numpy as np

from robocoord.runs import git_sha
from robocoord.sim.config import WarehouseParams
from robocoord.sim.disruptions.spec import DisruptionSpec
from robocoord.sim.disruptions.wrappers import RunPhase, wrap
from robocoord.sim.tasks.warehouse import WarehouseParallelEnv
from robocoord.sim.tasks.warehouse_model import N_STATES, WarehouseTransitionModel

DEFAULT_LEVELS = np.linspace(0.0, 1.0, 6)


def accumulate(
    counts: np.ndarray,
    levels: np.ndarray,
    state: np.ndarray,
    action: np.ndarray,
    congestion: np.ndarray,
    next_state: np.ndarray,
) -> None:
    """Add samples to ``counts`` (S, A, C, S') in place, splitting each between two congestion levels."""
    upper = np.clip(np.searchsorted(levels, congestion, side="right"), 1, len(levels) - 1)
    lower = upper - 1
    w_upper = np.clip((congestion - levels[lower]) / (levels[upper] - levels[lower]), 0.0, 1.0)
    np.add.at(counts, (state, action, lower, next_state), 1.0 - w_upper)
    np.add.at(counts, (state, action, upper, next_state), w_upper)


def measure_transitions(
    params: WarehouseParams = WarehouseParams(n_robots=64),
    episodes: int = 30,
    decisions_per_episode: int = 20,
    seed: int = 0,
    levels: np.ndarray = DEFAULT_LEVELS,
    progress: Callable[[int, int], None] | None = None,
    disruptions: Sequence[DisruptionSpec] = (),
    phase: RunPhase = "eval",
) -> WarehouseTransitionModel:
    """Roll out the behaviour policy and tabulate (s, a, c) -> s'.

    With ``disruptions`` the rollouts run under them (applied through the same wrappers as
    everywhere else, in ``phase``), giving the table of the disrupted world; ``a`` is always
    the *intended* action, so action disruptions end up inside the measured kernel.
    """
    if episodes < 1 or decisions_per_episode < 1:
        raise ValueError("episodes and decisions_per_episode must be >= 1")
    params = params.model_copy(update={"max_decisions": max(params.max_decisions, decisions_per_episode)})
    rng = np.random.default_rng(seed)
    env = wrap(WarehouseParallelEnv(params), list(disruptions), phase=phase)
    sim = env.unwrapped.sim
    agents = env.unwrapped.possible_agents
    counts = np.zeros((N_STATES, N_STATES, len(levels), N_STATES))
    n_blocks = int(sim.layout.block_of.max()) + 1
    try:
        for episode in range(episodes):
            env.reset(seed=int(rng.integers(2**31)))
            propensity = rng.dirichlet(np.ones(N_STATES), size=n_blocks)[sim.layout.block_of]
            cdf = np.cumsum(propensity, axis=1)
            for _ in range(decisions_per_episode):
                state, congestion = sim.task_state.copy(), sim.congestion()
                action = (rng.random((sim.n_robots, 1)) > cdf).sum(axis=1).clip(max=N_STATES - 1)
                env.step({agent: int(a) for agent, a in zip(agents, action, strict=True)})
                accumulate(counts, levels, state, action, congestion, sim.task_state)
            if progress is not None:
                progress(episode + 1, episodes)
    finally:
        env.close()
    provenance = {
        "generator": "robocoord.sim.tasks.warehouse_fit.measure_transitions",
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_sha": git_sha(),
        "pybullet": _version("pybullet"),
        "numpy": np.__version__,
        "seed": seed,
        "episodes": episodes,
        "decisions_per_episode": decisions_per_episode,
        "samples": int(counts.sum().round()),
        "params": params.model_dump(mode="json"),
        "behaviour_policy": "per-block Dirichlet(1,1,1) action propensities, i.i.d. per robot and decision",
        "disruptions": [d.model_dump(mode="json") for d in disruptions],
        "disruption_phase": phase,
    }
    return WarehouseTransitionModel.from_counts(counts, levels, provenance)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
