"""Steps 3–5 of ``make demo``: the artifact on a hil fleet, recorded, reported, compared with pure sim.

:func:`run_hil_demo` brings up the inventory's robots in ``hil`` (reference firmware in virtual MCUs
on ptys around one PyBullet plant, serial bridges, policy controllers, supervisor, MCAP recorder, over
real rclpy), runs them for ``seconds``, evaluates the same artifact in the pure PyBullet warehouse for
the same seconds (``robocoord eval`` in a subprocess: no pybullet in this process), and writes
``report.md`` with PNG plots into ``run_dir``.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from robocoord_ros.graph import launch_dir
from robocoord_ros.inventory import FleetInventory, load_inventory


def default_inventory() -> Path:
    return launch_dir() / "inventories" / "hil_8.yaml"


def pure_sim_eval(artifact: Path, task: str, **options: Any) -> dict[str, Any]:
    """``robocoord eval ARTIFACT --task TASK --<option> VALUE … --json`` in a subprocess (no pybullet here)."""
    command = [sys.executable, "-m", "robocoord.cli.main", "eval", str(artifact), "--task", task, "--json"]
    for option, value in options.items():
        command += [f"--{option}", str(value)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(f"pure-sim evaluation failed ({result.returncode}): {result.stderr[-2000:]}")
    doc: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return doc


def sim_reference(
    artifact: Path, robots: int, seconds: float, episodes: int, seed: int = 0
) -> dict[str, Any]:
    """``robocoord eval`` of the artifact in the PyBullet warehouse (same robots, same seconds)."""
    return pure_sim_eval(artifact, "warehouse", robots=robots, seconds=seconds, episodes=episodes, seed=seed)


def _plots(run_dir: Path, session_data: dict[str, Any], recording: Path | None) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from robocoord_ros.recording import plot_trajectories, summarize

    plots = run_dir / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    out: dict[str, str] = {}
    if recording is not None and recording.is_file():
        out["trajectories"] = str(plot_trajectories(summarize(recording), plots / "trajectories.png"))
    occupancy, edges = session_data["occupancy"], session_data["occupancy_edges_s"]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    centres = 0.5 * (np.asarray(edges[1:]) + np.asarray(edges[:-1]))
    for k, name in enumerate(("Idle", "Transit", "Working")):
        ax.plot(centres, np.asarray(occupancy)[:, k], label=name)
    ax.set(
        xlabel="time [s]",
        ylabel="fraction of decisions",
        title="task-state occupancy (hil)",
        ylim=(-0.02, 1.02),
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(plots / "task_state_occupancy.png", dpi=110)
    plt.close(fig)
    out["occupancy"] = str(plots / "task_state_occupancy.png")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    latencies = session_data["latency_ms"]
    if latencies:
        ax.hist(latencies, bins=50)
    ax.set(
        xlabel="odometry in -> cmd_vel out [ms]", ylabel="commands", title="policy controller latency (hil)"
    )
    fig.tight_layout()
    fig.savefig(plots / "latency_histogram.png", dpi=110)
    plt.close(fig)
    out["latency"] = str(plots / "latency_histogram.png")
    robots = [r for r in session_data["robots"] if r.get("link")]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ids = [r["robot"] for r in robots]
    ax1.bar([i - 0.2 for i in ids], [r["link"]["frames_in"] for r in robots], width=0.4, label="frames in")
    ax1.bar([i + 0.2 for i in ids], [r["link"]["frames_out"] for r in robots], width=0.4, label="frames out")
    ax1.set(xlabel="robot", ylabel="frames", title="serial frames")
    ax1.legend()
    ax2.bar(
        [i - 0.2 for i in ids], [r["link"]["rtt_ms_p50"] or 0 for r in robots], width=0.4, label="RTT p50"
    )
    ax2.bar(
        [i + 0.2 for i in ids], [r["link"]["rtt_ms_p99"] or 0 for r in robots], width=0.4, label="RTT p99"
    )
    ax2.set(xlabel="robot", ylabel="ms", title="serial round trip")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(plots / "link_statistics.png", dpi=110)
    plt.close(fig)
    out["link"] = str(plots / "link_statistics.png")
    return out


def run_hil_demo(
    artifact: Path | str,
    run_dir: Path | str,
    *,
    inventory: Path | str | FleetInventory | None = None,
    seconds: float = 60.0,
    sim_episodes: int = 3,
    record: bool = True,
    live: bool = False,
) -> dict[str, Any]:
    """Run ``artifact`` on the inventory's robots in hil for ``seconds``; write report.md + plots; compare with sim.

    Returns ``{"hil": {...}, "sim": {...}, "comparison": {...}, "robots": [...], "report": path, ...}``;
    ``comparison.reward_per_decision_rel_diff`` is |hil − sim| / |sim| of the mean reward per robot-decision.
    """
    from robocoord.controllers.policy import read_contract
    from robocoord_ros.session import FleetSession

    artifact = Path(artifact).resolve()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    inv = (
        inventory
        if isinstance(inventory, FleetInventory)
        else load_inventory(inventory or default_inventory())
    )
    inv = inv.with_backend("hil")
    contract = read_contract(artifact)
    model_l = (
        contract.family_params.get("model", {}).get("L")
        if isinstance(contract.family_params.get("model"), dict)
        else None
    )
    if model_l is not None:  # the reward the policy was trained for, as the sim evaluation uses it
        inv.policy.warehouse.congestion_penalty_L = float(model_l)
    recording = (run_dir / "hil.mcap") if record else None
    session = FleetSession.open(inv, artifact=artifact, record=recording if record else False)
    try:
        session.run(seconds, live=live)
        latency = [
            x for node in session.runtime.nodes_of("policy_controller") for x in node.loop.latency.samples()
        ]
        misses = sum(
            n.deadline_misses + n.control_deadline_misses
            for n in session.runtime.nodes_of("policy_controller")
        )
        edges = list(np.linspace(0.0, seconds, max(2, int(seconds // 5) + 1)))
        occupancy = session.scorer.occupancy(edges).tolist()
    finally:
        summary = session.close()
    hil_rpd = summary["fleet"]["reward_per_decision"]
    sim = sim_reference(artifact, len(inv.robots), seconds, sim_episodes, inv.seed)
    sim_rpd = sim["return_mean"] / sim["decisions"] if sim.get("decisions") else float("nan")
    rel = abs(hil_rpd - sim_rpd) / abs(sim_rpd) if sim_rpd else float("nan")
    lat = np.asarray(latency) if latency else np.asarray([math.nan])
    data = {
        "robots": summary["robots"],
        "occupancy": occupancy,
        "occupancy_edges_s": edges,
        "latency_ms": latency,
    }
    plots = _plots(run_dir, data, recording)
    result: dict[str, Any] = {
        "artifact": str(artifact),
        "run_dir": str(run_dir),
        "recording": str(recording) if recording else None,
        "hil": {
            "robots": len(inv.robots),
            "seconds": seconds,
            "reward_per_decision": hil_rpd,
            "decisions": sum(r["decisions"] for r in summary["robots"]),
            "latency_ms_p50": float(np.percentile(lat, 50)),
            "latency_ms_p99": float(np.percentile(lat, 99)),
            "deadline_misses": int(misses),
            "crc_errors": sum((r.get("link") or {}).get("crc_errors", 0) for r in summary["robots"]),
        },
        "sim": {**sim, "reward_per_decision": sim_rpd},
        "comparison": {
            "reward_per_decision_hil": hil_rpd,
            "reward_per_decision_sim": sim_rpd,
            "reward_per_decision_rel_diff": rel,
        },
        "robots": summary["robots"],
        "plots": plots,
    }
    (run_dir / "hil_summary.json").write_text(json.dumps(result, indent=2, default=str))
    result["report"] = str(write_report(run_dir, result))
    return result


def safe_nav_inventory() -> Path:
    return launch_dir() / "inventories" / "hil_safe_nav.yaml"


def run_hil_safe_nav(
    artifact: Path | str,
    *,
    inventory: Path | str | FleetInventory | None = None,
    sim_episodes: int = 10,
    record: bool | Path = False,
    live: bool = False,
) -> dict[str, Any]:
    """One safe_nav episode of an ``rcmdp`` artifact in hil, and the pure-sim evaluation of the same artifact.

    The hil robot runs the whole episode (``max_decisions`` of the contract's arena, plus one decision
    period so the last decision's costs are accounted) behind the shield; returns its discounted cost
    per constraint, the budgets and whether it stayed within them, next to ``robocoord eval``'s figures.
    """
    from robocoord.controllers.policy import read_contract
    from robocoord_ros.session import FleetSession

    artifact = Path(artifact).resolve()
    inv = (
        inventory
        if isinstance(inventory, FleetInventory)
        else load_inventory(inventory or safe_nav_inventory())
    ).with_backend("hil")
    arena = read_contract(artifact).family_params.get("arena") or {}
    seconds = (int(arena.get("max_decisions", 40)) + 1) * float(arena.get("decision_period_s", 1.5))
    session = FleetSession.open(inv, artifact=artifact, record=record)
    try:
        session.run(seconds, live=live)
        nodes = session.runtime.nodes_of("policy_controller")
        agents = {n.robot_id: n.strategy.agent for n in nodes}
        cells = {rid: sorted(a.cells_visited) for rid, a in agents.items()}
    finally:
        summary = session.close()
    robots = summary["robots"]
    hil = {
        "seconds": seconds,
        "robots": robots,
        "decisions": {rid: a.decisions for rid, a in agents.items()},
        "reached_goal": {rid: a.reached_goal for rid, a in agents.items()},
        "shield_vetoes": {rid: a.vetoes for rid, a in agents.items()},
        "cells_visited": cells,
        "within_budget": all(r.get("within_budget", False) for r in robots),
    }
    sim = pure_sim_eval(artifact, "safe_nav", episodes=sim_episodes, seed=inv.seed)
    return {"artifact": str(artifact), "hil": hil, "sim": sim}


def team_push_inventory() -> Path:
    return launch_dir() / "inventories" / "hil_team_push.yaml"


def run_hil_team_push(
    artifact: Path | str,
    *,
    inventory: Path | str | FleetInventory | None = None,
    episodes: int = 4,
    record: bool | Path = False,
    live: bool = False,
) -> dict[str, Any]:
    """``episodes`` team_push episodes of a ``drigm`` artifact in hil, and the pure-sim evaluation of the same
    artifact over the same episodes.

    The sim evaluation (``robocoord eval --task team_push --episodes N --seed <inventory seed>``) runs first;
    each hil episode then brings a fresh fleet up (virtual MCUs with the box at the origin, bridges, mocap,
    policy controllers) with the robots' homes at that sim episode's start poses, and runs until every robot
    reports its episode over (box within the goal tolerance, or the contract's decisions used up).
    Returns per-episode success and decisions to goal for both, the success rates and the mean time to goal
    [s] (decisions to goal x decision period).
    """
    from robocoord.controllers.policy import read_contract
    from robocoord.controllers.team_push import TeamPushSpec, episode_starts
    from robocoord.training.drigm.evaluate import episode_seed
    from robocoord.training.drigm.team_push_task import env_reset_seed
    from robocoord_ros.session import FleetSession

    artifact = Path(artifact).resolve()
    base = (
        inventory
        if isinstance(inventory, FleetInventory)
        else load_inventory(inventory or team_push_inventory())
    ).with_backend("hil")
    spec = TeamPushSpec.from_contract(read_contract(artifact))
    if len(base.robots) != spec.n_robots:
        raise ValueError(
            f"robots: the artifact's team has {spec.n_robots} robots, the inventory {len(base.robots)}"
        )
    sim = pure_sim_eval(artifact, "team_push", episodes=episodes, seed=base.seed)
    # room for every decision of the episode, plus bring-up (virtual MCUs, nodes, first inputs)
    timeout_s = (spec.max_decisions + 4) * spec.decision_period_s + 20.0
    hil_episodes = []
    for k in range(episodes):
        starts = episode_starts(spec, env_reset_seed(episode_seed(base.seed, k), 0))
        data = base.model_dump()
        for robot, (x, y, yaw) in zip(data["robots"], starts, strict=True):  # robot order = agent index
            robot["home"] = {"x_m": float(x), "y_m": float(y), "yaw_rad": float(yaw)}
        inv = FleetInventory.model_validate(data)
        session = FleetSession.open(inv, artifact=artifact, record=record)
        try:
            session.run(timeout_s, live=live, until=session.team_push_done)
            finished = session.team_push_done.is_set()
        finally:
            summary = session.close()
        robots = summary["robots"]
        to_goal = [r["decisions_to_goal"] for r in robots if r.get("decisions_to_goal") is not None]
        hil_episodes.append(
            {
                "starts": starts.round(4).tolist(),
                "finished": finished,
                "success": any(r.get("reached_goal", False) for r in robots),
                # decisions since the first robot started deciding (robots start a tick or so apart)
                "decisions_to_goal": max(to_goal) if to_goal else None,
                "robots": robots,
            }
        )
    period = spec.decision_period_s

    def mean_time(values: list[int | None]) -> float | None:
        reached = [v for v in values if v is not None]
        return period * float(np.mean(reached)) if reached else None

    hil_to_goal = [e["decisions_to_goal"] if e["success"] else None for e in hil_episodes]
    hil_rate = float(np.mean([e["success"] for e in hil_episodes]))
    hil = {
        "episodes": hil_episodes,
        "success_rate": hil_rate,
        "decisions_to_goal": hil_to_goal,
        "time_to_goal_s_mean": mean_time(hil_to_goal),
    }
    sim["time_to_goal_s_mean"] = mean_time(sim.get("decisions_to_goal", []))
    comparison = {
        "success_rate_hil": hil_rate,
        "success_rate_sim": sim["success_rate"],
        "success_rate_abs_diff": abs(hil_rate - sim["success_rate"]),
        "time_to_goal_s_hil": hil["time_to_goal_s_mean"],
        "time_to_goal_s_sim": sim["time_to_goal_s_mean"],
    }
    return {
        "artifact": str(artifact),
        "decision_period_s": period,
        "hil": hil,
        "sim": sim,
        "comparison": comparison,
    }


def write_report(run_dir: Path, result: dict[str, Any]) -> Path:
    hil, sim, cmp_ = result["hil"], result["sim"], result["comparison"]
    lines = [
        "# robocoord HIL run",
        "",
        f"Artifact: `{result['artifact']}`",
        f"{hil['robots']} robots in hil (reference firmware in virtual MCUs on ptys, PyBullet plant, serial bridges,",
        f"policy controllers, supervisor, rclpy) for {hil['seconds']:g} s; MCAP: `{result['recording']}`.",
        "",
        "| | HIL | pure sim |",
        "|---|---|---|",
        f"| reward per robot-decision | {cmp_['reward_per_decision_hil']:.3f} | {cmp_['reward_per_decision_sim']:.3f} |",
        f"| decisions scored | {hil['decisions']} | {sim.get('decisions', 0) * sim.get('robots', 0) * sim.get('episodes', 0)} |",
        f"| working fraction | – | {sim.get('working_fraction', float('nan')):.3f} |",
        "",
        f"Relative difference of reward per decision: **{100 * cmp_['reward_per_decision_rel_diff']:.1f} %**.",
        "",
        f"Policy latency (odometry in -> cmd_vel out): p50 {hil['latency_ms_p50']:.2f} ms, "
        f"p99 {hil['latency_ms_p99']:.2f} ms; deadline misses {hil['deadline_misses']}; CRC errors {hil['crc_errors']}.",
        "",
    ]
    for key, title in (
        ("trajectories", "Trajectories"),
        ("occupancy", "Task-state occupancy"),
        ("latency", "Latency histogram"),
        ("link", "Link statistics"),
    ):
        if key in result["plots"]:
            lines += [f"## {title}", "", f"![{title}]({Path(result['plots'][key]).relative_to(run_dir)})", ""]
    path = run_dir / "report.md"
    path.write_text("\n".join(lines))
    return path


def summary_table(result: dict[str, Any]) -> str:
    """The HIL-vs-sim table the demo prints."""
    cmp_ = result["comparison"]
    hil = result["hil"]
    return "\n".join(
        [
            f"{'':<28}{'HIL':>12}{'pure sim':>12}",
            f"{'reward / robot-decision':<28}{cmp_['reward_per_decision_hil']:>12.3f}{cmp_['reward_per_decision_sim']:>12.3f}",
            f"{'relative difference':<28}{100 * cmp_['reward_per_decision_rel_diff']:>11.1f}%",
            f"{'latency p50 / p99 [ms]':<28}{hil['latency_ms_p50']:>6.2f} / {hil['latency_ms_p99']:.2f}",
            f"{'deadline misses':<28}{hil['deadline_misses']:>12}",
        ]
    )
