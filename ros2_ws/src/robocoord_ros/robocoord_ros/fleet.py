"""Bring a fleet up: inventory -> (virtual MCUs in hil) -> node graph -> nodes on an rclpy executor.

:func:`prepare_fleet` is what ``launch/fleet.launch.py`` calls; :class:`FleetRuntime` runs the
same graph in this process (``robocoord fleet up``, the tests, the benchmark, the demo).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robocoord_ros.graph import FleetGraph, build_graph, instantiate
from robocoord_ros.inventory import AUTO_PORT, Backend, FleetInventory, load_inventory


@dataclass
class PreparedFleet:
    inventory: FleetInventory
    graph: FleetGraph
    mcus: Any = None  # the virtual MCU process handle in hil (has .ports, .stop())
    extras: dict[str, Any] = field(default_factory=dict)

    def stop_mcus(self) -> None:
        if self.mcus is not None:
            self.mcus.stop()
            self.mcus = None


def default_recording_path(inventory: FleetInventory) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return inventory.recording.directory / f"{stamp}-{inventory.name}.mcap"


def start_virtual_mcus(
    inventory: FleetInventory, *, telemetry_hz: float | None = None, mocap_port: int | None = None
) -> Any:
    """Start the virtual MCUs (reference firmware on ptys around one plant) for the hil robots;
    with ``mocap_port`` they stream the plant's poses to the inventory's mocap address there."""
    from robocoord_ros.hil import spawn_virtual_mcus

    robots = [r for r in inventory.robots if inventory.backend_of(r) == "hil" and r.port == AUTO_PORT]
    return spawn_virtual_mcus(
        robot_ids=[r.id for r in robots],
        homes=[(r.home.x_m, r.home.y_m, r.home.yaw_rad) for r in robots],
        plant=inventory.plant,
        body=inventory.plant_body,
        telemetry_hz=telemetry_hz or inventory.rates.telemetry_hz,
        seed=inventory.seed,
        mocap_udp=None if mocap_port is None else f"{inventory.localisation.mocap_listen}:{mocap_port}",
        mocap_hz=inventory.localisation.mocap_rate_hz,
        mocap_objects=dict(inventory.localisation.objects) if mocap_port is not None else None,
        arena=inventory.arena(),
        arena_params=inventory.arena_params(),
    )


def free_udp_port(address: str) -> int:
    """A UDP port free on ``address`` right now (the OS picks it; mocap_bridge binds it moments later)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((address, 0))
        port: int = probe.getsockname()[1]
    return port


def prepare_fleet(
    inventory: FleetInventory | Path | str,
    *,
    backend: Backend | str | None = None,
    artifact: Path | str | None = None,
    record: Path | str | bool | None = None,
) -> PreparedFleet:
    """Load the inventory, start the virtual MCUs when hil needs them, build the node graph.

    ``record``: a path, True (default path), False (off) or None (the inventory decides: on in hil).
    """
    inv = inventory if isinstance(inventory, FleetInventory) else load_inventory(inventory)
    if backend:
        inv = inv.with_backend(backend)  # type: ignore[arg-type]
    recording: Path | None
    if record is None:
        recording = default_recording_path(inv) if inv.recording_on() else None
    elif record is True:
        recording = default_recording_path(inv)
    elif record is False:
        recording = None
    else:
        recording = Path(record)
    mcus = None
    needs_mcus = any(inv.backend_of(r) == "hil" and r.port == AUTO_PORT for r in inv.robots)
    mocap_port: int | None = None
    if needs_mcus and any(inv.uses_mocap(r) for r in inv.robots):
        mocap_port = inv.localisation.mocap_port or free_udp_port(inv.localisation.mocap_listen)
    if needs_mcus:
        mcus = start_virtual_mcus(inv, mocap_port=mocap_port)
    try:
        graph = build_graph(
            inv,
            ports=mcus.ports if mcus is not None else None,
            artifact=artifact,
            recording=recording,
            mocap_port=mocap_port,
        )
    except Exception:
        if mcus is not None:
            mcus.stop()
        raise
    return PreparedFleet(inventory=inv, graph=graph, mcus=mcus)


class FleetRuntime:
    """All nodes of a graph in one rclpy context, spun by one executor on a background thread."""

    def __init__(self, graph: FleetGraph, *, domain_id: int | None = None, executor: str = "events"):
        if executor not in ("events", "single_threaded"):
            raise ValueError(f"executor: expected 'events' or 'single_threaded', found {executor!r}")
        self.graph = graph
        self.domain_id = domain_id
        self.executor_kind = executor
        self.context: Any = None
        self.executor: Any = None
        self.nodes: dict[str, Any] = {}
        self._thread: threading.Thread | None = None
        self.errors: list[BaseException] = []  # exceptions raised by callbacks on the executor thread

    def start(self) -> FleetRuntime:
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor

        self.context = Context()
        if self.domain_id is not None:
            rclpy.init(context=self.context, domain_id=self.domain_id)
        else:
            rclpy.init(context=self.context)
        try:
            for spec in self.graph.nodes:
                self.nodes[spec.fully_qualified_name] = instantiate(spec, self.context)
            for spec in self.graph.nodes:
                if spec.lifecycle:
                    self._activate(spec.fully_qualified_name)
        except BaseException:
            self.stop()
            raise
        if self.executor_kind == "events":
            # rclpy's C++ events executor: no wait-set rebuild per callback, several times less CPU
            # per message than the single-threaded executor with dozens of nodes and subscriptions
            from rclpy.experimental import EventsExecutor

            self.executor = EventsExecutor(context=self.context)
        else:
            self.executor = SingleThreadedExecutor(context=self.context)
        for node in self.nodes.values():
            self.executor.add_node(node)
        self._thread = threading.Thread(target=self._spin, name="fleet-executor", daemon=True)
        self._thread.start()
        return self

    def _activate(self, name: str) -> None:
        from rclpy.lifecycle import TransitionCallbackReturn

        node = self.nodes[name]
        result = node.trigger_configure()
        if result != TransitionCallbackReturn.SUCCESS:
            raise RuntimeError(f"{name}: configure failed ({result})")
        result = node.trigger_activate()
        if result != TransitionCallbackReturn.SUCCESS:
            raise RuntimeError(f"{name}: activate failed ({result})")

    def _spin(self) -> None:
        from rclpy.executors import ExternalShutdownException

        try:
            while self.context is not None and self.context.ok():
                self.executor.spin_once(timeout_sec=0.05)
        except ExternalShutdownException:
            pass
        except BaseException as err:  # a node callback raised: keep it for check(), stop spinning
            self.errors.append(err)
            raise

    def check(self) -> None:
        """Raise the first exception a node callback raised on the executor thread, if any."""
        if self.errors:
            raise RuntimeError(f"a node callback raised: {self.errors[0]!r}") from self.errors[0]

    def node(self, fully_qualified_name: str) -> Any:
        return self.nodes[fully_qualified_name]

    def nodes_of(self, executable: str) -> list[Any]:
        return [self.nodes[s.fully_qualified_name] for s in self.graph.by_executable(executable)]

    def stop(self) -> None:
        import rclpy

        context, self.context = self.context, None
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        if self.executor is not None:
            self.executor.shutdown(timeout_sec=1.0)
            self.executor = None
        for node in self.nodes.values():
            node.destroy_node()
        self.nodes = {}
        if context is not None:
            rclpy.try_shutdown(context=context)

    def __enter__(self) -> FleetRuntime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
