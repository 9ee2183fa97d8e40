"""sim_world: the ``backend:=sim`` stand-in for the virtual MCUs and bridges — one PyBullet world that
publishes the same per-robot topics directly, with no serial link.

The one robocoord_ros node that needs the ``sim`` extra (pybullet): ``robocoord.sim`` is imported
inside the constructor, never at module level.

Per robot (namespace ``robot_<id>``): subscribes ``cmd_vel`` (reliable); publishes ``odom`` (the
plant's pose, world frame — the sim has no encoder drift), ``imu`` and ``battery`` (nominal pack),
best effort with the bridge's deadline. The arena's movable bodies (team_push's box) go out as
``/objects/<name>/pose`` (PoseStamped, world frame), as ``mocap_bridge`` publishes them in hil. Follows ``/fleet/estop_active`` like a bridge, and applies the
firmware's rules in Python: wheel limit, and zero wheels after ``watchdog_ms`` without a command.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, Twist
from nav_msgs.msg import Odometry
from rclpy.node import Node
from sensor_msgs.msg import BatteryState, Imu
from std_msgs.msg import Bool

from robocoord.sim.worlds import ARENAS  # names only: pybullet is imported when a world is built
from robocoord_ros.odometry import wheels_for_twist
from robocoord_ros.rosutil import (
    command_qos,
    declare,
    diagnostics_qos,
    latched_qos,
    publish_status,
    spin_node,
    telemetry_qos,
)
from robocoord_ros.timing import RateMeter

NOMINAL_BATTERY_V = 7.4


class SimWorldNode(Node):
    def __init__(self, node_name: str = "sim_world", **kwargs):
        super().__init__(node_name, **kwargs)
        ids = declare(self, "robot_ids", [0], "robots in the world", kind=list)
        xs = declare(self, "home_x_m", [0.0], "home x per robot, world frame [m]", kind=list)
        ys = declare(self, "home_y_m", [0.0], "home y per robot, world frame [m]", kind=list)
        yaws = declare(self, "home_yaw_rad", [0.0], "home yaw per robot, world frame [rad]", kind=list)
        rate = declare(
            self, "telemetry_rate_hz", 50.0, "publishing (and stepping) rate [Hz]", low=1.0, high=1000.0
        )
        deadline_ms = declare(self, "telemetry_deadline_ms", 50.0, "QoS deadline of telemetry [ms]", low=1.0)
        self.max_wheel = declare(
            self, "max_wheel_speed_rad_s", 20.0, "wheel limit [rad/s]", low=0.1, high=200.0
        )
        physics_hz = declare(self, "physics_hz", 240.0, "physics rate [Hz]", low=10.0, high=2000.0)
        body = declare(self, "body", "disc", "robot body model of the plant", choices=["disc", "wheeled"])
        self.watchdog_s = 1e-3 * declare(
            self, "watchdog_ms", 200, "zero wheels without commands [ms]", low=20
        )
        self.seed = declare(self, "seed", 0, "plant seed", low=0)
        arena = declare(self, "arena", "open", "static task world", choices=list(ARENAS))
        arena_params = declare(self, "arena_params_json", "{}", "the arena's task parameters (JSON)")
        if not (len(ids) == len(xs) == len(ys) == len(yaws)):
            raise ValueError("robot_ids, home_x_m, home_y_m and home_yaw_rad must have the same length")

        from robocoord.sim.plant import DiffDriveGeometry  # noqa: I001 - sim extra, imported lazily
        from robocoord.sim.pybullet_plant import PyBulletPlant

        self.geometry = DiffDriveGeometry()
        substeps = max(1, round(physics_hz / rate))
        self.step_s = substeps / physics_hz
        self.plant = PyBulletPlant(
            np.column_stack([xs, ys, yaws]).astype(float),
            body=body,
            geometry=self.geometry,
            physics_hz=physics_hz,
        )
        from robocoord.sim.worlds import ARENA_OBJECTS, add_arena, object_pose_world

        bodies = add_arena(self.plant.client, arena, json.loads(arena_params))
        self._object_pose = object_pose_world
        self._objects = dict(zip(ARENA_OBJECTS[arena], bodies, strict=False))
        self.plant.reset(self.seed)
        self.ids = [int(i) for i in ids]
        self.index = {rid: k for k, rid in enumerate(self.ids)}
        self.wheels = np.zeros((len(self.ids), 2))
        self.last_cmd_s = np.full(len(self.ids), -math.inf)
        self.estop = False
        self.rate = RateMeter()
        qos = telemetry_qos(deadline_ms)
        self._odom = {r: self.create_publisher(Odometry, f"/robot_{r}/odom", qos) for r in self.ids}
        self._imu = {r: self.create_publisher(Imu, f"/robot_{r}/imu", qos) for r in self.ids}
        self._battery = {r: self.create_publisher(BatteryState, f"/robot_{r}/battery", qos) for r in self.ids}
        self._object_pubs = {
            name: self.create_publisher(PoseStamped, f"/objects/{name}/pose", qos) for name in self._objects
        }
        self._object_msg = PoseStamped()
        self._object_msg.header.frame_id = "world"
        for r in self.ids:
            self.create_subscription(
                Twist, f"/robot_{r}/cmd_vel", lambda m, r=r: self._on_cmd(r, m), command_qos()
            )
        self.create_subscription(Bool, "/fleet/estop_active", self._on_estop, latched_qos())
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", diagnostics_qos())
        self.create_timer(self.step_s, self._on_step)
        self.create_timer(0.5, self._publish_diagnostics)
        self._last_battery_s = -math.inf

    def _on_cmd(self, robot_id: int, msg: Twist) -> None:
        k = self.index[robot_id]
        if self.estop:
            return
        left, right, _ = wheels_for_twist(
            msg.linear.x,
            msg.angular.z,
            self.geometry.wheel_radius_m,
            self.geometry.track_width_m,
            self.max_wheel,
        )
        self.wheels[k] = (left, right)
        self.last_cmd_s[k] = time.monotonic()

    def _on_estop(self, msg: Bool) -> None:
        self.estop = bool(msg.data)
        if self.estop:
            self.wheels[:] = 0.0

    def _on_step(self) -> None:
        now = time.monotonic()
        self.wheels[now - self.last_cmd_s > self.watchdog_s] = 0.0  # the firmware watchdog's rule
        for k in self.index.values():
            self.plant.apply(k, self.wheels[k])  # plant ids are 0..n-1 in roster order
        self.plant.step(self.step_s)
        self.rate.add(now)
        stamp = self.get_clock().now().to_msg()
        for name, body in self._objects.items():
            x, y, yaw = self._object_pose(self.plant.client, body)
            msg = self._object_msg
            msg.header.stamp = stamp
            msg.pose.position.x, msg.pose.position.y = x, y
            msg.pose.orientation.z, msg.pose.orientation.w = math.sin(0.5 * yaw), math.cos(0.5 * yaw)
            self._object_pubs[name].publish(msg)
        battery_due = now - self._last_battery_s >= 1.0
        if battery_due:
            self._last_battery_s = now
        for rid, k in self.index.items():
            reading = self.plant.read(k)
            x, y, yaw = (float(v) for v in reading.pose_world)
            odom = Odometry()
            odom.header.stamp = stamp
            odom.header.frame_id = "odom"
            odom.child_frame_id = "base_link"
            odom.pose.pose.position.x = x
            odom.pose.pose.position.y = y
            odom.pose.pose.orientation.z = math.sin(0.5 * yaw)
            odom.pose.pose.orientation.w = math.cos(0.5 * yaw)
            left, right = (float(w) for w in reading.wheel_speed_rad_s)
            r = self.geometry.wheel_radius_m
            odom.twist.twist.linear.x = 0.5 * r * (left + right)
            odom.twist.twist.angular.z = r * (right - left) / self.geometry.track_width_m
            self._odom[rid].publish(odom)
            imu = Imu()
            imu.header.stamp = stamp
            imu.header.frame_id = "base_link"
            imu.orientation_covariance[0] = -1.0
            imu.angular_velocity.z = float(reading.yaw_rate_rad_s)
            imu.linear_acceleration.x = float(reading.accel_body_m_s2[0])
            imu.linear_acceleration.y = float(reading.accel_body_m_s2[1])
            self._imu[rid].publish(imu)
            if battery_due:
                battery = BatteryState()
                battery.header.stamp = stamp
                battery.voltage = NOMINAL_BATTERY_V
                battery.present = True
                self._battery[rid].publish(battery)

    def _publish_diagnostics(self) -> None:
        values = {
            "telemetry_rate_hz": self.rate.rate_hz(time.monotonic()),
            "robots": len(self.ids),
            "estop": self.estop,
            "plant_time_s": float(self.plant.time_s),
        }
        publish_status(
            self, self._diag_pub, "sim_world", "sim", "WARN" if self.estop else "OK", "stepping", values
        )

    def destroy_node(self) -> None:
        self.plant.close()
        super().destroy_node()


def main(args: list[str] | None = None) -> None:
    spin_node(SimWorldNode, args)
