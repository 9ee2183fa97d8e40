"""Finite abstraction of ``safe_nav`` for the tabular robust constrained solver.

States are the G x G grid cells (flat index i * G + j, see :class:`SafeNavLayout`),
actions the 9 actions of :class:`SafeNavEnv`. The nominal kernel P[s, a, s'], the
expected reward R[s, a] and the expected costs C[k, s, a] are estimated from PyBullet:
for every (cell, action) the robot is dropped at rest at random poses inside the cell
(uniform position in the central 60 % of the cell, uniform heading, clear of pillars),
one decision is simulated, and the end cell, reward and cost channels are recorded.
The goal cell is absorbing with zero reward and cost (the episode ends there).

What the abstraction forgets (heading, speed, position within the cell) is exactly
the model mismatch a robust solver should be robust to. The shipped file is
``sim/data/safe_nav_kernel.npz``; regenerate with ``robocoord sim fit-safe-nav``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from robocoord.sim.config import SafeNavParams
from robocoord.sim.tasks.warehouse_model import DATA_DIR

if TYPE_CHECKING:  # loading a kernel needs numpy only; PyBullet is imported when estimating one
    from robocoord.sim.pybullet_plant import DynamicsParams

DEFAULT_KERNEL_PATH = DATA_DIR / "safe_nav_kernel.npz"
START_SPREAD = 0.6  # fraction of the cell width sampled around its centre
PILLAR_CLEARANCE_M = 0.22  # robot half-width with its wheels (0.135 m) + pillar radius + margin
MAX_START_ATTEMPTS = 1000


@dataclass(frozen=True)
class SafeNavAbstraction:
    """``P``: (S, A, S'); ``R``: (S, A); ``C``: (K, S, A); ``counts``: (S, A, S') raw end-cell counts."""

    P: np.ndarray
    R: np.ndarray
    C: np.ndarray
    counts: np.ndarray
    start_state: int
    goal_state: int
    hazard_states: np.ndarray
    cost_names: tuple[str, ...]
    params: SafeNavParams
    provenance: dict[str, Any]

    @property
    def n_states(self) -> int:
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        return self.P.shape[1]

    def save(self, path: Path | str = DEFAULT_KERNEL_PATH) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "start_state": self.start_state,
            "goal_state": self.goal_state,
            "cost_names": list(self.cost_names),
            "params": self.params.model_dump(mode="json"),
            "provenance": self.provenance,
        }
        with path.open("wb") as handle:
            np.savez_compressed(
                handle,
                P=self.P,
                R=self.R,
                C=self.C,
                counts=self.counts,
                hazard_states=self.hazard_states,
                meta_json=np.array(json.dumps(meta, sort_keys=True)),
            )
        return path

    @classmethod
    def load(cls, path: Path | str = DEFAULT_KERNEL_PATH) -> SafeNavAbstraction:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no safe_nav kernel; run `robocoord sim fit-safe-nav`")
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta_json"]))
            return cls(
                P=data["P"],
                R=data["R"],
                C=data["C"],
                counts=data["counts"],
                start_state=int(meta["start_state"]),
                goal_state=int(meta["goal_state"]),
                hazard_states=data["hazard_states"],
                cost_names=tuple(meta["cost_names"]),
                params=SafeNavParams.model_validate(meta["params"]),
                provenance=meta["provenance"],
            )


def _clear_start(
    rng: np.random.Generator, centre: np.ndarray, width_m: float, pillars: np.ndarray
) -> np.ndarray:
    for _ in range(MAX_START_ATTEMPTS):
        xy = centre + rng.uniform(-0.5, 0.5, 2) * width_m
        if np.min(np.hypot(*(pillars - xy).T)) > PILLAR_CLEARANCE_M:
            return xy
    raise ValueError(
        f"cell_size_m: no start pose clear of the pillar near {centre.tolist()}; cells are too small"
    )


def estimate_abstraction(
    params: SafeNavParams = SafeNavParams(),
    samples_per_pair: int = 6,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    dynamics: DynamicsParams | None = None,
) -> SafeNavAbstraction:
    """Estimate the abstraction; with ``dynamics`` the rollouts run on changed physics
    (e.g. ``DynamicsParams(lateral_friction_scale=0.5)``), giving a disrupted kernel."""
    from robocoord.runs import git_sha
    from robocoord.sim.tasks.safe_nav import COST_NAMES, N_ACTIONS, SafeNavEnv

    if samples_per_pair < 1:
        raise ValueError(f"samples_per_pair: must be >= 1, got {samples_per_pair}")
    rng = np.random.default_rng(seed)
    env = SafeNavEnv(params)
    layout = env.layout
    n_states = layout.n_cells
    counts = np.zeros((n_states, N_ACTIONS, n_states))
    reward_sum = np.zeros((n_states, N_ACTIONS))
    cost_sum = np.zeros((len(COST_NAMES), n_states, N_ACTIONS))
    goal = layout.cell_index(layout.goal_cell)
    pillars = np.array([layout.cell_center_m(*cell) for cell in layout.pillar_cells])
    try:
        for s in range(n_states):
            if s == goal:
                continue
            cell = layout.index_cell(s)
            centre = layout.cell_center_m(*cell)
            # a pillar stands at its cell's centre: sample that cell's whole area, clear of the pillar
            spread = 1.0 if cell in layout.pillar_cells else START_SPREAD
            for a in range(N_ACTIONS):
                for _ in range(samples_per_pair):
                    xy = _clear_start(rng, centre, spread * layout.cell_size_m, pillars)
                    env.reset(
                        seed=int(rng.integers(2**31)),
                        options={"pose_world": (*xy, rng.uniform(-np.pi, np.pi))},
                    )
                    if dynamics is not None:
                        env.set_dynamics(dynamics)
                    _, reward, _, _, info = env.step(a)
                    counts[s, a, info["cell"]] += 1
                    reward_sum[s, a] += reward
                    cost_sum[:, s, a] += info["cost"]
            if progress is not None:
                progress(s + 1, n_states)
    finally:
        env.close()
    P = counts / np.maximum(counts.sum(axis=-1, keepdims=True), 1)
    P[goal] = 0.0
    P[goal, :, goal] = 1.0
    hazard = np.array([layout.cell_index((i, j)) for i, j in zip(*np.nonzero(layout.hazard), strict=True)])
    provenance = {
        "generator": "robocoord.sim.tasks.safe_nav_abstraction.estimate_abstraction",
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_sha": git_sha(),
        "seed": seed,
        "samples_per_pair": samples_per_pair,
        "dynamics": None if dynamics is None else asdict(dynamics),
        "start_distribution": (
            f"uniform in the central {START_SPREAD:.0%} of the cell (whole cell for pillar cells, "
            f"{PILLAR_CLEARANCE_M} m clear of the pillar), uniform heading, at rest"
        ),
    }
    return SafeNavAbstraction(
        P=P,
        R=reward_sum / samples_per_pair,
        C=cost_sum / samples_per_pair,
        counts=counts,
        start_state=layout.cell_index(layout.start_cell),
        goal_state=goal,
        hazard_states=hazard,
        cost_names=COST_NAMES,
        params=params,
        provenance=provenance,
    )
