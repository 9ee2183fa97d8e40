"""Inventory -> node graph, shared by ``launch/fleet.launch.py``, ``robocoord fleet up`` and the tests.

:func:`build_graph` returns plain :class:`NodeSpec` records (executable, name, namespace,
parameter files, parameters). The launch file turns each into a ``launch_ros`` action;
:func:`instantiate` turns the same record into the node object in this process, passing
the parameter files through ``--ros-args --params-file`` exactly as ``ros2 launch`` does and
the parameters as overrides (later wins, as in launch). No rclpy import at module level:
the launch file imports this module.

Topic layout (per robot namespace ``robot_<id>``): ``cmd_vel`` (Twist, reliable), ``odom``,
``imu``, ``battery`` (best effort, depth 1, deadline), ``task_state`` (UInt8), services
``estop`` / ``clear_estop`` (std_srvs/Trigger). Fleet-wide: ``/diagnostics``,
``/fleet/estop`` and ``/fleet/clear_estop`` (Trigger, on the supervisor), ``/fleet/estop_active``
(Bool, latched) which every bridge follows.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from robocoord_ros.inventory import AUTO_PORT, Backend, FleetInventory

PACKAGE = "robocoord_ros"
# executable -> node class. setup.py's console_scripts point at each module's main().
EXECUTABLES: dict[str, str] = {
    "serial_bridge": "robocoord_ros.nodes.serial_bridge:SerialBridgeNode",
    "policy_controller": "robocoord_ros.nodes.policy_controller:PolicyControllerNode",
    "fleet_supervisor": "robocoord_ros.nodes.fleet_supervisor:FleetSupervisorNode",
    "sim_world": "robocoord_ros.nodes.sim_world:SimWorldNode",
    "fleet_recorder": "robocoord_ros.nodes.fleet_recorder:FleetRecorderNode",
    "mocap_bridge": "robocoord_ros.nodes.mocap_bridge:MocapBridgeNode",
}
LIFECYCLE_EXECUTABLES = frozenset({"serial_bridge"})


def launch_dir() -> Path:
    """The folder holding fleet.launch.py, inventories/ and params/ (source tree or colcon share)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "launch", here.parents[3] / "launch"):
        if (candidate / "fleet.launch.py").is_file():
            return candidate
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory(PACKAGE)) / "launch"
    except (ImportError, LookupError) as err:
        raise FileNotFoundError("robocoord_ros launch folder not found") from err


def default_params_file() -> Path:
    return launch_dir() / "params" / "fleet_defaults.yaml"


@dataclass(frozen=True)
class NodeSpec:
    executable: str
    name: str
    namespace: str
    parameters: dict[str, Any]
    param_files: tuple[Path, ...] = ()
    package: str = PACKAGE

    @property
    def fully_qualified_name(self) -> str:
        return f"/{self.namespace}/{self.name}" if self.namespace else f"/{self.name}"

    @property
    def lifecycle(self) -> bool:
        return self.executable in LIFECYCLE_EXECUTABLES


@dataclass(frozen=True)
class FleetGraph:
    backend: Backend
    nodes: list[NodeSpec]
    recording: Path | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def by_executable(self, executable: str) -> list[NodeSpec]:
        return [n for n in self.nodes if n.executable == executable]


