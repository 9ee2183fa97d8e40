"""GMFS's ``model: pybullet``: the warehouse transition table measured from PyBullet rollouts.

P(s' | s, a, g) = the sim's ``WarehouseTransitionModel`` at congestion c = g[Working]; crowding at
the shared work stations is physical (robots block each other), measured once by
``robocoord sim fit-warehouse`` and cached in ``sim/data/warehouse_transitions.npz``. Value
iteration never steps PyBullet. r(s, a, g) = the sim's ``warehouse_reward(s, a, c, L)``.

Objective: ``paper`` is the reward above; ``jobs`` pays the expected number of arrivals at the work
station, r(s, a, g) = 1{s ≠ Working} · P(Working | s, a, g), i.e. completed pick/drop visits, minus
``trip_cost`` · 1{s ≠ Working, a = Working} per dispatch towards the station (default 0). With a trip
cost, heading for a station that is crowded (where the measured P(Working | ·) is low) does not pay,
so the best action depends on the congestion the robot samples.

Disruptions while training: an ``action`` disruption of kind ``uniform`` (or ``set``) that fires
with probability p replaces the intended action by a uniformly random one (or one of
``choices``); the model then uses the mixture P̃ = (1 − p) P(· | s, a) + p · mean_{a'} P(· | s, a')
and the same mixture of rewards, exactly what the disrupted robot experiences on average.
Physical disruptions (``dynamics``) need a table measured under them; they are refused here
with a pointer, rather than silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from robocoord.training.gmfs.config import PybulletModelConfig
from robocoord.training.gmfs.models import FloatArray

WORKING = 2


@dataclass
class PybulletWarehouseModel:
    table: Any  # robocoord.sim.tasks.warehouse_model.WarehouseTransitionModel
    L: float = 1.0
    replace_probability: float = 0.0  # action disruption: chance the intended action is replaced
    replacement_actions: tuple[int, ...] = (0, 1, 2)
    disruption_records: list[dict[str, Any]] = field(default_factory=list)
    objective: str = "paper"
    trip_cost: float = 0.0
    state_names: tuple[str, ...] = ("idle", "transit", "working")
    action_names: tuple[str, ...] = ("go_idle", "go_transit", "go_working")
    safe_action: int = 0

    @classmethod
    def from_config(cls, config: PybulletModelConfig) -> PybulletWarehouseModel:
        from robocoord.sim.tasks.warehouse_model import DEFAULT_TRANSITIONS_PATH, WarehouseTransitionModel

        table = WarehouseTransitionModel.load(config.table or DEFAULT_TRANSITIONS_PATH)
        model = cls(table=table, L=config.L, objective=config.objective, trip_cost=config.trip_cost)
        if config.disruptions is not None:
            model = model.with_disruptions(config.disruptions)
        return model

    def with_disruptions(self, path: Path) -> PybulletWarehouseModel:
        from robocoord.sim.disruptions.spec import load_disruptions

        p, records = 0.0, []
        actions: tuple[int, ...] = (0, 1, 2)
        for spec in load_disruptions(path):
            if spec.phase == "eval":
                continue  # held out: not seen in training
            if spec.source != "action" or spec.kind not in ("uniform", "set") or spec.mode != "always":
                raise ValueError(
                    f"{path}: disruption {spec.label!r}: the GMFS pybullet model trains under 'action' "
                    "disruptions of kind uniform/set with mode always; a physical disruption needs a "
                    "transition table measured under it (robocoord sim fit-warehouse, then model.table)"
                )
            if p > 0:
                raise ValueError(f"{path}: at most one action disruption is supported in training")
            p = spec.probability
            if spec.kind == "set":
                actions = tuple(int(float(c)) for c in spec.choices or [])  # type: ignore[arg-type]
            records.append(spec.model_dump(mode="json"))
        return PybulletWarehouseModel(self.table, self.L, p, actions, records, self.objective, self.trip_cost)

    @property
    def n_states(self) -> int:
        return 3

    @property
    def n_actions(self) -> int:
        return 3

    def _mix(self, intended: FloatArray, replaced: list[FloatArray]) -> FloatArray:
        if self.replace_probability == 0.0:
            return intended
        return (1.0 - self.replace_probability) * intended + self.replace_probability * np.mean(
            replaced, axis=0
        )

    def reward(self, s: ArrayLike, a: ArrayLike, g: ArrayLike) -> FloatArray:
        if self.objective == "jobs":  # a job completes when a robot reaches the work station from elsewhere
            arrive = self.next_state_probs(s, a, g)[..., WORKING]
            away = np.asarray(s) != WORKING
            jobs = np.where(away, arrive, 0.0)
            if self.trip_cost == 0.0:
                return jobs
            dispatch = away & (np.asarray(a) == WORKING)  # the robot's decision, as the evaluator counts it
            return jobs - self.trip_cost * dispatch
        c = np.asarray(g, dtype=np.float64)[..., WORKING]
        s_, a_, c_ = np.broadcast_arrays(np.asarray(s), np.asarray(a), c)
        r = self.table.reward(s_, a_, c_, self.L)
        return self._mix(
            r, [self.table.reward(s_, np.full_like(a_, b), c_, self.L) for b in self.replacement_actions]
        )

    def next_state_probs(self, s: ArrayLike, a: ArrayLike, g: ArrayLike) -> FloatArray:
        c = np.asarray(g, dtype=np.float64)[..., WORKING]
        s_, a_, c_ = np.broadcast_arrays(np.asarray(s), np.asarray(a), c)
        p = self.table.transition_probs(s_, a_, c_)
        return self._mix(
            p, [self.table.transition_probs(s_, np.full_like(a_, b), c_) for b in self.replacement_actions]
        )
