"""policy_controller: one robot's ONNX policy at the contract's fixed rate -> ``cmd_vel``.

Parameters are declared below (typed, read-only, ranges in their descriptors). The
decision logic is :class:`robocoord_ros.policy_logic.PolicyLoop`; this node only moves
messages in and out and stamps them with the node's monotonic clock.

Topics (relative, inside the robot's namespace): subscribes ``odom`` (best effort, depth 1,
deadline) and, for GMFS, ``/robot_<j>/task_state`` of every robot; publishes ``cmd_vel``
(reliable), ``task_state`` (std_msgs/UInt8) and ``/diagnostics``.

``trigger``: ``timer`` acts on a wall timer at the contract rate; ``telemetry`` acts as soon
as fresh odometry arrives (at most once per period), and the contract-rate timer then only
checks staleness (safe action) and deadlines.
"""

from __future__ import annotations

import math
import time

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.node import Node
from std_msgs.msg import UInt8

from robocoord.controllers.policy import ArtifactError, PolicyRuntime
from robocoord_ros.policy_logic import (
    ContractMismatch,
    GmfsStrategy,
    GoTo,
    PolicyLoop,
    Pose2D,
    TickInput,
    Twist2D,
    latent_positions_from_homes,
)
from robocoord_ros.rosutil import (
    command_qos,
    declare,
    diagnostics_qos,
    status,
    telemetry_qos,
)


def yaw_from_quaternion(z: float, w: float, x: float = 0.0, y: float = 0.0) -> float:
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