def build_graph(
    inventory: FleetInventory,
    backend: Backend | None = None,
    *,
    ports: Mapping[int, str] | None = None,
    artifact: Path | str | None = None,
    recording: Path | str | None = None,
    params_file: Path | None = None,
    mocap_port: int | None = None,
) -> FleetGraph:
    """The nodes of ``inventory`` on ``backend`` (default: the inventory's).

    ``ports`` gives the serial port of each robot whose inventory port is ``auto`` (hil:
    the virtual MCU's ptys). ``artifact`` overrides the inventory's policy; without any
    artifact no policy controllers are started (the fleet then only listens to ``cmd_vel``).
    ``recording`` is the MCAP file of the recorder node; None leaves the recorder out.
    ``mocap_port`` is the UDP port of the mocap stream when the inventory's is 0 (hil: chosen at
    bring-up, where the virtual MCU streams the plant's poses).
    """
    if backend is not None:
        inventory = inventory.with_backend(backend)
    files = (params_file or default_params_file(),)
    ports = dict(ports or {})
    policy_path = Path(artifact) if artifact is not None else inventory.policy.artifact
    ids = inventory.robot_ids()
    nodes: list[NodeSpec] = []

    sim_robots = [r for r in inventory.robots if inventory.backend_of(r) == "sim"]
    if sim_robots:
        nodes.append(
            NodeSpec(
                "sim_world",
                "sim_world",
                "",
                {
                    "robot_ids": [r.id for r in sim_robots],
                    "home_x_m": [float(r.home.x_m) for r in sim_robots],
                    "home_y_m": [float(r.home.y_m) for r in sim_robots],
                    "home_yaw_rad": [float(r.home.yaw_rad) for r in sim_robots],
                    "telemetry_rate_hz": float(inventory.rates.telemetry_hz),
                    "telemetry_deadline_ms": float(inventory.link.telemetry_deadline_ms),
                    "max_wheel_speed_rad_s": float(inventory.limits.max_wheel_speed_rad_s),
                    "seed": int(inventory.seed),
                    "body": inventory.plant_body,
                    "arena": inventory.arena(),
                    "arena_params_json": json.dumps(inventory.arena_params()),
                },
                files,
            )
        )
    for robot in inventory.robots:
        if inventory.backend_of(robot) == "sim":
            continue
        port = robot.port
        if port == AUTO_PORT:
            if robot.id not in ports:
                raise ValueError(
                    f"robot {robot.id}: port is 'auto' and no port was assigned (start the virtual MCUs)"
                )
            port = ports[robot.id]
        nodes.append(
            NodeSpec(
                "serial_bridge",
                "serial_bridge",
                robot.namespace,
                {
                    "port": port,
                    "robot_id": robot.id,
                    "home_x_m": float(robot.home.x_m),
                    "home_y_m": float(robot.home.y_m),
                    "home_yaw_rad": float(robot.home.yaw_rad),
                    "baud": int(inventory.link.baud),
                    "watchdog_ms": int(inventory.link.watchdog_ms),
                    "heartbeat_hz": float(inventory.link.heartbeat_hz),
                    "telemetry_rate_hz": float(inventory.rates.telemetry_hz),
                    "telemetry_deadline_ms": float(inventory.link.telemetry_deadline_ms),
                    "link_lost_ms": float(inventory.link.link_lost_ms),
                    "max_wheel_speed_rad_s": float(inventory.limits.max_wheel_speed_rad_s),
                    "max_wheel_accel_rad_s2": float(inventory.limits.max_wheel_accel_rad_s2),
                    "diagnostics_rate_hz": float(inventory.rates.diagnostics_hz),
                },
                files,
            )
        )
    mocap_robots = [r.id for r in inventory.robots if inventory.uses_mocap(r)]
    if mocap_robots:
        loc = inventory.localisation
        port_in_use = loc.mocap_port or mocap_port
        if not port_in_use:
            raise ValueError("localisation.mocap_port is 0 and no port was assigned (start the virtual MCUs)")
        nodes.append(
            NodeSpec(
                "mocap_bridge",
                "mocap_bridge",
                "",
                {
                    "listen_address": loc.mocap_listen,
                    "listen_port": int(port_in_use),
                    "robot_ids": mocap_robots,
                    "rate_hz": float(loc.mocap_rate_hz),
                    "objects": ",".join(f"{name}:{body}" for name, body in loc.objects.items()),
                    "telemetry_deadline_ms": float(inventory.link.telemetry_deadline_ms),
                    "diagnostics_rate_hz": float(inventory.rates.diagnostics_hz),
                },
                files,
            )
        )
    if policy_path is not None:
        latent = inventory.latent_positions()
        wh = inventory.policy.warehouse
        tp = inventory.policy.team_push
        for robot in inventory.robots:
            station = inventory.work_station_of(robot)
            nodes.append(
                NodeSpec(
                    "policy_controller",
                    "policy_controller",
                    robot.namespace,
                    {
                        "artifact_path": str(policy_path),
                        "robot_id": robot.id,
                        "fleet_robot_ids": ids,
                        "fleet_latent_flat": [float(v) for row in latent for v in row],
                        "latent_dim": len(latent[0]),
                        "task": inventory.policy.task,
                        "home_x_m": float(robot.home.x_m),
                        "home_y_m": float(robot.home.y_m),
                        "work_x_m": float(station.x_m),
                        "work_y_m": float(station.y_m),
                        "home_radius_m": float(wh.home_radius_m),
                        "work_radius_m": float(wh.work_radius_m),
                        "goto_rate_hz": float(wh.goto_rate_hz),
                        "cruise_speed_m_s": float(wh.cruise_speed_m_s),
                        "max_linear_m_s": float(inventory.limits.max_linear_m_s),
                        "max_angular_rad_s": float(inventory.limits.max_angular_rad_s),
                        "telemetry_deadline_ms": float(inventory.link.telemetry_deadline_ms),
                        "diagnostics_rate_hz": float(inventory.rates.diagnostics_hz),
                        "seed": int(inventory.seed),
                        "pose_source": "pose_topic" if inventory.uses_pose_topic(robot) else "odom",
                        "safe_nav_grid_cells": int(inventory.policy.safe_nav.grid_cells),
                        "safe_nav_cell_size_m": float(inventory.policy.safe_nav.cell_size_m),
                        "team_push_goal_distance_m": float(tp.goal_distance_m),
                        "team_push_goal_tolerance_m": float(tp.goal_tolerance_m),
                        "team_push_box_size_m": float(tp.box_size_m),
                    },
                    files,
                )
            )
    nodes.append(
        NodeSpec(
            "fleet_supervisor",
            "fleet_supervisor",
            "",
            {
                "robot_ids": ids,
                "telemetry_rate_hz": float(inventory.rates.telemetry_hz),
                "rate_band_fraction": float(inventory.rates.rate_band_fraction),
                "latency_warn_ms": float(inventory.rates.latency_warn_ms),
                "rtt_warn_ms": float(inventory.rates.rtt_warn_ms),
                "diagnostics_rate_hz": float(inventory.rates.diagnostics_hz),
            },
            files,
        )
    )
    record_path = Path(recording) if recording is not None else None
    if record_path is not None:
        nodes.append(
            NodeSpec(
                "fleet_recorder",
                "fleet_recorder",
                "",
                {"output_path": str(record_path), "robot_ids": ids},
                files,
            )
        )
    return FleetGraph(backend=inventory.backend, nodes=nodes, recording=record_path)


