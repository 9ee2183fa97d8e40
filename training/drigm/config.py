"""Strict configs of the DrIGM family: ``kind: drigm-train`` and ``kind: drigm-study``.

Only pydantic is imported here, so ``robocoord config validate`` stays light.
The schema is documented in ``training/drigm/README.md``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, field_validator, model_validator

from robocoord.config import StrictModel

Mixer = Literal["vdn", "qmix", "qtran"]
Robust = Literal["none", "dr", "groupdr", "contamination", "tv"]
VMin = Literal["zero", "batch_min"]
GLoss = Literal["dual", "squared"]
Task = Literal["tiny", "team_push"]

# Tasks whose agents count is fixed by the game's definition: task -> allowed team sizes.
TEAM_SIZES: dict[str, tuple[int, ...]] = {"tiny": (2, 3), "team_push": (2, 3, 4)}


def _check_rho(value: float) -> float:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"rho must lie in [0, 1), got {value}")
    return value


class ShiftSpec(StrictModel):
    """A named environment perturbation: ``params`` override the task's nominal parameters."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    params: dict[str, float] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _not_nominal(cls, value: str) -> str:
        if value == "nominal":
            raise ValueError("'nominal' is reserved for the unperturbed task")
        return value


class EnvSpec(StrictModel):
    """Which team task to train on and its nominal parameters."""

    task: Task = "tiny"
    n_agents: PositiveInt = 2
    episode_steps: PositiveInt = Field(20, description="episode length [control steps]")
    params: dict[str, float] = Field(default_factory=dict, description="nominal task parameters")

    @model_validator(mode="after")
    def _team_size(self) -> EnvSpec:
        allowed = TEAM_SIZES[self.task]
        if self.n_agents not in allowed:
            raise ValueError(
                f"n_agents: task {self.task!r} takes {' or '.join(map(str, allowed))} agents, got {self.n_agents}"
            )
        return self


class LearnerSpec(StrictModel):
    """Hyper-parameters of the learner (defaults are the tiny game's; see README for the scaling)."""

    total_env_steps: PositiveInt = 2000
    n_envs: PositiveInt = Field(8, description="episodes collected in parallel per rollout")
    batch_episodes: PositiveInt = 32
    buffer_episodes: PositiveInt = 2000
    gamma: float = Field(0.997, gt=0.0, lt=1.0)
    lr: PositiveFloat = 5e-4
    g_lr: PositiveFloat = 1e-3
    optimizer: Literal["rmsprop", "adam"] = "rmsprop"
    grad_clip: PositiveFloat = 10.0
    eps_start: float = Field(1.0, ge=0.0, le=1.0)
    eps_end: float = Field(0.05, ge=0.0, le=1.0)
    eps_anneal_steps: PositiveInt = 1000
    target_update_steps: PositiveInt = Field(200, description="env steps between hard target-network copies")
    update_every_steps: PositiveInt = Field(
        50, description="`update_freq`: one training round per this many env steps"
    )
    g_updates: PositiveInt = Field(4, description="TV only: G-network steps per training round")
    q_updates: PositiveInt = Field(4, description="Q steps per training round (every robust kind)")
    learning_starts_episodes: PositiveInt = 32
    hidden: PositiveInt = 64
    rnn: Literal["gru", "lstm"] = "gru"
    mixing_embed_dim: PositiveInt = 32
    hypernet_embed: PositiveInt = 64
    qtran_embed: PositiveInt = 64
    lambda_opt: float = Field(1.0, ge=0.0)
    lambda_nopt: float = Field(1.0, ge=0.0)
    group_dr_step_size: PositiveFloat = Field(0.5, description="groupdr: η of the group-weight update")
    group_dr_uniform_mix: float = Field(
        0.2, ge=0.0, le=1.0, description="groupdr: uniform share of the draws"
    )

    @model_validator(mode="after")
    def _eps(self) -> LearnerSpec:
        if self.eps_end > self.eps_start:
            raise ValueError(f"eps_end ({self.eps_end}) must not exceed eps_start ({self.eps_start})")
        if self.batch_episodes > self.buffer_episodes:
            raise ValueError("batch_episodes must not exceed buffer_episodes")
        return self


