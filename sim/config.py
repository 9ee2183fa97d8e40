"""Strict configs of the sim layer (pydantic only: importable without PyBullet).

``kind: sim-run`` -> :class:`SimRunConfig`; the task parameter models are reused by
the environments themselves, so a YAML file and a Python caller see the same checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from robocoord.config import StrictModel

TaskName = Literal["warehouse", "team_push", "safe_nav"]


class WarehouseParams(StrictModel):
    """The GMFS swarm task. Lengths [m], times [s]."""

    n_robots: int = Field(16, description="number of robots, 2..1000")
    home_spacing_m: PositiveFloat = Field(1.0, description="lattice pitch of the home (idle) stations")
    block_side: PositiveInt = Field(
        4, description="a block of block_side x block_side homes shares one work station"
    )
    work_radius_m: PositiveFloat = Field(
        0.3, description="a robot whose centre is this close to its work station is Working"
    )
    home_radius_m: PositiveFloat = Field(0.2, description="a robot this close to its home is Idle")
    decision_period_s: PositiveFloat = Field(2.0, description="time between discrete decisions")
    control_hz: PositiveFloat = Field(20.0, description="rate of the low-level go-to controller")
    physics_hz: PositiveFloat = 240.0
    congestion_penalty_L: float = Field(1.0, ge=0, description="L in base(s) * max(0.4, 1 - L c)")
    max_decisions: PositiveInt = Field(50, description="episode length in decisions (truncation)")
    cruise_speed_m_s: PositiveFloat = 0.5

    @model_validator(mode="after")
    def _check(self) -> WarehouseParams:
        if not 2 <= self.n_robots <= 1000:
            raise ValueError(f"n_robots: must be between 2 and 1000, got {self.n_robots}")
        _check_whole_steps(self.decision_period_s, self.control_hz, "decision_period_s", "control_hz")
        _check_whole_steps(1.0 / self.control_hz, self.physics_hz, "control_hz", "physics_hz")
        return self


class TeamPushParams(StrictModel):
    """The DrIGM team task: 2-4 robots push a box to a goal."""

    n_robots: int = Field(2, description="number of pushing robots, 2..4")
    box_mass_kg: PositiveFloat = 1.2
    box_size_m: PositiveFloat = Field(0.4, description="edge of the square box")
    box_friction: float = Field(0.5, ge=0, description="lateral friction coefficient of box on floor")
    goal_distance_m: PositiveFloat = Field(1.5, description="initial box-to-goal distance")
    goal_tolerance_m: PositiveFloat = 0.15
    decision_period_s: PositiveFloat = 0.25
    control_hz: PositiveFloat = 20.0
    physics_hz: PositiveFloat = 240.0
    max_decisions: PositiveInt = 120
    near_bay_m: PositiveFloat | None = Field(
        None,
        description="centre [m along +x] of a second, nearer delivery bay; None: the far goal only. "
        "The box is delivered there when it lies within goal_tolerance_m of the bay centre and moved "
        "less than bay_settle_m during the last decision (the team let go of it)",
    )
    near_bay_bonus: float = Field(0.0, ge=0, description="reward on a delivery to the near bay")
    bay_settle_m: PositiveFloat = Field(
        0.05, description="a box that moved less than this in one decision is at rest (near bay)"
    )

    @model_validator(mode="after")
    def _check(self) -> TeamPushParams:
        if not 2 <= self.n_robots <= 4:
            raise ValueError(f"n_robots: must be between 2 and 4, got {self.n_robots}")
        if self.near_bay_m is not None and not (
            self.goal_tolerance_m < self.near_bay_m < self.goal_distance_m - 2 * self.goal_tolerance_m
        ):
            raise ValueError(
                f"near_bay_m: must lie between goal_tolerance_m ({self.goal_tolerance_m}) and "
                f"goal_distance_m - 2 goal_tolerance_m ({self.goal_distance_m - 2 * self.goal_tolerance_m}), "
                f"got {self.near_bay_m}"
            )
        if self.near_bay_m is None and self.near_bay_bonus:
            raise ValueError("near_bay_bonus: set without near_bay_m")
        _check_whole_steps(self.decision_period_s, self.control_hz, "decision_period_s", "control_hz")
        _check_whole_steps(1.0 / self.control_hz, self.physics_hz, "control_hz", "physics_hz")
        return self


class SafeNavParams(StrictModel):
    """The RCMDP task: one robot, a grid of cells, hazards, pillars and a speed limit."""

    grid_cells: PositiveInt = Field(6, description="cells per side of the square arena")
    cell_size_m: PositiveFloat = 0.5
    speed_limit_m_s: PositiveFloat = Field(0.35, description="above this forward speed the speed cost is 1")
    decision_period_s: PositiveFloat = 1.5
    control_hz: PositiveFloat = 20.0
    physics_hz: PositiveFloat = 240.0
    max_decisions: PositiveInt = 40

    @model_validator(mode="after")
    def _check(self) -> SafeNavParams:
        if self.grid_cells < 4:
            raise ValueError(f"grid_cells: need at least 4, got {self.grid_cells}")
        _check_whole_steps(self.decision_period_s, self.control_hz, "decision_period_s", "control_hz")
        _check_whole_steps(1.0 / self.control_hz, self.physics_hz, "control_hz", "physics_hz")
        return self


def _check_whole_steps(period_s: float, rate_hz: float, period_name: str, rate_name: str) -> None:
    steps = period_s * rate_hz
    if abs(steps - round(steps)) > 1e-6 or round(steps) < 1:
        raise ValueError(f"{period_name}: {period_s} s is not a whole number of {rate_name} steps")


class SimRunConfig(StrictModel):
    """``robocoord sim run``: a scripted or random policy on one task, with a trajectory plot."""

    task: TaskName = "warehouse"
    seconds: PositiveFloat = Field(30.0, description="simulated seconds to run")
    seed: int = 0
    policy: Literal["scripted", "random"] = "scripted"
    phase: Literal["train", "eval"] = Field("eval", description="which disruptions apply (their 'phase')")
    gui: bool = False
    disruptions: Path | None = Field(None, description="a kind: disruptions YAML file")
    record: str | None = Field(None, description="out.mp4, or 'frames' for PNG frames in the run folder")
    out_dir: Path = Field(Path("runs"), description="parent folder of the run folder")
    warehouse: WarehouseParams = Field(default_factory=WarehouseParams)
    team_push: TeamPushParams = Field(default_factory=TeamPushParams)
    safe_nav: SafeNavParams = Field(default_factory=SafeNavParams)
