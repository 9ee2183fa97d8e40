"""Strict configs of GMFS (pydantic only): ``kind: gmfs-study`` and ``kind: gmfs-train``.

The keys are documented in ``training/gmfs/README.md``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PositiveFloat, PositiveInt, field_validator, model_validator

from robocoord.config import StrictModel

NeighborActionName = Literal["current_greedy", "first_sweep_greedy"]
SamplingMode = Literal["graphon", "uniform"]
SAMPLING_MODES: tuple[SamplingMode, ...] = ("graphon", "uniform")


# --------------------------------------------------------------------------- layout


class GridLayout(StrictModel):
    """rows x cols agents on a regular grid over [0, 1]^2 (corners included, as in the paper)."""

    kind: Literal["grid"] = "grid"
    rows: PositiveInt
    cols: PositiveInt

    def size(self) -> int:
        return self.rows * self.cols


class PowerLawLayout(StrictModel):
    """n agents on [0, 1] at α_i = ((i + ½) / n)^exponent: dense near 0, sparse near 1 (heterogeneous degrees)."""

    kind: Literal["power_law"] = "power_law"
    exponent: PositiveFloat = 2.0

    def size(self) -> None:
        return None


Layout = Annotated[GridLayout | PowerLawLayout, Field(discriminator="kind")]


# --------------------------------------------------------------------------- graphon


class RadiusGraphon(StrictModel):
    """W(α, β) = 1{‖α − β‖ ≤ radius} (the paper's main graphon)."""

    kind: Literal["radius"] = "radius"
    radius: PositiveFloat = 0.3


class ExpDecayGraphon(StrictModel):
    """W(α, β) = exp(−beta ‖α − β‖)."""

    kind: Literal["exp_decay"] = "exp_decay"
    beta: float = Field(2.0, ge=0)


class StepGraphon(StrictModel):
    """Block graphon. ``blocks`` alone: W(α, β) = blocks[⌊K α₁⌋][⌊K β₁⌋] (K×K weights ≥ 0).
    ``grid`` (cells per latent dimension): the block of α is its grid cell (row-major); W = blocks[cell α][cell β],
    or 1{same cell} without ``blocks`` (the warehouse's shared work stations)."""

    kind: Literal["step"] = "step"
    blocks: list[list[float]] | None = None
    grid: list[PositiveFloat] | None = None

    @field_validator("blocks")
    @classmethod
    def _square(cls, blocks: list[list[float]] | None) -> list[list[float]] | None:
        if blocks is None:
            return None
        if not blocks or any(len(row) != len(blocks) for row in blocks):
            raise ValueError(
                f"must be a square matrix; {len(blocks)} rows of lengths {[len(r) for r in blocks]}"
            )
        if any(v < 0 or not math.isfinite(v) for row in blocks for v in row):
            raise ValueError("entries must be finite and >= 0")
        return blocks

    @model_validator(mode="after")
    def _one_of(self) -> StepGraphon:
        if self.blocks is None and self.grid is None:
            raise ValueError("step graphon needs blocks, grid, or both")
        return self


class MatrixGraphon(StrictModel):
    """W given on the roster: weights[i][j] for agents i, j (n×n, ≥ 0)."""

    kind: Literal["matrix"] = "matrix"
    weights: list[list[float]] = Field(min_length=2)

    @field_validator("weights")
    @classmethod
    def _square(cls, weights: list[list[float]]) -> list[list[float]]:
        if any(len(row) != len(weights) for row in weights):
            raise ValueError("must be a square n×n matrix")
        if any(v < 0 or not math.isfinite(v) for row in weights for v in row):
            raise ValueError("entries must be finite and >= 0")
        return weights


Graphon = Annotated[
    RadiusGraphon | ExpDecayGraphon | StepGraphon | MatrixGraphon, Field(discriminator="kind")
]


def graphon_params(
    graphon: RadiusGraphon | ExpDecayGraphon | StepGraphon | MatrixGraphon,
) -> dict[str, object]:
    """The graphon's parameters as keyword arguments of ``gmfs_sampler.graphon_matrix``."""
    return graphon.model_dump(exclude={"kind"}, exclude_none=True)


# --------------------------------------------------------------------------- generative model


class AnalyticModelConfig(StrictModel):
    """The paper's robotic coordination model (S = {Idle, Transit, Working})."""

    kind: Literal["analytic"] = "analytic"
    L: float = Field(5.0, ge=0, description="congestion penalty in max(0.4, 1 − L c)")

    def n_states(self) -> int:
        return 3


class PybulletModelConfig(StrictModel):
    """The warehouse transition table measured from PyBullet rollouts (sim/data/warehouse_transitions.npz)."""

    kind: Literal["pybullet"] = "pybullet"
    L: float = Field(5.0, ge=0, description="congestion penalty in max(0.4, 1 − L c)")
    table: Path | None = Field(None, description="transition table .npz; default: the shipped one")
    disruptions: Path | None = Field(
        None, description="disruptions YAML (kind: disruptions) applied while training"
    )
    objective: Literal["paper", "jobs"] = Field(
        "paper",
        description="paper: r = base(s)·max(0.4, 1 − L c) − cost(a); jobs: r = expected arrivals at the work station",
    )
    trip_cost: float = Field(
        0.0,
        ge=0,
        description="jobs objective: charged per dispatch towards the station (a = Working from s ≠ Working)",
    )

    @model_validator(mode="after")
    def _trip_cost_needs_jobs(self) -> PybulletModelConfig:
        if self.trip_cost > 0 and self.objective != "jobs":
            raise ValueError("trip_cost: only the jobs objective charges dispatches; set objective: jobs")
        return self

    def n_states(self) -> int:
        return 3


class SyntheticModelConfig(StrictModel):
    """A random model with any |S| and |A| (kernels mixed by g, reward linear in g)."""

    kind: Literal["synthetic"] = "synthetic"
    n_states: PositiveInt = 3
    n_actions: PositiveInt = 3
    seed: int = 0


ModelConfig = Annotated[
    AnalyticModelConfig | PybulletModelConfig | SyntheticModelConfig, Field(discriminator="kind")
]


def model_sizes(model: AnalyticModelConfig | PybulletModelConfig | SyntheticModelConfig) -> tuple[int, int]:
    if isinstance(model, SyntheticModelConfig):
        return model.n_states, model.n_actions
    return 3, 3


# --------------------------------------------------------------------------- study


class GmfsStudyConfig(StrictModel):
    """``robocoord gmfs study``: a κ sweep of tabular GMFS, graphon vs uniform sampling."""

    n: int = Field(25, description="number of agents")
    layout: Layout = Field(default_factory=lambda: GridLayout(rows=5, cols=5))
    graphon: Graphon = Field(default_factory=RadiusGraphon)
    model: ModelConfig = Field(default_factory=AnalyticModelConfig)  # type: ignore[arg-type]
    gamma: float = Field(0.95, ge=0, lt=1)
    sweeps: PositiveInt = Field(250, description="T, synchronous value-iteration sweeps of Alg. 1")
    mc_samples: PositiveInt = Field(50, description="M, generative-model samples per (s, a, z) and sweep")
    horizon: PositiveInt = Field(100, description="H, execution steps per rollout (Alg. 2)")
    rollouts: PositiveInt = Field(30, description="evaluation rollouts per training seed")
    training_seeds: PositiveInt = Field(3, description="independent Alg. 1 runs per κ")
    kappas: list[int] = Field(default_factory=lambda: [1, 2, 4, 8, 16, 24], min_length=1)
    sampling: list[SamplingMode] = Field(default_factory=lambda: list(SAMPLING_MODES), min_length=1)
    neighbor_action: NeighborActionName = "current_greedy"
    seed: int = 0
    max_table_size: PositiveInt = Field(2_000_000, description="refuse a tabular Q with more entries")
    run_root: Path = Field(
        Path("runs"), description="the study writes runs/<stamp>-gmfs-study/ (plots, study.json)"
    )

    @field_validator("kappas")
    @classmethod
    def _positive_kappas(cls, kappas: list[int]) -> list[int]:
        bad = [k for k in kappas if k <= 0]
        if bad:
            raise ValueError(f"κ must be a positive integer; got {bad}")
        if len(set(kappas)) != len(kappas):
            raise ValueError(f"κ values must be distinct; got {kappas}")
        return sorted(kappas)

    @field_validator("sampling")
    @classmethod
    def _distinct_modes(cls, modes: list[SamplingMode]) -> list[SamplingMode]:
        if len(set(modes)) != len(modes):
            raise ValueError(f"sampling modes must be distinct; got {modes}")
        return modes

    @model_validator(mode="after")
    def _check(self) -> GmfsStudyConfig:
        check_population(self.n, self.layout, self.graphon)
        n_states, n_actions = model_sizes(self.model)
        for kappa in self.kappas:
            size = n_states * n_actions * math.comb(kappa + n_states - 1, n_states - 1)
            if size > self.max_table_size:
                raise ValueError(
                    f"kappas: κ={kappa} with |S|={n_states}, |A|={n_actions} needs a Q table of {size:,} entries, "
                    f"above max_table_size={self.max_table_size:,}; raise max_table_size or use neural GMFS "
                    "(robocoord train gmfs, kind gmfs-train)"
                )
        return self


def check_population(
    n: int,
    layout: GridLayout | PowerLawLayout,
    graphon: RadiusGraphon | ExpDecayGraphon | StepGraphon | MatrixGraphon,
) -> None:
    if n < 2:
        raise ValueError(f"n: need at least 2 agents, got {n}")
    size = layout.size()
    if size is not None and size != n:
        raise ValueError(f"layout: grid {layout.rows}x{layout.cols} has {size} positions but n is {n}")  # type: ignore[union-attr]
    if isinstance(graphon, MatrixGraphon) and len(graphon.weights) != n:
        raise ValueError(f"graphon: weights is {len(graphon.weights)}x{len(graphon.weights)} but n is {n}")


# --------------------------------------------------------------------------- neural training


class GmfsTrainConfig(StrictModel):
    """``robocoord train gmfs``: neural GMFS by fitted Q-iteration, exported as artifacts/policy.onnx."""

    name: str = Field("gmfs", min_length=1, description="run folder suffix")
    model: ModelConfig = Field(default_factory=AnalyticModelConfig)  # type: ignore[arg-type]
    graphon: Graphon = Field(
        default_factory=RadiusGraphon, description="deployment graphon, written to the artifact"
    )
    kappa: PositiveInt = Field(16, description="κ the robots sample at run time (written to the artifact)")
    train_kappas: list[PositiveInt] = Field(
        default_factory=lambda: [2, 4, 8, 16, 24], min_length=1, description="κ values mixed in training"
    )
    gamma: float = Field(0.95, ge=0, lt=1)
    iterations: PositiveInt = Field(60, description="fitted Q-iteration rounds (target refreshes)")
    batch_size: PositiveInt = Field(2048, description="generative-model states (s, z) per round")
    mc_samples: PositiveInt = Field(8, description="M, next-state samples per (s, a, z) in the target")
    grad_steps: PositiveInt = Field(40, description="Adam steps per round")
    minibatch: PositiveInt = 512
    lr: PositiveFloat = 1e-3
    hidden: list[PositiveInt] = Field(default_factory=lambda: [64, 64], min_length=1)
    neighbor_action: NeighborActionName = "current_greedy"
    control_rate_hz: PositiveFloat = Field(0.5, description="decision rate of the deployed policy")
    eval_agents: PositiveInt = Field(100, description="agents in the post-training analytic evaluation")
    eval_rollouts: PositiveInt = 10
    eval_horizon: PositiveInt = 100
    seed: int = 0
    run_root: Path = Path("runs")

    @model_validator(mode="after")
    def _check(self) -> GmfsTrainConfig:
        if self.minibatch > self.batch_size * model_sizes(self.model)[1]:
            raise ValueError(f"minibatch: {self.minibatch} is larger than a round's data")
        return self
