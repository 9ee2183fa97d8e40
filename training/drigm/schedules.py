"""Exploration schedules (pure)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinearSchedule:
    """ε(t) falls linearly from ``start`` to ``end`` over ``steps`` env steps, then stays at ``end``."""

    start: float
    end: float
    steps: int

    def __post_init__(self) -> None:
        if self.steps <= 0:
            raise ValueError(f"steps must be > 0, got {self.steps}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")

    def __call__(self, t: int) -> float:
        frac = min(max(t, 0) / self.steps, 1.0)
        return self.start + frac * (self.end - self.start)