class PolicyControllerNode(Node):
    def __init__(self, node_name: str = "policy_controller", **kwargs):
        super().__init__(node_name, **kwargs)
        artifact = declare(self, "artifact_path", None, "policy .onnx artifact", kind=str)
        self.robot_id: int = declare(self, "robot_id", None, "this robot's id", kind=int, low=0)
        fleet_ids = declare(self, "fleet_robot_ids", [0], "ids of every robot in the fleet", kind=list)
        home_x = declare(self, "fleet_home_x_m", [0.0], "home x of every robot, world frame [m]", kind=list)
        home_y = declare(self, "fleet_home_y_m", [0.0], "home y of every robot, world frame [m]", kind=list)
        task = declare(self, "task", "warehouse", "sim task the policy was trained on", choices=["warehouse"])
        self.trigger = declare(self, "trigger", "timer", "timer | telemetry", choices=["timer", "telemetry"])
        expected_rate = declare(
            self, "control_rate_hz", 0.0, "expected contract rate [Hz]; 0 accepts the artifact's", low=0.0
        )
        max_v = declare(self, "max_linear_m_s", 0.5, "forward speed limit [m/s]", low=0.0, high=5.0)
        max_w = declare(self, "max_angular_rad_s", 3.0, "yaw rate limit [rad/s]", low=0.0, high=20.0)
        deadline_ms = declare(self, "telemetry_deadline_ms", 50.0, "odom QoS deadline [ms]", low=1.0)
        stale_s = declare(
            self, "stale_after_s", 0.0, "input age giving the safe action [s]; 0: contract", low=0.0
        )
        diag_hz = declare(self, "diagnostics_rate_hz", 2.0, "diagnostics rate [Hz]", low=0.1, high=50.0)
        seed = declare(self, "seed", 0, "neighbour-sampling seed (robot id is added)", low=0)
        if not (len(fleet_ids) == len(home_x) == len(home_y)):
            raise ContractMismatch(
                f"fleet_robot_ids ({len(fleet_ids)}), fleet_home_x_m ({len(home_x)}) and "
                f"fleet_home_y_m ({len(home_y)}) must have the same length"
            )
        try:
            runtime = PolicyRuntime(artifact)
        except ArtifactError as err:
            raise ContractMismatch(str(err)) from None
        contract = runtime.contract
        if expected_rate > 0 and abs(expected_rate - contract.control_rate_hz) > 1e-9:
            raise ContractMismatch(
                f"{artifact}: control_rate_hz: robot expects {expected_rate:g} Hz, artifact has {contract.control_rate_hz:g}"
            )
        if contract.family != "gmfs":
            raise ContractMismatch(
                f"{artifact}: family {contract.family!r} is not runnable on task {task!r} by this node (expects 'gmfs')"
            )
        index = list(fleet_ids).index(self.robot_id) if self.robot_id in fleet_ids else -1
        if index < 0:
            raise ContractMismatch(f"robot_id {self.robot_id} is not in fleet_robot_ids {list(fleet_ids)}")
        goto = GoTo(max_linear_m_s=max_v, max_angular_rad_s=max_w)
        strategy = GmfsStrategy(
            contract=contract,
            robot_id=self.robot_id,
            fleet_ids=list(fleet_ids),
            latent_positions=latent_positions_from_homes(home_x, home_y),
            home=Pose2D(float(home_x[index]), float(home_y[index]), 0.0),
            goto=goto,
        )
        self.loop = PolicyLoop(
            runtime, strategy, stale_after_s=stale_s if stale_s > 0 else None, seed=seed + self.robot_id
        )
        self.hardware_id = f"robot_{self.robot_id}"
        self.diag_name = f"{self.hardware_id}/policy_controller"

        self._pose: Pose2D | None = None
        self._pose_stamp_s: float | None = None
        self._neighbour_states: dict[int, int] = {}
        self._last_command_s: float | None = None
        self._last_acted_stamp_s: float | None = None
        self.deadline_misses = 0
        self.last_output = None

        self._cmd_pub = self.create_publisher(Twist, "cmd_vel", command_qos())
        self._state_pub = self.create_publisher(UInt8, "task_state", command_qos())
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", diagnostics_qos())
        self.create_subscription(Odometry, "odom", self._on_odom, telemetry_qos(deadline_ms))
        for rid in fleet_ids:
            if rid != self.robot_id:
                self.create_subscription(
                    UInt8,
                    f"/robot_{rid}/task_state",
                    lambda msg, rid=rid: self._on_task_state(rid, msg),
                    command_qos(),
                )
        self.create_timer(self.loop.period_s, self._on_timer)
        self.create_timer(1.0 / diag_hz, self._publish_diagnostics)
        self.get_logger().info(
            f"policy {contract.family} from {artifact} at {contract.control_rate_hz:g} Hz, trigger={self.trigger}, "
            f"kappa={strategy.kappa}"
        )

    # --- inputs
    def _on_odom(self, msg: Odometry) -> None:
        q = msg.pose.pose.orientation
        self._pose = Pose2D(
            msg.pose.pose.position.x, msg.pose.pose.position.y, yaw_from_quaternion(q.z, q.w, q.x, q.y)
        )
        self._pose_stamp_s = time.monotonic()
        if self.trigger == "telemetry":
            now = self._pose_stamp_s
            if self._last_command_s is None or now - self._last_command_s >= 0.5 * self.loop.period_s:
                self._act(now)

    def _on_task_state(self, robot_id: int, msg: UInt8) -> None:
        self._neighbour_states[robot_id] = int(msg.data)

    # --- control
    def _on_timer(self) -> None:
        now = time.monotonic()
        if self.trigger == "timer":
            if self.loop.deadlines.tick(now):
                self.deadline_misses += 1
            self._act(now)
            return
        # telemetry trigger: the timer watches the deadline and staleness
        if self._last_command_s is not None and now - self._last_command_s > 1.5 * self.loop.period_s:
            self.deadline_misses += 1
        if self._pose_stamp_s is None or now - self._pose_stamp_s > self.loop.stale_after_s:
            self._act(now)

    def _act(self, now: float) -> None:
        inp = TickInput(self._pose, self._pose_stamp_s, self._neighbour_states)
        out = self.loop.tick(now, inp)
        self._publish_twist(out.twist)
        published = time.monotonic()
        if not out.used_safe_action:
            self.loop.record_latency(self._pose_stamp_s, now, published)
        self._last_command_s = published
        self.last_output = out
        if out.task_state is not None:
            self._state_pub.publish(UInt8(data=int(out.task_state)))

    def _publish_twist(self, twist: Twist2D) -> None:
        msg = Twist()
        msg.linear.x = float(twist.linear_m_s)
        msg.angular.z = float(twist.angular_rad_s)
        self._cmd_pub.publish(msg)

    def _publish_diagnostics(self) -> None:
        now = time.monotonic()
        loop = self.loop
        reason = loop.last_reason
        level = "OK" if reason == "ok" else "ERROR"
        message = {
            "ok": "running",
            "stale": "input stale: safe action",
            "no_input": "no odometry yet: safe action",
        }.get(reason, "non-finite input: safe action")
        values = {
            "control_rate_hz": loop.rate.rate_hz(now),
            "control_rate_nominal_hz": loop.contract.control_rate_hz,
            "latency_ms_p50": loop.latency.percentile(50),
            "latency_ms_p99": loop.latency.percentile(99),
            "latency_histogram_ms": loop.latency.as_text(),
            "compute_ms_p99": loop.compute.percentile(99),
            "deadline_misses": self.deadline_misses,
            "safe_actions": loop.safe_actions,
            "ticks": loop.ticks,
            "input_state": reason,
            "trigger": self.trigger,
        }
        msg = DiagnosticArray()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.status = [status(self.diag_name, self.hardware_id, level, message, values)]
        self._diag_pub.publish(msg)


def main(args: list[str] | None = None) -> None:
    rclpy.init(args=args)
    node = PolicyControllerNode()
    try:
        rclpy.spin(node)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
