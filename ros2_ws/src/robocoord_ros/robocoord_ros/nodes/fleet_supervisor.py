"""fleet_supervisor: aggregates ``/diagnostics``, warns on rate/latency bands, fans out the fleet e-stop.

Services ``/fleet/estop`` and ``/fleet/clear_estop`` (std_srvs/Trigger) set the latched
``/fleet/estop_active`` (std_msgs/Bool, reliable, transient-local), which every serial bridge
and the sim world follow; a bridge forwards it to its firmware at once. The supervisor also
counts the bridges that acknowledged (their diagnostics report ``estop: True``).

The health rules are in :mod:`robocoord_ros.health` (no rclpy).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from std_msgs.msg import Bool
from std_srvs.srv import Trigger

from robocoord_ros.health import Finding, Nominal, assess_status, worst
from robocoord_ros.rosutil import (
    declare,
    diagnostics_qos,
    latched_qos,
    level_name,
    publish_status,
    spin_node,
    values_of,
)


@dataclass
class _Heard:
    level: str
    values: dict[str, str]
    hardware_id: str
    stamp_s: float


class FleetSupervisorNode(Node):
    def __init__(self, node_name: str = "fleet_supervisor", **kwargs):
        super().__init__(node_name, **kwargs)
        self.robot_ids: list[int] = declare(self, "robot_ids", [0], "ids of the fleet's robots", kind=list)
        telemetry_hz = declare(self, "telemetry_rate_hz", 100.0, "nominal telemetry rate [Hz]", low=0.1)
        band = declare(
            self, "rate_band_fraction", 0.2, "allowed relative rate deviation", low=0.01, high=0.99
        )
        latency = declare(self, "latency_warn_ms", 5.0, "policy latency p99 warning threshold [ms]", low=0.01)
        rtt = declare(self, "rtt_warn_ms", 5.0, "serial RTT warning threshold [ms]", low=0.01)
        rate = declare(self, "diagnostics_rate_hz", 2.0, "aggregate publishing rate [Hz]", low=0.1, high=50.0)
        stale = declare(self, "stale_after_s", 3.0, "a source silent this long is STALE [s]", low=0.1)
        self.nominal = Nominal(
            telemetry_hz=telemetry_hz,
            control_hz=None,
            rate_band_fraction=band,
            latency_warn_ms=latency,
            rtt_warn_ms=rtt,
            stale_after_s=stale,
        )
        self.heard: dict[str, _Heard] = {}
        self.findings: list[Finding] = []
        self.estop_active = False
        self.estop_events: list[tuple[float, bool]] = []  # (wall time [s], active)
        self._warned: set[tuple[str, str]] = set()

        self._estop_pub = self.create_publisher(Bool, "/fleet/estop_active", latched_qos())
        self._estop_pub.publish(Bool(data=False))
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", diagnostics_qos())
        self.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, diagnostics_qos())
        self.create_service(Trigger, "/fleet/estop", self._on_estop)
        self.create_service(Trigger, "/fleet/clear_estop", self._on_clear)
        self.create_timer(1.0 / rate, self._on_timer)

    def set_estop(self, active: bool, now_s: float | None = None) -> None:
        """Latch or clear the fleet e-stop (also what the services call)."""
        self.estop_active = active
        self._estop_pub.publish(Bool(data=active))
        self.estop_events.append((now_s if now_s is not None else time.time(), active))
        if active:
            self.get_logger().warning("fleet e-stop ACTIVE: every bridge stops its wheels")
        else:
            self.get_logger().warning("fleet e-stop cleared")

    def _on_estop(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        self.set_estop(True)
        response.success = True
        response.message = f"e-stop sent to {len(self.robot_ids)} robots"
        return response

    def _on_clear(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        self.set_estop(False)
        response.success = True
        response.message = f"e-stop cleared for {len(self.robot_ids)} robots"
        return response

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        now = time.monotonic()
        for st in msg.status:
            if st.name.startswith("fleet_supervisor"):
                continue
            self.heard[st.name] = _Heard(level_name(st), values_of(st), st.hardware_id, now)

    def assess(self, now_s: float) -> list[Finding]:
        findings: list[Finding] = []
        for name, heard in self.heard.items():
            findings += assess_status(name, heard.level, heard.values, now_s - heard.stamp_s, self.nominal)  # type: ignore[arg-type]
        return findings

    def _on_timer(self) -> None:
        self.findings = self.assess(time.monotonic())
        for finding in self.findings:
            key = (finding.source, finding.message.split(" ")[0])
            if key not in self._warned:  # log each kind of problem once per source, diagnostics keep it live
                self._warned.add(key)
                text = f"{finding.source}: {finding.message}"
                if finding.level == "ERROR":
                    self.get_logger().error(text)
                else:
                    self.get_logger().warning(text)
        level = worst([f.level for f in self.findings])
        acked = sum(1 for h in self.heard.values() if h.values.get("estop") == "True")
        values = {
            "sources": len(self.heard),
            "findings": len(self.findings),
            "estop_active": self.estop_active,
            "estop_acknowledged": acked,
        }
        for i, finding in enumerate(self.findings[:20]):
            values[f"finding_{i}"] = f"{finding.level} {finding.source}: {finding.message}"
        summary = "ok" if not self.findings else f"{len(self.findings)} findings"
        publish_status(self, self._diag_pub, "fleet_supervisor", "fleet", level, summary, values)


def main(args: list[str] | None = None) -> None:
    spin_node(FleetSupervisorNode, args)
