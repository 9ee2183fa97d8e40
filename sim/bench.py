"""``robocoord bench sim``: simulation speed of the warehouse task against raw PyBullet.

For N in (10, 100, 1000) robots the warehouse task runs with random actions (seeded)
at 20 Hz control / 240 Hz physics and is timed, world construction excluded. Then, in
the *same* world and run, two raw PyBullet loops simulate the same time span. Task and
loops are timed in turn, several times over (7, 3 and 2 repeats for N = 10, 100, 1000, each
the same seeded episode from reset); each figure is the median over repeats.

* the *raw control loop* — the task's own PyBullet calls replayed from a list, with no
  controller or bookkeeping: back at the task's start state, each control step makes the
  ``resetBaseVelocity`` calls the task made (same robots, same velocities), 12 x
  ``stepSimulation``, then ``getBasePositionAndOrientation`` per robot (the task derives
  velocities from poses, so the replay reads poses only). It therefore simulates the same
  motion, crowding and contacts as the task (``raw_replay_pose_error_{N}_robots`` shows how
  closely), and the overhead ratio is the cost of everything the task does besides PyBullet;
* the *step-only loop* — afterwards, ``stepSimulation`` alone with robots holding their last
  velocities: the floor no controller can beat.

Results (wall clock, plus process CPU time so a loaded machine can be read too):

* ``realtime_factor_{N}_robots_240hz`` — simulated seconds per wall second, task loop;
* ``overhead_vs_raw_pybullet_{N}_robots`` — task wall time / raw control loop wall time;
* ``raw_replay_pose_error_{N}_robots`` — largest distance [m] between where the task and the replay
  left a robot (0 when PyBullet replays bit for bit);
* ``overhead_vs_step_only_{N}_robots`` — task wall time / step-only wall time;
* ``sim_seconds_per_wall_second_1000_robots_20hz`` — the 1000-robot realtime factor;
* ``control_steps_per_second_{N}_robots``; ``cpu_realtime_factor_{N}_robots_240hz``.

The 1000-robot case is also run at 120 Hz and 60 Hz physics (``…_physics_120hz``): the disc
swarm's task-level outcomes hardly change with the physics rate, its cost does.

Extras: the wheeled multibody plant with 10 robots (the physics of team_push, safe_nav
and the firmware bridge) and the vectorised transition sampler used by GMFS.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pybullet as pb

from robocoord.benchjson import Result
from robocoord.sim.config import WarehouseParams
from robocoord.sim.plant import DiffDriveGeometry, unicycle_to_wheels
from robocoord.sim.pybullet_plant import PyBulletPlant
from robocoord.sim.tasks.warehouse import WarehouseSim
from robocoord.sim.tasks.warehouse_model import WarehouseTransitionModel

CONTROL_HZ = 20.0


@dataclass
class _Timing:
    wall_s: float = 0.0
    cpu_s: float = 0.0


@contextmanager
def _timed(into: _Timing) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    into.wall_s += time.perf_counter() - wall
    into.cpu_s += time.process_time() - cpu


def _raw_control_loop(
    client: int, bodies: list[int], commands: list[list[tuple[int, tuple, tuple]]], substeps: int
) -> None:
    for sent in commands:  # one control step: the velocities the task set, physics, every pose
        for body, linear, angular in sent:
            pb.resetBaseVelocity(body, linear, angular, physicsClientId=client)
        for _ in range(substeps):
            pb.stepSimulation(physicsClientId=client)
        for body in bodies:
            pb.getBasePositionAndOrientation(body, physicsClientId=client)


def _warehouse_speed(
    n_robots: int, sim_seconds: float, seed: int, repeats: int = 1, physics_hz: float = 240.0
) -> list[Result]:
    """Task, raw replay and step-only loop over ``sim_seconds``, each timed ``repeats`` times, interleaved.

    Every repeat runs the same seeded episode from reset: the task once untimed to record its
    PyBullet calls, then timed (continuous, so crowding builds up as it would), then from reset
    again the replay of its PyBullet calls, then stepping on alone. Figures are medians over repeats, so a burst of load from other
    processes spoils one repeat rather than the comparison.
    """
    params = WarehouseParams(
        n_robots=n_robots, decision_period_s=1.0, control_hz=CONTROL_HZ, physics_hz=physics_hz
    )
    sim = WarehouseSim(params)
    task, raw, step_only = [], [], []
    replay_error_m, control_steps = 0.0, 0
    decisions = max(1, round(sim_seconds / params.decision_period_s))
    simulated_s = decisions * params.decision_period_s
    try:
        substeps = sim.plant.substeps_for(1.0 / CONTROL_HZ)
        client, bodies = sim.plant.client, sim.plant.body_ids
        for _ in range(repeats):
            rng = np.random.default_rng(seed)
            actions = [rng.integers(0, 3, n_robots) for _ in range(decisions)]
            commands: list[list[tuple[int, tuple, tuple]]] = []
            task.append(_Timing())
            raw.append(_Timing())
            step_only.append(_Timing())
            # an untimed pass records the task's PyBullet calls; the timed pass repeats the same
            # deterministic episode (the pose error below is 0 when it and the replay match exactly)
            sim.reset(seed)
            sim.plant.velocity_command_log = commands
            for action in actions:
                sim.step(action)
            sim.plant.velocity_command_log = None
            sim.reset(seed)
            with _timed(task[-1]):
                for action in actions:
                    sim.step(action)
            task_end_xy = sim.plant.poses_world()[:, :2]
            control_steps = len(commands)
            sim.reset(seed)  # the task's start state again, for the replay
            with _timed(raw[-1]):
                _raw_control_loop(client, bodies, commands, substeps)
            replay_end_xy = np.array(
                [pb.getBasePositionAndOrientation(b, physicsClientId=client)[0][:2] for b in bodies]
            )
            replay_error_m = max(replay_error_m, float(np.max(np.hypot(*(replay_end_xy - task_end_xy).T))))
            with _timed(step_only[-1]):
                for _ in range(control_steps * substeps):
                    pb.stepSimulation(physicsClientId=client)
    finally:
        sim.close()

    def median(values: list[float]) -> float:
        return float(np.median(values))

    task_wall = median([t.wall_s for t in task])
    task_cpu = max(median([t.cpu_s for t in task]), 1e-9)
    n = n_robots
    return [
        Result(f"realtime_factor_{n}_robots_240hz", simulated_s / task_wall, "sim s / wall s"),
        Result(
            f"overhead_vs_raw_pybullet_{n}_robots",
            median([t.wall_s / r.wall_s for t, r in zip(task, raw, strict=True)]),
            "ratio",
        ),
        Result(
            f"overhead_vs_step_only_{n}_robots",
            median([t.wall_s / s.wall_s for t, s in zip(task, step_only, strict=True)]),
            "ratio",
        ),
        Result(
            f"raw_pybullet_realtime_factor_{n}_robots",
            simulated_s / median([r.wall_s for r in raw]),
            "sim s / wall s",
        ),
        Result(f"control_steps_per_second_{n}_robots", control_steps / task_wall, "steps/s"),
        Result(f"cpu_realtime_factor_{n}_robots_240hz", simulated_s / task_cpu, "sim s / cpu s"),
        Result(
            f"cpu_overhead_vs_raw_pybullet_{n}_robots",
            median([t.cpu_s / max(r.cpu_s, 1e-9) for t, r in zip(task, raw, strict=True)]),
            "ratio",
        ),
        Result(f"raw_replay_pose_error_{n}_robots", replay_error_m, "m"),
    ]


def _wheeled_plant_speed(n_robots: int, sim_seconds: float) -> Result:
    geometry = DiffDriveGeometry()
    poses = np.stack([np.zeros(n_robots), np.arange(n_robots) * 0.5, np.zeros(n_robots)], axis=1)
    plant = PyBulletPlant(poses, body="wheeled")
    try:
        left, right = unicycle_to_wheels(0.3, 0.2, geometry)
        plant.apply_all(np.tile([float(left), float(right)], (n_robots, 1)))
        steps = round(sim_seconds * CONTROL_HZ)
        started = time.perf_counter()
        for _ in range(steps):
            plant.step(1.0 / CONTROL_HZ)
        wall_s = time.perf_counter() - started
    finally:
        plant.close()
    return Result(
        f"wheeled_plant_realtime_factor_{n_robots}_robots_240hz", sim_seconds / wall_s, "sim s / wall s"
    )


def _sampler_speed(samples: int, seed: int) -> Result:
    model = WarehouseTransitionModel.load()
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 3, samples)
    a = rng.integers(0, 3, samples)
    c = rng.random(samples)
    started = time.perf_counter()
    model.sample_next(s, a, c, rng)
    return Result("transition_samples_per_second", samples / (time.perf_counter() - started), "samples/s")


def run_bench(
    quick: bool = False, seed: int = 0, progress: Callable[[str], None] | None = None
) -> list[Result]:
    """All sim benchmark results; ``quick`` shortens every timed window (for smoke tests, not for figures)."""
    scale = 0.25 if quick else 1.0
    plan = [(10, 20.0, 7), (100, 10.0, 3), (1000, 4.0, 2)]  # robots, simulated seconds, repeats
    results: list[Result] = []
    for n_robots, seconds, repeats in plan:
        if progress is not None:
            progress(f"warehouse, {n_robots} robots")
        window = max(1.0, seconds * scale)
        repeats = 1 if quick else repeats
        rows = _warehouse_speed(n_robots, window, seed, repeats)
        results += rows
        if n_robots == 1000:
            results.append(
                Result("sim_seconds_per_wall_second_1000_robots_20hz", rows[0].value, "sim s / wall s")
            )
            # the disc swarm's discrete outcomes barely depend on the physics rate; show the trade-off
            for physics_hz in () if quick else (120.0, 60.0):
                coarse = _warehouse_speed(n_robots, window, seed, physics_hz=physics_hz)
                tag = f"1000_robots_20hz_physics_{physics_hz:.0f}hz"
                results.append(
                    Result(f"sim_seconds_per_wall_second_{tag}", coarse[0].value, "sim s / wall s")
                )
                results.append(Result(f"cpu_realtime_factor_{tag}", coarse[5].value, "sim s / cpu s"))
    if progress is not None:
        progress("wheeled plant and sampler")
    results.append(_wheeled_plant_speed(10, max(1.0, 10.0 * scale)))
    results.append(_sampler_speed(1_000_000 if not quick else 100_000, seed))
    return results
