"""A config model used only by the config-loader tests."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from robocoord.config import StrictModel


class Optimiser(StrictModel):
    lr: float = Field(1e-3, gt=0)
    kind: Literal["adam", "rmsprop"] = "adam"


class ExampleConfig(StrictModel):
    name: str
    robots: int = Field(ge=1)
    gamma: float = Field(0.99, gt=0, lt=1)
    optimiser: Optimiser = Optimiser()
    seeds: list[int] = [0]
