"""Fleet health rules of the supervisor, free of rclpy: diagnostics values in, findings out.

Each node reports its measured rates and latencies as diagnostics key/values (see
:data:`KEYS`). :func:`assess` compares them with their nominal values and returns one
finding per problem; the supervisor node publishes and logs them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Level = Literal["OK", "WARN", "ERROR", "STALE"]

# The diagnostics keys the nodes publish and the supervisor reads.
KEYS = {
    "telemetry_rate_hz": "bridge: measured telemetry rate",
    "control_rate_hz": "policy: measured control tick rate",
    "latency_ms_p99": "policy: observation-to-command latency, 99th percentile",
    "rtt_ms": "bridge: serial round trip",
    "link_state": "bridge: up | down | lost",
}


@dataclass(frozen=True)
class Nominal:
    telemetry_hz: float
    control_hz: float | None
    rate_band_fraction: float
    latency_warn_ms: float
    rtt_warn_ms: float
    stale_after_s: float


@dataclass(frozen=True)
class Finding:
    source: str
    level: Level
    message: str


def _float(values: Mapping[str, str], key: str) -> float | None:
    raw = values.get(key)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


def _outside_band(measured: float, nominal: float, fraction: float) -> bool:
    return not (1.0 - fraction) * nominal <= measured <= (1.0 + fraction) * nominal


def assess_status(
    source: str, reported_level: Level, values: Mapping[str, str], age_s: float, nominal: Nominal
) -> list[Finding]:
    """Findings for one diagnostics source last heard ``age_s`` seconds ago."""
    if age_s > nominal.stale_after_s:
        return [Finding(source, "STALE", f"no diagnostics for {age_s:.1f} s")]
    findings: list[Finding] = []
    if reported_level == "ERROR":
        findings.append(Finding(source, "ERROR", "node reports ERROR"))
    telemetry = _float(values, "telemetry_rate_hz")
    if telemetry is not None and _outside_band(telemetry, nominal.telemetry_hz, nominal.rate_band_fraction):
        findings.append(
            Finding(
                source,
                "WARN",
                f"telemetry rate {telemetry:.1f} Hz outside band around {nominal.telemetry_hz:g} Hz",
            )
        )
    control = _float(values, "control_rate_hz")
    control_nominal = _float(values, "control_rate_nominal_hz") or nominal.control_hz
    if (
        control is not None
        and control_nominal
        and _outside_band(control, control_nominal, nominal.rate_band_fraction)
    ):
        findings.append(
            Finding(
                source, "WARN", f"control rate {control:.1f} Hz outside band around {control_nominal:g} Hz"
            )
        )
    latency = _float(values, "latency_ms_p99")
    if latency is not None and not math.isnan(latency) and latency > nominal.latency_warn_ms:
        findings.append(
            Finding(source, "WARN", f"latency p99 {latency:.2f} ms above {nominal.latency_warn_ms:g} ms")
        )
    rtt = _float(values, "rtt_ms")
    if rtt is not None and not math.isnan(rtt) and rtt > nominal.rtt_warn_ms:
        findings.append(Finding(source, "WARN", f"serial RTT {rtt:.2f} ms above {nominal.rtt_warn_ms:g} ms"))
    link = values.get("link_state")
    if link is not None and link != "up":
        findings.append(Finding(source, "ERROR", f"link {link}"))
    return findings


def worst(levels: list[Level]) -> Level:
    order: dict[Level, int] = {"OK": 0, "WARN": 1, "STALE": 2, "ERROR": 3}
    return max(levels, key=lambda level: order[level]) if levels else "OK"
