"""Training loop, greedy evaluation and export for the DrIGM learner.

``train_learner`` collects ``n_envs`` episodes at a time with ε-greedy decentralised agents,
stores them in the episode buffer and, every ``update_every_steps`` new env steps, runs
one round of ``g_updates`` G steps (TV only) then ``q_updates`` Q steps. Target networks are
hard-copied every ``target_update_steps`` environment steps. ``robust: dr`` trains with the
standard target while every episode draws its environment variant from nominal ∪ ``dr_shifts``;
``robust: groupdr`` draws it from the group weights of :mod:`group_dr` (towards the worst group).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from robocoord.training.drigm.buffer import EpisodeBatch, EpisodeReplayBuffer
from robocoord.training.drigm.config import EnvSpec, LearnerSpec, ShiftSpec
from robocoord.training.drigm.group_dr import GroupWeights
from robocoord.training.drigm.learner import DrigmLearner, TeamDims
from robocoord.training.drigm.schedules import LinearSchedule
from robocoord.training.drigm.tasks import TeamTask, make_task

ACTION_MEANINGS = {"tiny": ["collect", "push"], "team_push": ["stop", "forward", "left", "right"]}


@dataclass(frozen=True)
class RunSpec:
    """Everything one training run needs (a train config minus bookkeeping, or one cell of a study)."""

    algo: str
    robust: str
    rho: float
    env: EnvSpec
    learner: LearnerSpec
    v_min: str = "zero"
    g_loss: str = "dual"
    dr_shifts: tuple[ShiftSpec, ...] = ()


@dataclass
class TrainStats:
    env_steps: int = 0
    episodes: int = 0
    q_updates: int = 0
    g_updates: int = 0
    wall_s: float = 0.0
    returns: list[float] = field(default_factory=list)
    group_weights: list[float] = field(default_factory=list)  # groupdr: q over nominal ∪ dr_shifts, last

    @property
    def steps_per_s(self) -> float:
        return self.env_steps / self.wall_s if self.wall_s > 0 else 0.0


def dims_of(task: TeamTask) -> TeamDims:
    return TeamDims(task.n_agents, task.n_actions, task.obs_dim, task.state_dim)


def collect_episodes(
    task: TeamTask,
    learner: DrigmLearner,
    epsilon: float,
    rng: np.random.Generator,
    seed: int,
    shift_ids: np.ndarray,
) -> EpisodeBatch:
    """One episode per env slot, acted ε-greedily by the agents' own recurrent histories."""
    n_envs, n, steps = task.n_envs, task.n_agents, task.episode_steps
    obs_buf = np.zeros((n_envs, steps + 1, n, task.obs_dim), dtype=np.float32)
    state_buf = np.zeros((n_envs, steps + 1, max(task.state_dim, 0)), dtype=np.float32)
    actions_buf = np.zeros((n_envs, steps, n), dtype=np.int64)
    reward_buf = np.zeros((n_envs, steps), dtype=np.float32)
    term_buf = np.zeros((n_envs, steps), dtype=np.float32)
    filled = np.zeros((n_envs, steps), dtype=np.float32)
    obs, state = task.reset(seed)
    obs_buf[:, 0], state_buf[:, 0] = obs, state
    hidden = learner.agent.initial_state(n_envs * n)
    prev = np.full((n_envs, n), -1, dtype=np.int64)
    alive = np.ones(n_envs, dtype=bool)
    for t in range(steps):
        actions, hidden = learner.act(obs, prev, hidden, epsilon, rng)
        obs, state, reward, terminated, truncated = task.step(actions)
        actions_buf[:, t] = actions
        reward_buf[:, t] = np.where(alive, reward, 0.0)
        term_buf[:, t] = np.where(alive, terminated, False)
        filled[:, t] = alive
        obs_buf[:, t + 1], state_buf[:, t + 1] = obs, state
        alive = alive & ~(np.asarray(terminated) | np.asarray(truncated))
        prev = actions
        if not alive.any():
            break
    return EpisodeBatch(
        obs_buf, state_buf, actions_buf, reward_buf, term_buf, filled, shift_ids.astype(np.int64)
    )


