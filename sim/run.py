"""``robocoord sim run``: drive a task with a scripted or random policy, log it, plot the trajectories.

Writes into a run folder: ``metrics.csv`` (per decision: mean reward, and task extras),
``plots/trajectory.png`` (top-down view of every robot's path, plus the task's
stations / box / hazards), optionally ``plots/frames/*.png`` or an animation, and
``summary.json``. Time is the environment's own: nothing here reads the wall clock
except the reported wall time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from robocoord.sim.config import SimRunConfig
from robocoord.sim.disruptions.spec import DisruptionSpec
from robocoord.sim.disruptions.wrappers import wrap
from robocoord.sim.tasks.goto import wrap_angle
from robocoord.sim.tasks.warehouse_model import TaskState


@dataclass
class Trajectory:
    """Robot positions [m, world] after every decision, (T, N, 2), a NaN row at each episode restart; box for team_push."""

    robots_xy: list[np.ndarray] = field(default_factory=list)
    box_xy: list[np.ndarray] = field(default_factory=list)

    def as_array(self) -> np.ndarray:
        return np.stack(self.robots_xy)


def build_env(config: SimRunConfig, gui: bool = False) -> Any:
    if config.task == "warehouse":
        from robocoord.sim.tasks.warehouse import WarehouseParallelEnv

        return WarehouseParallelEnv(config.warehouse, gui=gui)
    if config.task == "team_push":
        from robocoord.sim.tasks.team_push import TeamPushParallelEnv

        return TeamPushParallelEnv(config.team_push, gui=gui)
    from robocoord.sim.tasks.safe_nav import SafeNavEnv

    return SafeNavEnv(config.safe_nav, gui=gui)


def decision_period_s(config: SimRunConfig) -> float:
    return {
        "warehouse": config.warehouse.decision_period_s,
        "team_push": config.team_push.decision_period_s,
        "safe_nav": config.safe_nav.decision_period_s,
    }[config.task]


# ---------------------------------------------------------------- scripted policies
def scripted_warehouse(core: Any) -> np.ndarray:
    """Work while the block is not crowded, keep working unless it is very crowded, else go home."""
    state, congestion = core.sim.task_state, core.sim.congestion()
    action = np.full(len(state), TaskState.IDLE)
    action[(state != TaskState.WORKING) & (congestion < 0.3)] = TaskState.WORKING
    action[(state == TaskState.WORKING) & (congestion < 0.6)] = TaskState.WORKING
    return action


def scripted_team_push(core: Any) -> np.ndarray:
    """Steer to a point behind the box on the goal line, then push forward."""
    from robocoord.sim.tasks.team_push import ROBOT_SETBACK_M

    box = core.box_pose_world()[:2]
    to_goal = core.goal_world_m - box
    direction = to_goal / max(float(np.linalg.norm(to_goal)), 1e-9)
    poses = core.plant.poses_world()
    actions = np.ones(len(poses), dtype=int)
    for i, pose in enumerate(poses):
        behind = box - direction * (core.params.box_size_m / 2 + 0.5 * ROBOT_SETBACK_M)
        aim = box if np.dot(pose[:2] - box, direction) < -core.params.box_size_m / 2 else behind
        error = float(wrap_angle(np.arctan2(*(aim - pose[:2])[::-1]) - pose[2]))
        actions[i] = 1 if abs(error) < 0.35 else (2 if error > 0 else 3)
    return actions


def scripted_safe_nav(core: Any) -> int:
    """Greedy on the grid: the cruise move that brings the goal closest without entering a hazard."""
    from robocoord.sim.tasks.safe_nav import ACTION_OFFSETS

    layout = core.layout
    cell = np.array(core.current_cell())
    best, best_score = 0, math.inf
    for action in range(1, 5):
        i, j = np.clip(cell + ACTION_OFFSETS[action], 0, layout.grid_cells - 1)
        score = abs(layout.goal_cell[0] - i) + abs(layout.goal_cell[1] - j)
        score += 100 if layout.hazard[i, j] else 0
        score += 100 if (int(i), int(j)) in layout.pillar_cells else 0
        if score < best_score:
            best, best_score = action, score
    return best


def policy_for(config: SimRunConfig, env: Any, rng: np.random.Generator) -> Callable[[], Any]:
    core = env.unwrapped
    parallel = hasattr(core, "possible_agents")

    def act() -> Any:
        if config.policy == "random":
            if parallel:
                return {a: int(rng.integers(core.action_space(a).n)) for a in core.agents}
            return int(rng.integers(core.action_space.n))
        if config.task == "warehouse":
            actions = scripted_warehouse(core)
        elif config.task == "team_push":
            actions = scripted_team_push(core)
        else:
            return scripted_safe_nav(core)
        return {a: int(actions[i]) for i, a in enumerate(core.possible_agents) if a in core.agents}

    return act


# ---------------------------------------------------------------- the run
def robot_positions(core: Any) -> np.ndarray:
    plant = core.sim.plant if hasattr(core, "sim") else core.plant
    return plant.poses_world()[:, :2]


def run_simulation(
    config: SimRunConfig,
    disruptions: list[DisruptionSpec],
    log: Callable[..., None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, Any], Trajectory, Any]:
    """Run ``config.seconds`` of simulated time; returns (summary, trajectory, the env's core for plotting)."""
    env = wrap(build_env(config, gui=config.gui), disruptions, phase=config.phase)
    core = env.unwrapped
    parallel = hasattr(core, "possible_agents")
    period = decision_period_s(config)
    decisions = max(1, math.ceil(config.seconds / period - 1e-9))
    rng = np.random.default_rng(config.seed)
    act = policy_for(config, env, rng)
    trajectory = Trajectory()
    returns: list[float] = []
    episode_return, episodes = 0.0, 0
    cost_total: np.ndarray | None = None
    started = time.perf_counter()
    env.reset(seed=config.seed)
    trajectory.robots_xy.append(robot_positions(core))
    for k in range(decisions):
        _, reward, terminated, truncated, info = env.step(act())
        mean_reward = float(np.mean(list(reward.values()))) if parallel else float(reward)
        episode_return += mean_reward
        metrics: dict[str, float] = {"reward_mean": mean_reward}
        cost = info.get("cost") if not parallel else None
        if cost is not None:
            cost_total = np.asarray(cost) if cost_total is None else cost_total + cost
            metrics.update(
                {f"cost_{name}": float(c) for name, c in zip(info["cost_names"], cost, strict=True)}
            )
        if config.task == "warehouse":
            counts = np.bincount(core.sim.task_state, minlength=3) / core.params.n_robots
            metrics.update(idle=counts[0], transit=counts[1], working=counts[2])
        if config.task == "team_push":
            metrics["box_to_goal_m"] = core.box_to_goal_m()
            trajectory.box_xy.append(core.box_pose_world()[:2])
        if log is not None:
            log(k + 1, **metrics)
        trajectory.robots_xy.append(robot_positions(core))
        done = any(terminated.values()) or any(truncated.values()) if parallel else terminated or truncated
        if done:
            # a NaN row breaks the plotted path where the episode restarts
            trajectory.robots_xy.append(np.full_like(trajectory.robots_xy[-1], np.nan))
            if trajectory.box_xy:
                trajectory.box_xy.append(np.full(2, np.nan))
            returns.append(episode_return)
            episode_return, episodes = 0.0, episodes + 1
            env.reset(seed=config.seed + episodes)
            trajectory.robots_xy.append(robot_positions(core))
        if progress is not None:
            progress(k + 1, decisions)
    wall_s = time.perf_counter() - started
    if episode_return or not returns:
        returns.append(episode_return)
    summary: dict[str, Any] = {
        "task": config.task,
        "policy": config.policy,
        "decisions": decisions,
        "sim_seconds": decisions * period,
        "wall_seconds": wall_s,
        "episodes_finished": episodes,
        "mean_return_per_robot": float(np.mean(returns)),
        "disruptions": [d.label for d in disruptions],
    }
    if cost_total is not None:
        summary["cost_total"] = cost_total.tolist()
    return summary, trajectory, env


# ---------------------------------------------------------------- plots and recordings
def _draw_scene(ax: Any, core: Any, task: str) -> None:
    from matplotlib.patches import Circle, Rectangle

    if task == "warehouse":
        layout = core.sim.layout
        ax.scatter(*layout.home_world_m.T, s=12, marker="s", c="0.75", label="home (Idle)")
        stations = np.unique(layout.work_station_world_m, axis=0)
        for xy in stations:
            ax.add_patch(Circle(xy, core.params.work_radius_m, color="tab:red", alpha=0.25))
        ax.scatter(*stations.T, s=30, marker="*", c="tab:red", label="work station")
    elif task == "team_push":
        ax.add_patch(Circle(core.goal_world_m, core.params.goal_tolerance_m, color="tab:green", alpha=0.3))
        ax.scatter(*core.goal_world_m, marker="*", s=80, c="tab:green", label="goal")
    else:
        layout = core.layout
        c = layout.cell_size_m
        for i, j in zip(*np.nonzero(layout.hazard), strict=True):
            ax.add_patch(Rectangle((i * c, j * c), c, c, color="tab:orange", alpha=0.3))
        for cell in layout.pillar_cells:
            ax.add_patch(Circle(layout.cell_center_m(*cell), 0.07, color="k"))
        ax.add_patch(Rectangle((0, 0), layout.arena_size_m, layout.arena_size_m, fill=False, lw=2))
        ax.scatter(*layout.cell_center_m(*layout.goal_cell), marker="*", s=80, c="tab:green", label="goal")


def plot_trajectory(
    path: Path, trajectory: Trajectory, core: Any, task: str, upto: int | None = None
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xy = trajectory.as_array()[: None if upto is None else upto + 1]
    fig, ax = plt.subplots(figsize=(7, 7))
    _draw_scene(ax, core, task)
    n = xy.shape[1]
    colors = plt.cm.viridis(np.linspace(0, 1, n))
    for i in range(n):
        ax.plot(xy[:, i, 0], xy[:, i, 1], lw=0.8, color=colors[i], alpha=0.8)
    last = xy[~np.isnan(xy[:, 0, 0])][-1]
    ax.scatter(last[:, 0], last[:, 1], s=10, color=colors, zorder=3)
    if trajectory.box_xy:
        box = np.stack(trajectory.box_xy)[: None if upto is None else upto]
        ax.plot(box[:, 0], box[:, 1], "-", color="tab:brown", lw=2, label="box")
    ax.set_aspect("equal")
    ax.set_xlabel("x [m, world]")
    ax.set_ylabel("y [m, world]")
    ax.set_title(f"{task}: {n} robot(s)")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def check_record_target(record: str | None) -> None:
    """Fail before simulating when the requested recording cannot be written."""
    if record is None or record == "frames":
        return
    suffix = Path(record).suffix.lower()
    if suffix == ".gif":
        return
    if suffix == ".mp4":
        import shutil

        if shutil.which("ffmpeg") is None:
            raise ValueError(
                "record: writing .mp4 needs ffmpeg on PATH; use --record frames or --record out.gif"
            )
        return
    raise ValueError(f"record: expected 'frames', a .gif or a .mp4 path, got {record!r}")


def record(target: str, run_plots: Path, trajectory: Trajectory, core: Any, task: str, fps: int = 4) -> Path:
    """Frames (one PNG per decision) or an animation assembled from them."""
    frames_dir = run_plots / "frames"
    steps = len(trajectory.robots_xy) - 1
    frames = [
        plot_trajectory(frames_dir / f"{k:05d}.png", trajectory, core, task, upto=k) for k in range(steps + 1)
    ]
    if target == "frames":
        return frames_dir
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.animation as animation
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 7))
    ax.axis("off")
    image = ax.imshow(plt.imread(frames[0]))

    def show(k: int) -> list[Any]:
        image.set_data(plt.imread(frames[k]))
        return [image]

    movie = animation.FuncAnimation(fig, show, frames=len(frames), blit=True)
    writer: Any = (
        animation.PillowWriter(fps=fps)
        if target.lower().endswith(".gif")
        else animation.FFMpegWriter(fps=fps)
    )
    movie.save(target, writer=writer)
    plt.close(fig)
    return Path(target)