def ros_params_document(graph: FleetGraph) -> dict[str, Any]:
    """The graph's per-node parameters in ROS form (``/ns/node: {ros__parameters: {...}}``)."""
    return {spec.fully_qualified_name: {"ros__parameters": dict(spec.parameters)} for spec in graph.nodes}


def write_ros_params(graph: FleetGraph, path: Path | str) -> Path:
    """Write :func:`ros_params_document` as YAML, usable with ``ros2 run … --ros-args --params-file``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(ros_params_document(graph), sort_keys=False))
    return path


def node_class(executable: str) -> type:
    target = EXECUTABLES[executable]
    module_name, _, class_name = target.partition(":")
    cls: type = getattr(importlib.import_module(module_name), class_name)
    return cls


def instantiate(spec: NodeSpec, context: Any, extra_cli_args: Sequence[str] = ()) -> Any:
    """Create ``spec``'s node in this process, with ``context`` (an rclpy Context)."""
    from rclpy.parameter import Parameter

    cli_args = ["--ros-args"]
    for param_file in spec.param_files:
        cli_args += ["--params-file", str(param_file)]
    cli_args += list(extra_cli_args)
    overrides = [Parameter(name, value=value) for name, value in spec.parameters.items()]
    cls = node_class(spec.executable)
    return cls(
        node_name=spec.name,
        namespace=spec.namespace,
        context=context,
        cli_args=cli_args,
        parameter_overrides=overrides,
    )