def train_learner(
    run: RunSpec,
    seed: int,
    log: Callable[[int, dict[str, float]], None] | None = None,
    task: TeamTask | None = None,
) -> tuple[DrigmLearner, TrainStats]:
    torch.set_num_threads(1)
    spec = run.learner
    task = task or make_task(run.env, spec.n_envs)
    learner = DrigmLearner(
        mixer=run.algo,
        robust=run.robust,
        rho=run.rho,
        dims=dims_of(task),
        spec=spec,
        v_min=run.v_min,  # type: ignore[arg-type]
        g_loss=run.g_loss,
        seed=seed,
    )
    rng = np.random.default_rng(seed)
    buffer = EpisodeReplayBuffer(
        spec.buffer_episodes, task.episode_steps, task.n_agents, task.obs_dim, task.state_dim
    )
    epsilon = LinearSchedule(spec.eps_start, spec.eps_end, spec.eps_anneal_steps)
    variants: list[dict[str, float]] = [dict[str, float]()] + [dict(s.params) for s in run.dr_shifts]
    groups = GroupWeights(len(variants), spec.group_dr_step_size, spec.group_dr_uniform_mix)
    stats = TrainStats()
    start = time.perf_counter()
    last_target = 0
    new_steps = 0
    rollout = 0
    while stats.env_steps < spec.total_env_steps:
        shift_ids = np.zeros(task.n_envs, dtype=np.int64)
        if run.robust == "dr":  # uniform over nominal ∪ dr_shifts
            shift_ids = rng.integers(0, len(variants), size=task.n_envs)
        elif run.robust == "groupdr":  # weighted towards the groups the team does worst on
            shift_ids = groups.sample(rng, task.n_envs)
        if run.robust in ("dr", "groupdr"):
            task.set_variants([variants[i] for i in shift_ids])
        eps = epsilon(stats.env_steps)
        batch = collect_episodes(task, learner, eps, rng, seed * 100_003 + rollout, shift_ids)
        if run.robust == "groupdr":
            groups.update(shift_ids, batch.reward.sum(axis=1))
            stats.group_weights = groups.q.tolist()
        rollout += 1
        buffer.add(batch)
        stats.env_steps += int(batch.filled.sum())
        stats.episodes += batch.size
        new_steps += int(batch.filled.sum())
        stats.returns.extend(batch.reward.sum(axis=1).tolist())
        metrics: dict[str, float] = {}
        if (
            len(buffer) >= max(spec.learning_starts_episodes, spec.batch_episodes)
            and new_steps >= spec.update_every_steps
        ):
            new_steps = 0
            if learner.g_net is not None:
                for _ in range(spec.g_updates):
                    metrics["g_loss"] = learner.g_step(buffer.sample(spec.batch_episodes, rng))
                    stats.g_updates += 1
            for _ in range(spec.q_updates):
                metrics.update(learner.q_step(buffer.sample(spec.batch_episodes, rng)))
                stats.q_updates += 1
        if stats.env_steps - last_target >= spec.target_update_steps:
            learner.update_targets()
            last_target = stats.env_steps
        if log is not None:
            metrics.update(epsilon=eps, episode_return=float(batch.reward.sum(axis=1).mean()))
            log(stats.env_steps, metrics)
    stats.wall_s = time.perf_counter() - start
    return learner, stats


def evaluate_learner(
    learner: DrigmLearner, env: EnvSpec, variant: dict[str, float], episodes: int, seed: int, n_envs: int = 16
) -> np.ndarray:
    """Undiscounted team returns of the greedy decentralised policy on one environment variant."""
    task = make_task(env, min(n_envs, episodes))
    task.set_variants([dict(variant)] * task.n_envs)
    returns: list[float] = []
    rng = np.random.default_rng(seed)
    round_ = 0
    while len(returns) < episodes:
        batch = collect_episodes(task, learner, 0.0, rng, seed * 7919 + round_, np.zeros(task.n_envs))
        returns.extend(batch.reward.sum(axis=1).tolist())
        round_ += 1
    task.close()
    return np.asarray(returns[:episodes])


def export_agent(
    learner: DrigmLearner,
    path: Path,
    *,
    env: EnvSpec,
    control_rate_hz: float,
    provenance: Any,
    extra: dict[str, Any] | None = None,
) -> Any:
    """The shared per-agent utility network as a family-"drigm" artifact with its recurrent state explicit."""
    from robocoord.controllers.contract import DiscreteActionSpec, ObservationField, ObservationSpec
    from robocoord.training.export import export_policy

    dims = learner.dims
    observation = ObservationSpec(
        fields=[
            ObservationField(
                name="obs", size=dims.obs_dim, unit="1", description=f"{env.task} per-agent observation"
            ),
            ObservationField(
                name="prev_action", size=dims.n_actions, unit="1", description="one-hot previous action"
            ),
            ObservationField(
                name="agent_id", size=dims.n_agents, unit="1", description="one-hot agent index"
            ),
        ],
        mean=[0.0] * dims.agent_input_dim,
        std=[1.0] * dims.agent_input_dim,
        clip=None,
    )
    meanings = ACTION_MEANINGS.get(env.task, [f"a{i}" for i in range(dims.n_actions)])
    action = DiscreteActionSpec(n=dims.n_actions, meanings=meanings, safe_action=0)
    family_params = {
        "task": env.task,
        "n_agents": dims.n_agents,
        "n_actions": dims.n_actions,
        "obs_dim": dims.obs_dim,
        "state_dim": dims.state_dim,
        "episode_steps": env.episode_steps,
        "env_params": dict(env.params),
        "mixer": learner.mixer_kind,
        "robust": learner.robust,
        "rho": learner.rho,
        "v_min": learner.v_min_kind,
        "hidden": learner.spec.hidden,
        "rnn": learner.spec.rnn,
        "state_name": "h",
        **(extra or {}),
    }
    if env.task == "team_push":  # the task as data: the robot builds observations and primitives from it
        from robocoord.sim.config import TeamPushParams
        from robocoord.sim.tasks.team_push import task_spec
        from robocoord.training.drigm.team_push_task import TASK_KEYS

        task_kwargs = {k: v for k, v in env.params.items() if k in TASK_KEYS}
        params = TeamPushParams(n_robots=env.n_agents, max_decisions=env.episode_steps, **task_kwargs)
        family_params["team_push"] = task_spec(params)
    agent = learner.agent.eval()
    return export_policy(
        agent,
        path,
        family="drigm",
        observation=observation,
        action=action,
        control_rate_hz=control_rate_hz,
        provenance=provenance,
        family_params=family_params,
        recurrent_state=[("h", agent.state_size)],
    )
