"""Strict configs of ``robocoord train rcmdp`` (kind ``rcmdp-train``) and ``robocoord rcmdp study`` (kind
``rcmdp-study``). pydantic only — no numpy/torch at import. Schema documented in ``README.md``."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, field_validator, model_validator

from robocoord.config import StrictModel

Gamma = Annotated[float, Field(gt=0.0, lt=1.0, description="discount γ in (0, 1)")]


# ----------------------------------------------------------------------------- uncertainty sets
class KlPenaltySpec(StrictModel):
    kind: Literal["kl_penalty"] = "kl_penalty"
    C: PositiveFloat = Field(description="penalty strength; large C = close to nominal")


class KlSpec(StrictModel):
    kind: Literal["kl"] = "kl"
    delta: NonNegativeFloat = Field(description="KL radius δ")


class TvSpec(StrictModel):
    kind: Literal["tv"] = "tv"
    beta: float = Field(ge=0.0, le=1.0, description="total-variation radius β (½‖P − P⁰‖₁ ≤ β)")


class FiniteSpec(StrictModel):
    kind: Literal["finite"] = "finite"
    n_kernels: PositiveInt = 4
    spread: float = Field(0.2, ge=0.0, le=1.0, description="members are (1−spread)·P⁰ + spread·Dirichlet(1)")
    seed: int = 0


class NominalSpec(StrictModel):
    kind: Literal["nominal"] = "nominal"


UncertaintySpec = Annotated[
    KlPenaltySpec | KlSpec | TvSpec | FiniteSpec | NominalSpec, Field(discriminator="kind")
]


# ----------------------------------------------------------------------------- benchmarks
class _BudgetMixin(StrictModel):
    budgets: list[float] | None = Field(None, description="absolute budgets b_i, one per constraint")
    budget_fractions: list[float] | None = Field(None, description="budgets as fractions of H: b_i = f_i·H")

    @model_validator(mode="after")
    def _one_budget_form(self) -> _BudgetMixin:
        if (self.budgets is None) == (self.budget_fractions is None):
            raise ValueError("give exactly one of budgets or budget_fractions")
        return self

    def budget_values(self, gamma: float) -> list[float]:
        if self.budgets is not None:
            return list(self.budgets)
        assert self.budget_fractions is not None  # guaranteed by the validator above
        return [f / (1.0 - gamma) for f in self.budget_fractions]


class RiverSwimSpec(_BudgetMixin):
    name: Literal["river_swim"] = "river_swim"


class GarnetSpec(_BudgetMixin):
    name: Literal["garnet"] = "garnet"
    states: int = Field(15, ge=2)
    actions: PositiveInt = 20
    mu: float = 0.0
    sigma: NonNegativeFloat = 1.0
    n_constraints: PositiveInt = 1
    seed: int = 0


class FrozenLakeSpec(_BudgetMixin):
    name: Literal["frozen_lake"] = "frozen_lake"
    slip: float = Field(0.2, ge=0.0, lt=1.0)


class HazardCorridorSpec(_BudgetMixin):
    name: Literal["hazard_corridor"] = "hazard_corridor"
    length: int = Field(8, ge=4)


class SafeNavSpec(StrictModel):
    """The robot task through its finite abstraction (kernel estimated from PyBullet by robocoord.sim).

    The uncertainty radius is calibrated, not given: for every ``train_dynamics`` condition the kernel is
    re-estimated from rollouts, and the TV radius is the ``radius_quantile`` quantile over (s, a) of
    ½‖P_disrupted(·|s,a) − P⁰(·|s,a)‖₁ (max over conditions). The config's ``uncertainty`` must be ``tv``;
    its beta is ignored and replaced by the calibrated one (recorded in the run's result.json).
    """

    name: Literal["safe_nav"] = "safe_nav"
    budgets: list[float] = Field(
        min_length=1, description="one per cost channel of safe_nav (hazard, collision, overspeed)"
    )
    samples_per_pair: PositiveInt = Field(
        4, description="rollouts per (cell, action) for each estimated kernel"
    )
    train_dynamics: list[dict[str, float]] = Field(
        default_factory=lambda: [
            {"lateral_friction_scale": 0.7, "mass_scale": 1.25, "actuation_latency_steps": 1}
        ],
        min_length=1,
        description="training disruptions: DynamicsParams keyword sets, one per condition",
    )
    radius_quantile: float = Field(0.9, gt=0.0, le=1.0)
    radius: float | None = Field(
        None, ge=0.0, le=1.0, description="skip calibration and use this TV radius (sensitivity runs)"
    )
    kernel_cache: str | None = Field(
        "runs/rcmdp-safe-nav-kernels", description="reuse estimated kernels; null = off"
    )
    seed: int = 0


BenchmarkSpec = Annotated[
    RiverSwimSpec | GarnetSpec | FrozenLakeSpec | HazardCorridorSpec | SafeNavSpec,
    Field(discriminator="name"),
]


# ----------------------------------------------------------------------------- algorithms
class RnpgSpec(StrictModel):
    algo: Literal["rnpg", "rppg"] = "rnpg"
    label: str | None = Field(None, description="name in the study output (default: algo)")
    iterations: PositiveInt = 1000
    lam: PositiveFloat | None = Field(None, description="λ; default 2H/ε with ε = epsilon_fraction·H")
    xi_fraction: NonNegativeFloat = Field(0.0, description="margin ξ as a fraction of H")
    step_size: PositiveFloat | Literal["theory"] = Field(
        "theory", description="α_t in units of (1−γ) (so α_t = step_size·(1−γ)), or 'theory' = (1−γ)/√(T·S)"
    )


class EpircSpec(StrictModel):
    algo: Literal["epirc_pgs"] = "epirc_pgs"
    label: str | None = Field(None, description="name in the study output (default: algo)")
    bisection_steps: PositiveInt = 10
    inner_iterations: PositiveInt = 200
    eta: PositiveFloat = Field(1.0, description="projected-PG step in units of (1−γ)²")
    warm_start: bool = Field(True, description="start each bisection round from the last reachable policy")


AlgoSpec = Annotated[RnpgSpec | EpircSpec, Field(discriminator="algo")]


# ----------------------------------------------------------------------------- top level
class RcmdpTrainConfig(StrictModel):
    name: str = "rcmdp"
    seed: int = 0
    gamma: Gamma = 0.99
    epsilon_fraction: PositiveFloat = Field(0.01, description="ε = epsilon_fraction·H")
    benchmark: BenchmarkSpec
    uncertainty: UncertaintySpec
    algo: AlgoSpec
    runs_root: str = "runs"
    export: bool = Field(True, description="safe_nav only: export policy + worst-case constraint Q as ONNX")


class RcmdpStudyConfig(StrictModel):
    name: str = "rcmdp-study"
    gammas: list[Gamma] = Field(min_length=1)
    epsilon_fraction: PositiveFloat = Field(0.01, description="ε = epsilon_fraction·H")
    benchmarks: list[BenchmarkSpec] = Field(min_length=1)
    uncertainty: UncertaintySpec
    algos: list[AlgoSpec] = Field(min_length=1)
    plots_dir: str | None = Field(
        "runs/rcmdp-study-plots", description="where convergence PNGs go; null = none"
    )

    @field_validator("gammas")
    @classmethod
    def _distinct(cls, value: list[float]) -> list[float]:
        if len(set(value)) != len(value):
            raise ValueError("gammas must be distinct")
        if any(math.isnan(g) for g in value):
            raise ValueError("gammas must be numbers")
        return value

    @field_validator("benchmarks")
    @classmethod
    def _tabular_only(cls, value: list[BenchmarkSpec]) -> list[BenchmarkSpec]:
        if any(isinstance(b, SafeNavSpec) for b in value):
            raise ValueError(
                "the study runs tabular benchmarks only; train safe_nav with `robocoord train rcmdp`"
            )
        return value
