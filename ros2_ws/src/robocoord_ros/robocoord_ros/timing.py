"""Loop timing bookkeeping for the nodes, free of rclpy and of clocks: every call gets ``now_s``.

* :class:`LatencyHistogram` — fixed millisecond buckets (cheap to publish in diagnostics) plus a
  bounded window of raw samples for exact percentiles.
* :class:`DeadlineMonitor` — a fixed-rate loop's schedule; counts ticks that started more than
  one period late (a missed deadline) and ticks that were skipped altogether.
* :class:`RateMeter` — the measured rate of an event stream over a sliding window.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass

import numpy as np

# Upper bucket edges [ms]; the last bucket is open-ended.
LATENCY_BUCKETS_MS: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)


class LatencyHistogram:
    def __init__(self, window: int = 2000, buckets_ms: tuple[float, ...] = LATENCY_BUCKETS_MS):
        self.buckets_ms = buckets_ms
        self.counts = np.zeros(len(buckets_ms) + 1, dtype=np.int64)
        self._window: deque[float] = deque(maxlen=window)
        self.total = 0

    def add(self, latency_ms: float) -> None:
        # bisect on the tuple: np.searchsorted converts the edges on every call (~0.2 ms)
        self.counts[bisect.bisect_left(self.buckets_ms, latency_ms)] += 1
        self._window.append(latency_ms)
        self.total += 1

    def percentile(self, q: float) -> float:
        """q-th percentile [ms] of the recent window; NaN before the first sample."""
        if not self._window:
            return float("nan")
        return float(np.percentile(np.fromiter(self._window, dtype=float), q))

    def samples(self) -> list[float]:
        return list(self._window)

    def bucket_labels(self) -> list[str]:
        labels = [f"le_{edge:g}ms" for edge in self.buckets_ms]
        return labels + [f"gt_{self.buckets_ms[-1]:g}ms"]

    def as_text(self) -> str:
        """``le_0.1ms:3 le_0.2ms:10 …`` — one diagnostics value."""
        return " ".join(
            f"{label}:{int(n)}" for label, n in zip(self.bucket_labels(), self.counts, strict=True)
        )


@dataclass
class DeadlineMonitor:
    """Schedule of a loop at ``period_s``. Call :meth:`tick` at the start of every iteration."""

    period_s: float
    next_due_s: float | None = None
    ticks: int = 0
    misses: int = 0
    skipped: int = 0

    def tick(self, now_s: float) -> bool:
        """Record an iteration starting at ``now_s``; True when it started a whole period late."""
        self.ticks += 1
        if self.next_due_s is None:
            self.next_due_s = now_s + self.period_s
            return False
        lateness = now_s - self.next_due_s
        missed = lateness > self.period_s
        if missed:
            self.misses += 1
            behind = int(lateness // self.period_s)
            self.skipped += behind
            self.next_due_s += behind * self.period_s
        self.next_due_s += self.period_s
        return missed


class RateMeter:
    """Events per second over the last ``window_s`` seconds."""

    def __init__(self, window_s: float = 2.0):
        self.window_s = window_s
        self._stamps: deque[float] = deque()

    def add(self, now_s: float) -> None:
        self._stamps.append(now_s)
        self._trim(now_s)

    def _trim(self, now_s: float) -> None:
        while self._stamps and self._stamps[0] < now_s - self.window_s:
            self._stamps.popleft()

    def rate_hz(self, now_s: float) -> float:
        self._trim(now_s)
        if len(self._stamps) < 2:
            return 0.0
        span = now_s - self._stamps[0]
        return (len(self._stamps) - 1) / span if span > 0 else 0.0
