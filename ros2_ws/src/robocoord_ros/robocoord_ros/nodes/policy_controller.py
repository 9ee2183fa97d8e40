"""policy_controller: one robot's ONNX policy at the contract's fixed rate -> ``cmd_vel``.

Parameters are declared below (typed, read-only, ranges in their descriptors). The
decision logic is :class:`robocoord_ros.policy_logic.PolicyLoop`; this node only moves
messages in and out and stamps them with the node's monotonic clock.

Topics (relative, inside the robot's namespace): subscribes ``odom`` (best effort, depth 1,
deadline), with ``pose_source: pose_topic`` also ``pose`` (geometry_msgs/PoseStamped, world frame, from
``mocap_bridge`` or any localiser), for GMFS ``/robot_<j>/task_state`` of every robot, and for DrIGM (team_push)
``/objects/box/pose`` (PoseStamped, world; the box as a mocap body); publishes ``cmd_vel``
(reliable), ``task_state`` (std_msgs/UInt8), ``policy_decision`` (UInt8MultiArray [state, action]
per decision), for RCMDP ``safety``, for DrIGM ``team_push`` (Float64MultiArray [decisions, box-to-goal
distance [m], episode done, goal reached, decisions to goal or -1] per decision) and ``/diagnostics``.

Two loops: the policy decides at the contract's fixed rate (a wall timer; a tick starting more
than one period late counts as a deadline miss); the go-to controller turns each fresh odometry
message into ``cmd_vel`` towards the decided station (input-to-command latency is measured from
the odometry's arrival to the publish). A watchdog timer at the go-to rate publishes the stop
when odometry goes stale.

``pose_source``: ``odom`` takes the pose from the bridge's wheel odometry, which drifts whenever robots
push each other sideways; ``pose_topic`` takes it from ``pose`` and the go-to controller runs on each fresh
pose instead. Odometry is still watched: the input counts as stale when *either* stream is, so a
robot whose link goes quiet stops whatever the mocap says. Object poses a strategy needs (team_push: the box)
count the same way: a stale box pose gives the safe action.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, Twist
from nav_msgs.msg import Odometry
from rclpy.node import Node
from std_msgs.msg import Float64MultiArray, UInt8, UInt8MultiArray

from robocoord.controllers.policy import ArtifactError, PolicyRuntime
from robocoord_ros.cdr import odometry_state
from robocoord_ros.policy_logic import (
    STOP,
    ContractMismatch,
    Decision,
    GoTo,
    PolicyLoop,
    Pose2D,
    TickInput,
    Twist2D,
    WarehouseStations,
)
from robocoord_ros.rosutil import (
    command_qos,
    declare,
    diagnostics_qos,
    event_qos,
    publish_status,
    spin_node,
    telemetry_qos,
)
from robocoord_ros.strategies import DrigmStrategy, GmfsStrategy, RcmdpStrategy, build_strategy


class PolicyControllerNode(Node):
    def __init__(self, node_name: str = "policy_controller", **kwargs):
        super().__init__(node_name, **kwargs)
        artifact = declare(self, "artifact_path", None, "policy .onnx artifact", kind=str)
        self.robot_id: int = declare(self, "robot_id", None, "this robot's id", kind=int, low=0)
        fleet_ids = declare(self, "fleet_robot_ids", [0], "ids of every robot in the fleet", kind=list)
        latent = declare(
            self,
            "fleet_latent_flat",
            [0.0],
            "latent positions of every robot, row-major (n x latent_dim)",
            kind=list,
        )
        latent_dim = declare(self, "latent_dim", 2, "dimension of a latent position", low=1, high=3)
        task = declare(
            self, "task", "warehouse", "task this robot runs", choices=["warehouse", "safe_nav", "team_push"]
        )
        home_x = declare(self, "home_x_m", 0.0, "home (Idle station) x, world frame [m]")
        home_y = declare(self, "home_y_m", 0.0, "home (Idle station) y, world frame [m]")
        work_x = declare(self, "work_x_m", 0.0, "work station x, world frame [m]")
        work_y = declare(self, "work_y_m", 0.0, "work station y, world frame [m]")
        home_r = declare(self, "home_radius_m", 0.2, "this close to home is Idle [m]", low=0.01)
        work_r = declare(
            self, "work_radius_m", 0.3, "this close to the work station is Working [m]", low=0.01
        )
        grid_cells = declare(self, "safe_nav_grid_cells", 6, "safe_nav arena: cells per side", low=4)
        cell_size = declare(self, "safe_nav_cell_size_m", 0.5, "safe_nav arena: cell size [m]", low=0.01)
        team_push = {
            "goal_distance_m": declare(
                self, "team_push_goal_distance_m", 1.5, "team_push: box start to goal along +x [m]", low=0.01
            ),
            "goal_tolerance_m": declare(
                self,
                "team_push_goal_tolerance_m",
                0.15,
                "team_push: box this close to the goal: done [m]",
                low=0.001,
            ),
            "box_size_m": declare(self, "team_push_box_size_m", 0.4, "team_push: box edge [m]", low=0.01),
        }
        goto_hz = declare(self, "goto_rate_hz", 20.0, "go-to controller rate [Hz]", low=1.0, high=500.0)
        cruise = declare(self, "cruise_speed_m_s", 0.5, "go-to cruise speed [m/s]", low=0.01, high=5.0)
        expected_rate = declare(
            self, "control_rate_hz", 0.0, "expected contract rate [Hz]; 0 accepts the artifact's", low=0.0
        )
        max_v = declare(self, "max_linear_m_s", 0.5, "forward speed limit [m/s]", low=0.0, high=5.0)
        max_w = declare(self, "max_angular_rad_s", 3.0, "yaw rate limit [rad/s]", low=0.0, high=20.0)
        deadline_ms = declare(self, "telemetry_deadline_ms", 50.0, "odom QoS deadline [ms]", low=1.0)
        stale_s = declare(
            self, "stale_after_s", 0.2, "odometry older than this gives the safe action [s]", low=0.001
        )
        diag_hz = declare(self, "diagnostics_rate_hz", 2.0, "diagnostics rate [Hz]", low=0.1, high=50.0)
        seed = declare(self, "seed", 0, "neighbour-sampling seed (robot id is added)", low=0)
        trace = declare(
            self, "trace_latency", False, "log every cmd_vel with its odometry stamp (benchmarks)"
        )
        self.pose_source = declare(
            self,
            "pose_source",
            "odom",
            "where the world pose comes from: odom (wheel odometry) or pose_topic (mocap or a localiser)",
            choices=["odom", "pose_topic"],
        )
        if len(latent) != latent_dim * len(fleet_ids):
            raise ContractMismatch(
                f"fleet_latent_flat has {len(latent)} values, expected latent_dim x robots = {latent_dim * len(fleet_ids)}"
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
        stations = WarehouseStations((home_x, home_y), (work_x, work_y), home_r, work_r)
        try:
            strategy = build_strategy(
                runtime,
                task,
                robot_id=self.robot_id,
                fleet_ids=list(fleet_ids),
                latent_positions=np.asarray(latent, dtype=float).reshape(len(fleet_ids), latent_dim),
                stations=stations,
                seed=seed + self.robot_id,
                arena_cells=(grid_cells, cell_size) if task == "safe_nav" else None,
                team_push=team_push if task == "team_push" else None,
            )
        except ContractMismatch as err:
            raise ContractMismatch(f"{artifact}: {err}") from None
        self.strategy = strategy
        goto = GoTo(max_linear_m_s=max_v, max_angular_rad_s=max_w, cruise_speed_m_s=cruise)
        self.loop = PolicyLoop(runtime, strategy, goto, stale_after_s=stale_s, seed=seed + self.robot_id)
        self.goto_period_s = 1.0 / goto_hz
        self.hardware_id = f"robot_{self.robot_id}"
        self.diag_name = f"{self.hardware_id}/policy_controller"

        self._pose: Pose2D | None = None
        self._pose_stamp_s: float | None = None  # of the pose in use (odometry or mocap)
        self._odom_seen_s: float | None = None  # stamp of the newest odometry (the link is alive)
        self._forward_m_s = 0.0  # forward speed of the newest odometry (wheel encoders) [m/s]
        self._neighbour_states: dict[int, int] = {}
        self._objects: dict[str, Pose2D] = {}  # named object poses (team_push: the box), world frame
        self._object_stamps_s: dict[str, float] = {}
        self._object_names: tuple[str, ...] = strategy.objects if isinstance(strategy, DrigmStrategy) else ()
        self._last_control_s: float | None = None
        self.deadline_misses = 0
        self.last_decision: Decision | None = None
        self.last_twist: Twist2D = STOP
        self._pose_stamp_ns = 0
        # (pose stamp ns or 0, publish ns, v, omega) per cmd_vel; only with trace_latency
        self.trace: deque[tuple[int, int, float, float]] = deque(maxlen=500_000 if trace else 0)
        self.control_deadline_misses = 0

        self._cmd_pub = self.create_publisher(Twist, "cmd_vel", command_qos())
        self._twist_msg = Twist()
        self._state_pub = self.create_publisher(UInt8, "task_state", event_qos())
        # [task state before acting, action] of every decision (scoring, recording)
        self._decision_pub = self.create_publisher(UInt8MultiArray, "policy_decision", event_qos())
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", diagnostics_qos())
        # raw: only stamp and planar pose are read (robocoord_ros.cdr), ~50x cheaper than a full Odometry
        self.create_subscription(Odometry, "odom", self._on_odom, telemetry_qos(deadline_ms), raw=True)
        if self.pose_source == "pose_topic":
            self.create_subscription(PoseStamped, "pose", self._on_mocap_pose, telemetry_qos(deadline_ms))
        for name in self._object_names:
            self.create_subscription(
                PoseStamped,
                f"/objects/{name}/pose",
                lambda msg, name=name: self._on_object_pose(name, msg),
                telemetry_qos(deadline_ms),
            )
        for rid in fleet_ids if isinstance(strategy, GmfsStrategy) else ():
            if rid != self.robot_id:
                self.create_subscription(
                    UInt8,
                    f"/robot_{rid}/task_state",
                    lambda msg, rid=rid: self._on_task_state(rid, msg),
                    event_qos(),
                )
        self.create_timer(self.loop.period_s, self._on_decision_timer)
        # stale-input watchdog: keeps publishing the stop when odometry stops (the link's heartbeat
        # would otherwise keep the firmware's own watchdog from tripping)
        self.create_timer(max(self.goto_period_s, 0.5 * stale_s), self._on_watchdog_timer)
        self.create_timer(1.0 / diag_hz, self._publish_diagnostics)
        if isinstance(strategy, RcmdpStrategy):
            # [discounted cost of each constraint so far, then their budgets], after every decision
            self._safety_pub = self.create_publisher(Float64MultiArray, "safety", event_qos())
        if isinstance(strategy, DrigmStrategy):
            # [decisions, box-to-goal [m], done, reached, decisions to goal or -1], after every decision
            self._team_push_pub = self.create_publisher(Float64MultiArray, "team_push", event_qos())
        detail = (
            f"kappa={strategy.kappa}"
            if isinstance(strategy, GmfsStrategy)
            else "shield on"
            if isinstance(strategy, RcmdpStrategy)
            else f"agent {strategy.agent.agent_index} of {strategy.agent.spec.n_robots}, primitives"
        )
        self.get_logger().info(
            f"policy {contract.family} from {artifact}: decisions at {contract.control_rate_hz:g} Hz, "
            f"go-to at {goto_hz:g} Hz, {detail}"
        )

    def _now(self) -> float:
        """The node's clock [s] (system time, or /clock with use_sim_time): the clock of the bridges' stamps."""
        return 1e-9 * self.get_clock().now().nanoseconds

    # --- inputs
    def _input(self) -> TickInput:
        stamp = self._pose_stamp_s
        if self.pose_source == "pose_topic":  # stale when either the pose or the robot's own link is
            odom = self._odom_seen_s
            stamp = None if stamp is None or odom is None else min(stamp, odom)
        for name in self._object_names:  # ... or any object pose the observation needs
            seen = self._object_stamps_s.get(name)
            stamp = None if stamp is None or seen is None else min(stamp, seen)
        return TickInput(self._pose, stamp, self._neighbour_states, self._forward_m_s, self._objects)

    def _on_odom(self, raw: bytes) -> None:
        stamp_ns, x, y, yaw, self._forward_m_s = odometry_state(raw)
        # the age of an observation counts from when the bridge received the telemetry (its stamp), so
        # messages that waited in a busy executor are judged stale by how old they really are
        self._odom_seen_s = 1e-9 * stamp_ns
        if self.pose_source == "odom":
            self._on_pose(Pose2D(x, y, yaw), stamp_ns)

    def _on_mocap_pose(self, msg: PoseStamped) -> None:
        q = msg.pose.orientation
        yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
        stamp = msg.header.stamp
        self._on_pose(
            Pose2D(msg.pose.position.x, msg.pose.position.y, yaw), stamp.sec * 10**9 + stamp.nanosec
        )

    def _on_object_pose(self, name: str, msg: PoseStamped) -> None:
        q = msg.pose.orientation
        yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
        stamp = msg.header.stamp
        self._objects[name] = Pose2D(msg.pose.position.x, msg.pose.position.y, yaw)
        self._object_stamps_s[name] = stamp.sec + 1e-9 * stamp.nanosec

    def _on_pose(self, pose: Pose2D, stamp_ns: int) -> None:
        previous_stamp_s = self._pose_stamp_s
        self._pose = pose
        self._pose_stamp_s = 1e-9 * stamp_ns
        self._pose_stamp_ns = stamp_ns
        # the go-to controller acts on a fresh pose, at most at its own rate
        now = self._now()
        if self._last_control_s is None or now - self._last_control_s >= 0.5 * self.goto_period_s:
            late = self._last_control_s is not None and now - self._last_control_s > 2.0 * self.goto_period_s
            flowing = (
                previous_stamp_s is not None and self._pose_stamp_s - previous_stamp_s < self.goto_period_s
            )
            if late and flowing:  # poses kept coming, yet this node fell two go-to periods behind
                self.control_deadline_misses += 1
            self._control(now, from_pose=True)

    def _on_task_state(self, robot_id: int, msg: UInt8) -> None:
        self._neighbour_states[robot_id] = int(msg.data)

    # --- decisions (contract rate) and control (go-to rate)
    def _on_decision_timer(self) -> None:
        now = self._now()
        if self.loop.deadlines.tick(now):
            self.deadline_misses += 1
        decision = self.loop.decide(now, self._input())
        self.last_decision = decision
        self._state_pub.publish(UInt8(data=int(decision.task_state)))
        if isinstance(decision.action, int) and not decision.used_safe_action:
            self._decision_pub.publish(UInt8MultiArray(data=[int(decision.task_state), decision.action]))
        if isinstance(self.strategy, RcmdpStrategy):
            agent = self.strategy.agent
            self._safety_pub.publish(
                Float64MultiArray(data=[*map(float, agent.discounted_cost), *map(float, agent.budgets)])
            )
        if isinstance(self.strategy, DrigmStrategy):
            push = self.strategy.agent
            to_goal = -1.0 if push.decisions_to_goal is None else float(push.decisions_to_goal)
            self._team_push_pub.publish(
                Float64MultiArray(
                    data=[
                        float(push.decisions),
                        float(push.box_to_goal_m),
                        float(push.done),
                        float(push.reached_goal),
                        to_goal,
                    ]
                )
            )
        self._control(self._now(), from_pose=False)

    def _on_watchdog_timer(self) -> None:
        now = self._now()
        if self._last_control_s is None or now - self._last_control_s > 2.0 * self.goto_period_s:
            self._control(now, from_pose=False)  # no fresh odometry for two go-to periods: the stop

    def _control(self, start: float, from_pose: bool) -> None:
        twist = self.loop.control(start, self._input())
        # one Twist reused (publish serialises it at once; callbacks of this node never run concurrently)
        msg = self._twist_msg
        linear, angular = float(twist.linear_m_s), float(twist.angular_rad_s)
        msg.linear.x = linear
        msg.angular.z = angular
        self._cmd_pub.publish(msg)
        published_ns = self.get_clock().now().nanoseconds
        published = 1e-9 * published_ns
        if self.trace.maxlen:
            stamp = self._pose_stamp_ns if from_pose else 0
            self.trace.append((stamp, published_ns, linear, angular))
        if from_pose and self.loop.last_reason == "ok":  # pose in (at the bridge or mocap) -> cmd_vel out
            self.loop.record_latency(self._pose_stamp_s, start, published)
        self._last_control_s = published
        self.last_twist = twist

    def _publish_diagnostics(self) -> None:
        now = self._now()
        loop = self.loop
        reason = loop.last_reason
        level = "OK" if reason == "ok" else "ERROR"
        message = {
            "ok": "running",
            "stale": "input stale: safe action",
            "no_input": "no odometry yet: safe action",
        }.get(reason, "non-finite input: safe action")
        samples = loop.latency.samples()
        p50, p99 = np.percentile(samples, (50.0, 99.0)) if samples else (np.nan, np.nan)
        values = {
            "control_rate_hz": loop.control_rate.rate_hz(now),
            "decision_rate_hz": loop.decision_rate.rate_hz(now),
            "decision_rate_nominal_hz": loop.contract.control_rate_hz,
            "latency_ms_p50": float(p50),  # both from one pass over the window
            "latency_ms_p99": float(p99),
            "latency_histogram_ms": loop.latency.as_text(),
            "compute_ms_p99": loop.compute.percentile(99),
            "deadline_misses": self.deadline_misses + self.control_deadline_misses,
            "safe_actions": loop.safe_actions,
            "decisions": loop.decisions,
            "task_state": loop.task_state,
            "intended_state": loop.intended,
            "input_state": reason,
        }
        if isinstance(self.strategy, RcmdpStrategy):
            agent = self.strategy.agent
            values |= {
                "discounted_cost": [round(float(c), 4) for c in agent.discounted_cost],
                "budgets": [float(b) for b in agent.budgets],
                "shield_vetoes": agent.vetoes,
                "episode_done": agent.done,
                "reached_goal": agent.reached_goal,
            }
            if any(agent.violated()):
                level, message = "ERROR", f"constraint budget exceeded: {agent.violated()}"
        if isinstance(self.strategy, DrigmStrategy):
            push = self.strategy.agent
            values |= {
                "agent_index": push.agent_index,
                "episode_decisions": push.decisions,
                "box_to_goal_m": round(float(push.box_to_goal_m), 4),
                "episode_done": push.done,
                "reached_goal": push.reached_goal,
                "delivered_to": push.delivered or "",
                "decisions_to_goal": push.decisions_to_goal if push.decisions_to_goal is not None else -1,
            }
        publish_status(self, self._diag_pub, self.diag_name, self.hardware_id, level, message, values)


def main(args: list[str] | None = None) -> None:
    spin_node(PolicyControllerNode, args)