ALL_MIXERS: tuple[Mixer, ...] = ("vdn", "qmix", "qtran")


def _default_env() -> EnvSpec:
    return EnvSpec.model_validate({})


def _default_learner() -> LearnerSpec:
    return LearnerSpec.model_validate({})


class DrigmTrainConfig(StrictModel):
    """``robocoord train drigm``: one learner, one robust kind, one ρ, one or more seeds."""

    name: str = "drigm"
    algo: Mixer = "qmix"
    robust: Robust = "none"
    rho: float = 0.0
    v_min: VMin = "zero"
    g_loss: GLoss = "dual"
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    env: EnvSpec = Field(default_factory=_default_env)
    learner: LearnerSpec = Field(default_factory=_default_learner)
    dr_shifts: list[ShiftSpec] = Field(
        default_factory=list, description="robust: dr samples one of these (or nominal) per episode"
    )
    validation_shifts: list[ShiftSpec] = Field(default_factory=list)
    eval_episodes: PositiveInt = 32
    control_rate_hz: PositiveFloat = 10.0
    runs_root: str = "runs"

    @field_validator("rho")
    @classmethod
    def _rho(cls, value: float) -> float:
        return _check_rho(value)

    @model_validator(mode="after")
    def _consistent(self) -> DrigmTrainConfig:
        if self.robust in ("dr", "groupdr") and not self.dr_shifts:
            raise ValueError(f"robust: {self.robust} needs a non-empty dr_shifts list")
        if self.robust in ("none", "dr", "groupdr") and self.rho != 0.0:
            raise ValueError(f"rho: only contamination and tv use rho; robust is {self.robust!r}")
        return self


class VariantSpec(StrictModel):
    """One robust kind in a study, with its ρ grid (one run per ρ, selected on validation shifts)."""

    robust: Robust
    rho_grid: list[float] = Field(default_factory=lambda: [0.0], min_length=1)
    v_min: VMin = "zero"

    @field_validator("rho_grid")
    @classmethod
    def _grid(cls, values: list[float]) -> list[float]:
        return [_check_rho(v) for v in values]

    @model_validator(mode="after")
    def _grid_for_kind(self) -> VariantSpec:
        if self.robust in ("none", "dr", "groupdr") and self.rho_grid != [0.0]:
            raise ValueError(f"rho_grid: robust {self.robust!r} takes no rho")
        return self


class DrigmStudyConfig(StrictModel):
    """``robocoord drigm study``: {variants} × {mixers} × seeds, evaluated nominal, on validation and on test shifts."""

    name: str = "drigm-study"
    mixers: list[Mixer] = Field(default_factory=lambda: list(ALL_MIXERS), min_length=1)
    variants: list[VariantSpec] = Field(min_length=1)
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], min_length=1)
    env: EnvSpec = Field(default_factory=_default_env)
    learner: LearnerSpec = Field(default_factory=_default_learner)
    dr_shifts: list[ShiftSpec] = Field(default_factory=list)
    validation_shifts: list[ShiftSpec] = Field(min_length=1)
    test_shifts: list[ShiftSpec] = Field(min_length=1)
    eval_episodes: PositiveInt = 32
    return_scale: PositiveFloat = Field(1.0, description="returns are divided by this (normalised return)")
    workers: PositiveInt = Field(1, description="parallel training processes")
    max_id_drop: float = Field(0.05, ge=0.0, lt=1.0, description="criterion: allowed relative nominal drop")

    @model_validator(mode="after")
    def _consistent(self) -> DrigmStudyConfig:
        kinds = [v.robust for v in self.variants]
        if len(set(kinds)) != len(kinds):
            raise ValueError("variants: each robust kind may appear once")
        for kind in ("dr", "groupdr"):
            if kind in kinds and not self.dr_shifts:
                raise ValueError(f"dr_shifts: the {kind} variant needs a training disruption set")
        names = [s.name for s in self.validation_shifts + self.test_shifts]
        if len(set(names)) != len(names):
            raise ValueError("shift names must be unique across validation_shifts and test_shifts")
        if len(set(self.mixers)) != len(self.mixers):
            raise ValueError("mixers: duplicate entry")
        return self
