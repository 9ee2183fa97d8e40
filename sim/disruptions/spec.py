"""The disruption schema (``kind: disruptions`` YAML files). Pydantic only; see ``sim/DISRUPTIONS.md``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt, field_validator, model_validator

from robocoord.config import StrictModel, load_config

Source = Literal["observation", "action", "reward", "cost", "dynamics"]
Kind = Literal["gauss", "uniform", "shift", "adversarial", "set"]
Mode = Literal["always", "interval", "episode", "condition"]
Phase = Literal["train", "eval", "both"]
Condition = Literal["reward_improved", "reward_worsened"]

# dynamics parameter -> (nominal value, number of components, lower bound of a valid value)
DYNAMICS_PARAMETERS: dict[str, tuple[float, int, float]] = {
    "mass_scale": (1.0, 1, 0.05),
    "lateral_friction_scale": (1.0, 1, 0.0),
    "rolling_friction_scale": (1.0, 1, 0.0),
    "motor_gain": (1.0, 1, 0.0),
    "torque_limit_scale": (1.0, 1, 0.0),
    "actuation_latency_steps": (0.0, 1, 0.0),
    "sensor_delay_steps": (0.0, 1, 0.0),
    "observation_dropout": (0.0, 1, 0.0),
    "wind_force_n": (0.0, 2, float("-inf")),
    "floor_tilt_rad": (0.0, 2, -0.5),
    "gravity_scale": (1.0, 1, 0.0),
    "box_mass_scale": (1.0, 1, 0.05),
    "box_friction_scale": (1.0, 1, 0.0),
}
DynamicsParameter = Literal[
    "mass_scale",
    "lateral_friction_scale",
    "rolling_friction_scale",
    "motor_gain",
    "torque_limit_scale",
    "actuation_latency_steps",
    "sensor_delay_steps",
    "observation_dropout",
    "wind_force_n",
    "floor_tilt_rad",
    "gravity_scale",
    "box_mass_scale",
    "box_friction_scale",
]

Vector = float | list[float]


def as_list(value: Vector) -> list[float]:
    return [float(value)] if isinstance(value, int | float) else [float(v) for v in value]


class DisruptionSpec(StrictModel):
    """One disruption. Scalars broadcast over dimensions; lists give one value per dimension."""

    name: str = Field("", description="label shown in info['disruption']; defaults to source/kind")
    source: Source
    kind: Kind
    mode: Mode = "always"
    phase: Phase = "both"
    # noise parameters (per dimension when lists)
    mu: Vector = 0.0
    sigma: Vector = 0.0
    low: Vector = 0.0
    high: Vector = 0.0
    offset: Vector = 0.0
    choices: list[Vector] | None = Field(None, description="kind set: the uncertainty set to pick from")
    budget: float | None = Field(None, gt=0, description="kind adversarial: L-inf radius of the perturbation")
    candidates: int = Field(8, ge=2, description="kind adversarial: K sampled perturbations")
    probability: float = Field(1.0, ge=0, le=1, description="chance that an active step fires, per agent")
    # gating
    interval: PositiveInt | None = Field(None, description="mode interval: fire at steps k * interval")
    condition: Condition | None = Field(None, description="mode condition: when to fire")
    start_step: NonNegativeInt = 0
    end_step: NonNegativeInt | None = None
    # targeting
    mask: list[bool] | None = Field(None, description="one flag per dimension; False leaves it untouched")
    agents: list[NonNegativeInt] | None = Field(None, description="robot indices to disrupt; None = all")
    parameter: DynamicsParameter | None = Field(None, description="source dynamics: which physical parameter")

    @field_validator("sigma")
    @classmethod
    def _sigma_non_negative(cls, value: Vector) -> Vector:
        if any(v < 0 for v in as_list(value)):
            raise ValueError("sigma must be >= 0")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DisruptionSpec:
        if self.mode == "interval" and self.interval is None:
            raise ValueError("interval: required when mode is 'interval'")
        if self.mode != "interval" and self.interval is not None:
            raise ValueError("interval: only meaningful with mode 'interval'")
        if self.mode == "condition" and self.condition is None:
            raise ValueError("condition: required when mode is 'condition'")
        if self.end_step is not None and self.end_step <= self.start_step:
            raise ValueError("end_step: must be greater than start_step")
        if self.kind == "uniform" and any(
            lo > hi
            for lo, hi in zip(_broadcast(self.low, self.high), _broadcast(self.high, self.low), strict=True)
        ):
            raise ValueError("low: must not exceed high")
        if self.kind == "set" and not self.choices:
            raise ValueError("choices: kind 'set' needs a non-empty list")
        if self.kind == "adversarial" and self.budget is None:
            raise ValueError("budget: kind 'adversarial' needs a budget > 0")
        if self.source == "dynamics" and self.parameter is None:
            raise ValueError("parameter: required when source is 'dynamics'")
        if self.source != "dynamics" and self.parameter is not None:
            raise ValueError("parameter: only meaningful with source 'dynamics'")
        lengths = {len(v) for v in (as_list(self.mu), as_list(self.sigma), as_list(self.low)) if len(v) > 1}
        lengths |= {len(v) for v in (as_list(self.high), as_list(self.offset)) if len(v) > 1}
        if len(lengths) > 1:
            raise ValueError(
                "mu: per-dimension lists (mu, sigma, low, high, offset) must have the same length"
            )
        if self.agents is not None and len(set(self.agents)) != len(self.agents):
            raise ValueError("agents: duplicate robot index")
        return self

    @property
    def label(self) -> str:
        return self.name or (
            f"{self.source}/{self.parameter}/{self.kind}" if self.parameter else f"{self.source}/{self.kind}"
        )


def _broadcast(a: Vector, b: Vector) -> list[float]:
    la, lb = as_list(a), as_list(b)
    return la * len(lb) if len(la) == 1 else la


class DisruptionFile(StrictModel):
    """``kind: disruptions``: a list of specs a run applies together."""

    description: str = ""
    disruptions: list[DisruptionSpec] = Field(default_factory=list)


def load_disruptions(path: Path | str, overrides: tuple[str, ...] = ()) -> list[DisruptionSpec]:
    """Read a ``kind: disruptions`` YAML file (raises ``robocoord.config.ConfigError``, one line per field)."""
    config = load_config(path, overrides, expect_kind="disruptions")
    if not isinstance(config, DisruptionFile):  # pragma: no cover - KINDS maps the kind to this class
        raise TypeError(f"{path}: not a disruptions file")
    return list(config.disruptions)
