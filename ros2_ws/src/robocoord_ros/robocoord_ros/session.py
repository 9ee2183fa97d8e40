"""A fleet brought up in this process, watched and summarised: what ``robocoord fleet up`` and the
demo run. Adds to :class:`robocoord_ros.fleet.FleetRuntime` a monitor node (task states, decisions,
diagnostics, e-stop) and per-robot summaries (reward, link statistics, e-stop events).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robocoord_ros.fleet import FleetRuntime, PreparedFleet, prepare_fleet
from robocoord_ros.inventory import FleetInventory
from robocoord_ros.scoring import WarehouseScorer, blocks_from_stations


@dataclass
class FleetSession:
    prepared: PreparedFleet
    runtime: FleetRuntime
    scorer: WarehouseScorer
    started_s: float
    monitor: Any = None
    diagnostics: dict[str, tuple[str, str, dict[str, str]]] = field(default_factory=dict)
    # safe_nav robots: the newest [discounted cost per constraint..., budgets...] of each (topic ``safety``)
    safety: dict[int, list[float]] = field(default_factory=dict)
    safety_messages: dict[int, int] = field(default_factory=dict)  # one per decision
    # team_push robots: the newest [decisions, box-to-goal [m], done, reached, decisions to goal or -1]
    team_push: dict[int, list[float]] = field(default_factory=dict)
    team_push_done: threading.Event = field(default_factory=threading.Event)  # every robot's episode over
    estop_events: list[tuple[float, bool]] = field(default_factory=list)
    _closed: bool = False

    @classmethod
    def open(
        cls,
        inventory: FleetInventory,
        *,
        backend: str | None = None,
        artifact: Path | str | None = None,
        record: Path | str | bool | None = None,
    ) -> FleetSession:
        prepared = prepare_fleet(inventory, backend=backend, artifact=artifact, record=record)
        inv = prepared.inventory
        stations = {r.id: (inv.work_station_of(r).x_m, inv.work_station_of(r).y_m) for r in inv.robots}
        scorer = WarehouseScorer(blocks_from_stations(stations), inv.policy.warehouse.congestion_penalty_L)
        runtime = FleetRuntime(prepared.graph)
        try:
            runtime.start()
        except BaseException:
            prepared.stop_mcus()
            raise
        session = cls(prepared, runtime, scorer, time.monotonic())
        session._attach_monitor()
        return session

    def _attach_monitor(self) -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from std_msgs.msg import Bool, Float64MultiArray, UInt8, UInt8MultiArray

        from robocoord_ros.rosutil import diagnostics_qos, event_qos, latched_qos, level_name, values_of

        node = rclpy.create_node("fleet_monitor", context=self.runtime.context)
        # per-episode figures of the rcmdp and drigm robots (topic in each robot's namespace, handler)
        episode_topics = {
            "safe_nav": ("safety", self._on_safety),
            "team_push": ("team_push", self._on_team_push),
        }
        if self.prepared.inventory.policy.task in episode_topics:
            topic, handler = episode_topics[self.prepared.inventory.policy.task]
            for rid in self.prepared.inventory.robot_ids():
                node.create_subscription(
                    Float64MultiArray,
                    f"/robot_{rid}/{topic}",
                    lambda m, r=rid, h=handler: h(r, list(m.data)),
                    event_qos(),
                )
        for rid in (
            self.prepared.inventory.robot_ids() if self.prepared.inventory.policy.task == "warehouse" else ()
        ):
            node.create_subscription(
                UInt8,
                f"/robot_{rid}/task_state",
                lambda m, r=rid: self.scorer.on_state(r, int(m.data)),
                event_qos(),
            )
            node.create_subscription(
                UInt8MultiArray,
                f"/robot_{rid}/policy_decision",
                lambda m, r=rid: self.scorer.on_decision(
                    r, int(m.data[1]), time.monotonic() - self.started_s, state=int(m.data[0])
                ),
                event_qos(),
            )

        def on_diag(msg: DiagnosticArray) -> None:
            for st in msg.status:
                self.diagnostics[st.name] = (level_name(st), st.message, values_of(st))

        def on_estop(msg: Bool) -> None:
            self.estop_events.append((time.monotonic() - self.started_s, bool(msg.data)))

        node.create_subscription(DiagnosticArray, "/diagnostics", on_diag, diagnostics_qos())
        node.create_subscription(Bool, "/fleet/estop_active", on_estop, latched_qos())
        self.monitor = node
        self.runtime.executor.add_node(node)

    def _on_safety(self, robot_id: int, values: list[float]) -> None:
        self.safety[robot_id] = values
        self.safety_messages[robot_id] = self.safety_messages.get(robot_id, 0) + 1

    def _on_team_push(self, robot_id: int, values: list[float]) -> None:
        self.team_push[robot_id] = values
        ids = self.prepared.inventory.robot_ids()
        if all(rid in self.team_push and self.team_push[rid][2] > 0 for rid in ids):
            self.team_push_done.set()

    # ------------------------------------------------------------------ running
    def run(self, seconds: float | None, live: bool = True, until: threading.Event | None = None) -> None:
        """Run for ``seconds`` (None: until Ctrl-C) or until ``until`` is set, with a live status table on
        stderr when ``live``."""
        stop = until or threading.Event()
        deadline = None if seconds is None else time.monotonic() + seconds
        if not live:
            try:
                while (deadline is None or time.monotonic() < deadline) and not stop.is_set():
                    self.runtime.check()
                    stop.wait(0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic())))
            except KeyboardInterrupt:
                pass
            return
        from rich.console import Console
        from rich.live import Live

        console = Console(stderr=True)
        try:
            with Live(self.table(), console=console, refresh_per_second=2) as view:
                while (deadline is None or time.monotonic() < deadline) and not stop.is_set():
                    self.runtime.check()
                    stop.wait(0.5 if deadline is None else max(0.0, min(0.5, deadline - time.monotonic())))
                    view.update(self.table())
        except KeyboardInterrupt:
            pass

    def table(self) -> Any:
        from rich.table import Table

        table = Table(title=f"fleet {self.prepared.inventory.name} ({self.prepared.graph.backend})")
        for column in (
            "robot",
            "link",
            "telemetry Hz",
            "RTT ms",
            "state",
            "decisions",
            "reward/decision",
            "policy",
        ):
            table.add_column(column)
        for rid in self.prepared.inventory.robot_ids():
            bridge = self.diagnostics.get(f"robot_{rid}/serial_bridge", ("-", "", {}))[2]
            policy = self.diagnostics.get(f"robot_{rid}/policy_controller", ("-", "", {}))
            score = self.scorer.scores.get(rid)
            table.add_row(
                str(rid),
                bridge.get("link_state", "sim" if self.prepared.graph.backend == "sim" else "-"),
                bridge.get("telemetry_rate_hz", "-"),
                bridge.get("rtt_ms", "-"),
                policy[2].get("task_state", "-"),
                str(score.decisions if score else 0),
                f"{score.mean_reward:.2f}" if score else "-",
                f"{policy[0]} {policy[1]}",
            )
        return table

    # ------------------------------------------------------------------ summary
    def robot_summaries(self) -> list[dict[str, Any]]:
        out = []
        bridges = (
            {b.robot_id: b for b in self.runtime.nodes_of("serial_bridge")} if self.runtime.nodes else {}
        )
        for rid in self.prepared.inventory.robot_ids():
            score = self.scorer.scores.get(rid)
            entry: dict[str, Any] = {
                "robot": rid,
                "backend": self.prepared.inventory.backend_of(
                    next(r for r in self.prepared.inventory.robots if r.id == rid)
                ),
                "decisions": score.decisions if score else 0,
                "reward_sum": score.reward_sum if score else 0.0,
                "reward_per_decision": score.mean_reward if score else None,
                "estop_events": [{"t_s": round(t, 3), "active": a} for t, a in self.estop_events],
            }
            if rid in self.safety:  # safe_nav: discounted constraint costs against their budgets
                values = self.safety[rid]
                k = len(values) // 2
                entry["discounted_cost"], entry["budgets"] = values[:k], values[k:]
                entry["within_budget"] = all(c <= b for c, b in zip(values[:k], values[k:], strict=True))
                entry["decisions"] = self.safety_messages.get(rid, 0)
            if rid in self.team_push:  # team_push: this robot's episode as it saw it
                decisions, distance, done, reached, to_goal = self.team_push[rid]
                entry["decisions"] = int(decisions)
                entry["box_to_goal_m"] = distance
                entry["episode_done"], entry["reached_goal"] = bool(done), bool(reached)
                entry["decisions_to_goal"] = int(to_goal) if to_goal >= 0 else None
            bridge = bridges.get(rid)
            if bridge is not None and bridge.link is not None:
                stats = bridge.link.stats().as_dict()
                stats.pop("firmware", None)
                entry["link"] = stats
                entry["commands_ignored_estop"] = bridge.commands_ignored_estop
            elif bridge is not None:
                entry["link"] = None
            out.append(entry)
        return out

    def close(self) -> dict[str, Any]:
        """Stop everything; returns ``{"fleet": …, "robots": [per-robot summary]}``."""
        if self._closed:
            return {}
        robots = self.robot_summaries()
        elapsed = time.monotonic() - self.started_s
        try:
            if self.monitor is not None and self.runtime.executor is not None:
                self.runtime.executor.remove_node(self.monitor)
                self.monitor.destroy_node()
            self.runtime.stop()
        finally:
            self.prepared.stop_mcus()
            self._closed = True
        self.runtime.check()
        return {
            "fleet": {
                "name": self.prepared.inventory.name,
                "backend": self.prepared.graph.backend,
                "seconds": round(elapsed, 2),
                "reward_per_decision": self.scorer.mean_reward_per_decision(),
                "recording": str(self.prepared.graph.recording) if self.prepared.graph.recording else None,
            },
            "robots": robots,
        }
