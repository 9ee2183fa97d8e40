"""serial_bridge: one robot's serial link (robocoord.firmware_bridge.link.SerialLink) as a lifecycle node.

configure  opens the port (pyserial name or URL), waits for the link, handshakes and sends the limits
           (max wheel speed, max acceleration, watchdog) to the firmware; fails if any of it fails.
activate   starts accepting ``cmd_vel`` (and ``wheel_cmd`` if enabled) and publishing telemetry.
deactivate commands zero wheels and stops accepting commands; cleanup/shutdown close the port.

Topics (relative, in the robot's namespace): subscribes ``cmd_vel`` (geometry_msgs/Twist, reliable),
``wheel_cmd`` (std_msgs/Float64MultiArray [left, right] rad/s, reliable; only with
``accept_wheel_commands``) and ``/fleet/estop_active`` (latched Bool from the supervisor); publishes
``odom`` (nav_msgs/Odometry from the wheel encoders, frame ``odom_frame`` starting at the home pose),
``imu`` (yaw rate, planar acceleration), ``battery`` (sensor_msgs/BatteryState) — best effort, depth 1,
with a deadline — and ``/diagnostics`` (link statistics, RTT, faults, loop latency). Services ``estop``
and ``clear_estop`` (std_srvs/Trigger).

Safety that is always on: the firmware's watchdog (``watchdog_ms``) and limits; while an e-stop is
latched (locally or fleet-wide) motion commands are dropped and counted; the e-stop is re-sent
whenever telemetry shows the firmware not latched while it should be.

Telemetry arrives on the links' shared I/O thread (robocoord.firmware_bridge.io_loop) and is published
from there; diagnostics report the
age of the newest telemetry when a motion command goes out. ``robocoord bench loop`` measures the
exact telemetry-in -> command-out latency per command (``trace_latency``).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import BatteryState, Imu
from std_msgs.msg import Bool, Float64MultiArray
from std_srvs.srv import Trigger

from robocoord.firmware_bridge.protocol_tables import ClearEStop, EStop, FaultFlags
from robocoord_ros.cdr import twist
from robocoord_ros.odometry import EncoderOdometry, wheels_for_twist
from robocoord_ros.rosutil import (
    command_qos,
    declare,
    diagnostics_qos,
    latched_qos,
    publish_status,
    spin_node,
    telemetry_qos,
)
from robocoord_ros.timing import LatencyHistogram, RateMeter

_ESTOP_BIT = int(FaultFlags.ESTOP)  # a plain int: Flag.__and__ is a Python call per telemetry frame


def _p50_p99(histogram: LatencyHistogram) -> tuple[float, float]:
    """Both percentiles from one pass over the window (diagnostics of 20 nodes fire together)."""
    samples = histogram.samples()
    if not samples:
        return math.nan, math.nan
    p50, p99 = np.percentile(samples, (50.0, 99.0))
    return float(p50), float(p99)


class SerialBridgeNode(LifecycleNode):
    def __init__(self, node_name: str = "serial_bridge", **kwargs):
        super().__init__(node_name, **kwargs)
        self.port: str = declare(self, "port", None, "serial port or pyserial URL", kind=str)
        self.robot_id: int = declare(
            self, "robot_id", None, "robot id on the wire", kind=int, low=0, high=254
        )
        self.baud: int = declare(
            self, "baud", 921600, "baud rate (ignored by ptys)", low=1200, high=12_000_000
        )
        self.watchdog_ms: int = declare(
            self, "watchdog_ms", 200, "firmware motor watchdog [ms]", low=20, high=5000
        )
        self.heartbeat_hz: float = declare(
            self, "heartbeat_hz", 10.0, "heartbeat rate [Hz]", low=0.5, high=100.0
        )
        self.telemetry_hz: float = declare(
            self, "telemetry_rate_hz", 100.0, "expected telemetry [Hz]", low=0.1
        )
        deadline_ms = declare(self, "telemetry_deadline_ms", 50.0, "QoS deadline of telemetry [ms]", low=1.0)
        self.link_lost_s: float = 1e-3 * declare(
            self, "link_lost_ms", 300.0, "no valid frame this long: link lost [ms]", low=10.0
        )
        self.max_wheel: float = declare(
            self, "max_wheel_speed_rad_s", 20.0, "wheel limit [rad/s]", low=0.1, high=200.0
        )
        self.max_accel: float = declare(
            self, "max_wheel_accel_rad_s2", 60.0, "wheel accel limit [rad/s^2]", low=0.1, high=10000.0
        )
        self.wheel_radius: float = declare(
            self, "wheel_radius_m", 0.035, "wheel radius [m]", low=0.001, high=1.0
        )
        self.track_width: float = declare(self, "track_width_m", 0.2, "wheel track [m]", low=0.01, high=5.0)
        self.home = (
            declare(self, "home_x_m", 0.0, "initial x of odom, world frame [m]"),
            declare(self, "home_y_m", 0.0, "initial y of odom, world frame [m]"),
            declare(self, "home_yaw_rad", 0.0, "initial yaw of odom, world frame [rad]"),
        )
        self.odom_frame: str = declare(self, "odom_frame", "odom", "frame of the odometry pose")
        self.base_frame: str = declare(self, "base_frame", "base_link", "robot body frame")
        self.connect_timeout_s: float = declare(
            self, "connect_timeout_s", 5.0, "configure waits this long", low=0.1
        )
        self.battery_period_s = 1.0 / declare(
            self, "battery_rate_hz", 1.0, "battery publishing rate [Hz]", low=0.01, high=100.0
        )
        diag_hz = declare(self, "diagnostics_rate_hz", 2.0, "diagnostics rate [Hz]", low=0.1, high=50.0)
        self.accept_wheel_commands: bool = declare(
            self, "accept_wheel_commands", False, "also listen to wheel_cmd"
        )
        trace = declare(self, "trace_latency", False, "log every cmd_vel with its wire-out time (benchmarks)")
        # (receive ns, wire-out ns or 0 when dropped, v, omega) per cmd_vel; only with trace_latency
        self.trace: deque[tuple[int, int, float, float]] = deque(maxlen=500_000 if trace else 0)
        self.hardware_id = f"robot_{self.robot_id}"
        self.diag_name = f"{self.hardware_id}/serial_bridge"
        self._telemetry_qos = telemetry_qos(deadline_ms)
        self._diag_period_s = 1.0 / diag_hz

        self.link = None
        self.odometry = EncoderOdometry(self.wheel_radius, self.track_width, *self.home)
        self._lock = threading.Lock()
        self._active = False
        self._closing = False
        self.estop_latched = False  # this bridge's own latch: local service or fleet-wide
        self.fleet_estop = False
        self.firmware_faults = 0
        self.commands_sent = 0
        self.commands_ignored_estop = 0
        self.commands_clamped = 0
        self.link_was_up = False
        self.link_events: list[tuple[float, bool]] = []  # (monotonic s, up)
        self._last_telemetry_s: float | None = None
        self._last_estop_resend_s = 0.0
        self._last_battery_s = -1e9
        self._last_publish_s = -1e9
        self.telemetry_rate = RateMeter()
        self.telemetry_age = LatencyHistogram()  # age of the newest telemetry when a command goes out
        self._odom_pub = self._imu_pub = self._battery_pub = None
        self._odom_msg = Odometry()
        self._odom_msg.header.frame_id = self.odom_frame
        self._odom_msg.child_frame_id = self.base_frame
        self._imu_msg = Imu()
        self._imu_msg.header.frame_id = self.base_frame
        self._imu_msg.orientation_covariance[0] = -1.0  # no orientation estimate
        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", diagnostics_qos())
        self._diag_timer = self.create_timer(self._diag_period_s, self._publish_diagnostics)

    # ------------------------------------------------------------------ lifecycle
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        from robocoord.firmware_bridge.link import LinkError, SerialLink

        self._odom_pub = self.create_lifecycle_publisher(Odometry, "odom", self._telemetry_qos)
        self._imu_pub = self.create_lifecycle_publisher(Imu, "imu", self._telemetry_qos)
        self._battery_pub = self.create_lifecycle_publisher(BatteryState, "battery", self._telemetry_qos)
        link = SerialLink(
            self.port,
            self.robot_id,
            baudrate=self.baud,
            heartbeat_period_s=1.0 / self.heartbeat_hz,
            link_timeout_s=self.link_lost_s,
            on_telemetry=self._on_telemetry,
            on_link_change=self._on_link_change,
        )
        try:
            link.open(wait_s=self.connect_timeout_s)
            link.set_limits(
                self.max_wheel, self.max_accel, self.watchdog_ms, timeout_s=self.connect_timeout_s
            )
        except (LinkError, ValueError) as err:
            link.close()
            self.get_logger().error(f"configure failed on {self.port}: {err}")
            return TransitionCallbackReturn.FAILURE
        self.link = link
        self._closing = False
        self.get_logger().info(
            f"link up on {self.port}: limits {self.max_wheel:g} rad/s, watchdog {self.watchdog_ms} ms"
        )
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        # raw: two doubles are read straight from the CDR bytes (robocoord_ros.cdr), no message object
        self._cmd_sub = self.create_subscription(Twist, "cmd_vel", self._on_cmd_vel, command_qos(), raw=True)
        if self.accept_wheel_commands:
            self._wheel_sub = self.create_subscription(
                Float64MultiArray, "wheel_cmd", self._on_wheel_cmd, command_qos()
            )
        self._estop_sub = self.create_subscription(
            Bool, "/fleet/estop_active", self._on_fleet_estop, latched_qos()
        )
        self._estop_srv = self.create_service(Trigger, "estop", self._on_estop_service)
        self._clear_srv = self.create_service(Trigger, "clear_estop", self._on_clear_service)
        self._active = True
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._active = False
        self._send_wheels(0.0, 0.0, force=True)
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._close_link()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._active = False
        self._close_link()
        return TransitionCallbackReturn.SUCCESS

    def _close_link(self) -> None:
        self._closing = True  # closing the port takes the link down: that is no fault
        link, self.link = self.link, None
        if link is not None:
            link.close()

    def destroy_node(self) -> None:
        self._active = False
        self._close_link()
        super().destroy_node()

    # ------------------------------------------------------------------ commands
    def _on_cmd_vel(self, raw: bytes) -> None:
        received_ns = self.get_clock().now().nanoseconds if self.trace.maxlen else 0
        v_m_s, omega_rad_s = twist(raw)
        left, right, clamped = wheels_for_twist(
            v_m_s, omega_rad_s, self.wheel_radius, self.track_width, self.max_wheel
        )
        self.commands_clamped += int(clamped)
        sent = self._send_wheels(left, right)
        if self.trace.maxlen:
            out_ns = self.get_clock().now().nanoseconds if sent else 0
            self.trace.append((received_ns, out_ns, v_m_s, omega_rad_s))

    def _on_wheel_cmd(self, msg: Float64MultiArray) -> None:
        if len(msg.data) != 2 or not all(math.isfinite(v) for v in msg.data):
            self.commands_clamped += 1
            self._send_wheels(0.0, 0.0)
            return
        left, right = (max(-self.max_wheel, min(self.max_wheel, float(v))) for v in msg.data)
        self._send_wheels(left, right)

    def _send_wheels(self, left: float, right: float, force: bool = False) -> bool:
        link = self.link
        if link is None or (not self._active and not force):
            return False
        if self.estop_latched and not force:
            self.commands_ignored_estop += 1
            return False
        sent = link.send_wheels(left, right) is not None
        self.commands_sent += int(sent)
        last = self._last_telemetry_s
        if last is not None and not force:
            self.telemetry_age.add(1e3 * (time.monotonic() - last))
        return sent

    # ------------------------------------------------------------------ e-stop
    def _latch(self, active: bool, wait_ack: bool) -> bool:
        """Latch/clear here and in the firmware; with ``wait_ack``, True when the firmware acknowledged.

        The fleet fan-out does not wait (it must not hold the executor); a frame lost on the way is
        re-sent when telemetry shows the firmware disagreeing with the latch.
        """
        from robocoord.firmware_bridge.link import LinkError

        self.estop_latched = active
        link = self.link
        if link is None:
            return False
        if not wait_ack:
            return link.send(EStop() if active else ClearEStop()) is not None
        try:
            (link.estop if active else link.clear_estop)(timeout_s=0.2)
        except LinkError as err:
            self.get_logger().error(f"{'e-stop' if active else 'clear e-stop'} not acknowledged: {err}")
            return False
        return True

    def _on_fleet_estop(self, msg: Bool) -> None:
        if bool(msg.data) == self.fleet_estop:
            return
        self.fleet_estop = bool(msg.data)
        self._latch(self.fleet_estop, wait_ack=False)

    def _on_estop_service(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        response.success = self._latch(True, wait_ack=True)
        response.message = "e-stop latched" if response.success else "e-stop sent, not acknowledged"
        return response

    def _on_clear_service(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        if self.fleet_estop:
            response.success = False
            response.message = "fleet e-stop active: clear it with /fleet/clear_estop"
            return response
        response.success = self._latch(False, wait_ack=True)
        response.message = "e-stop cleared" if response.success else "clear sent, not acknowledged"
        return response

    # ------------------------------------------------------------------ telemetry (link reader thread)
    def _on_link_change(self, up: bool) -> None:
        if self._closing:
            return
        self.link_events.append((time.monotonic(), up))
        if up:
            if self.link_was_up:
                self.get_logger().warning(f"link to robot {self.robot_id} recovered on {self.port}")
            self.link_was_up = True
        else:
            self.get_logger().error(
                f"link to robot {self.robot_id} LOST on {self.port}: firmware watchdog stops it"
            )

    def _on_telemetry(self, t) -> None:
        now = time.monotonic()
        self._last_telemetry_s = now
        self.telemetry_rate.add(now)
        faults = self.firmware_faults = t.fault_flags
        firmware_estop = bool(faults & _ESTOP_BIT)
        link = self.link
        if (
            link is not None
            and firmware_estop != self.estop_latched
            and now - self._last_estop_resend_s > 0.05
        ):
            self._last_estop_resend_s = now  # the firmware disagrees with the latch: say it again
            link.send(EStop() if self.estop_latched else ClearEStop())
        with self._lock:
            odom = self.odometry.update(
                t.time_ms, t.enc_left_rad, t.enc_right_rad, t.wheel_left_rad_s, t.wheel_right_rad_s
            )
            x, y, yaw, v, w = odom.x_m, odom.y_m, odom.yaw_rad, odom.v_m_s, odom.omega_rad_s
        if not self._active or self._odom_pub is None:
            return
        # the firmware also answers every motion command with telemetry: those frames update the
        # odometry, but topics are published at most at the nominal telemetry rate
        if now - self._last_publish_s < 0.5 / self.telemetry_hz:
            return
        self._last_publish_s = now
        stamp = self.get_clock().now().to_msg()
        # one message object of each kind is reused (only this thread publishes them): building an
        # Odometry in Python costs more than serialising it
        msg, imu = self._odom_msg, self._imu_msg
        msg.header.stamp = stamp
        msg.pose.pose.position.x = x
        msg.pose.pose.position.y = y
        msg.pose.pose.orientation.z = math.sin(0.5 * yaw)
        msg.pose.pose.orientation.w = math.cos(0.5 * yaw)
        msg.twist.twist.linear.x = v
        msg.twist.twist.angular.z = w
        self._odom_pub.publish(msg)
        imu.header.stamp = stamp
        imu.angular_velocity.z = t.yaw_rate_rad_s
        imu.linear_acceleration.x = t.accel_x_m_s2
        imu.linear_acceleration.y = t.accel_y_m_s2
        self._imu_pub.publish(imu)
        if now - self._last_battery_s < self.battery_period_s:
            return
        battery = BatteryState()
        battery.header.stamp = stamp
        battery.voltage = 1e-3 * t.battery_mv
        battery.present = True
        battery.current = battery.charge = battery.capacity = battery.design_capacity = battery.percentage = (
            math.nan
        )
        battery.power_supply_technology = BatteryState.POWER_SUPPLY_TECHNOLOGY_LIPO
        self._last_battery_s = now
        self._battery_pub.publish(battery)

    # ------------------------------------------------------------------ diagnostics
    def link_state(self) -> str:
        link = self.link
        if link is None:
            return "closed"
        if link.link_up:
            return "up"
        return "lost" if self.link_was_up else "down"

    def _publish_diagnostics(self) -> None:
        now = time.monotonic()
        state = self.link_state()
        values: dict[str, object] = {"port": self.port, "link_state": state, "lifecycle_active": self._active}
        link = self.link
        if link is not None:
            stats = link.stats()
            values.update(
                rtt_ms=stats.rtt_ms_p50 if stats.rtt_ms_p50 is not None else math.nan,
                rtt_ms_p99=stats.rtt_ms_p99 if stats.rtt_ms_p99 is not None else math.nan,
                frames_in=stats.frames_in,
                frames_out=stats.frames_out,
                crc_errors=stats.crc_errors,
                framing_errors=stats.framing_errors,
                resyncs=stats.resyncs,
                drops=stats.drops,
                tx_dropped=stats.tx_dropped,
                reconnects=stats.reconnects,
                nacks=stats.nacks,
            )
        faults = FaultFlags(self.firmware_faults)
        age_p50, age_p99 = _p50_p99(self.telemetry_age)
        values.update(
            telemetry_rate_hz=self.telemetry_rate.rate_hz(now),
            faults=str(faults.name if faults else "none"),
            estop=self.estop_latched,
            commands_sent=self.commands_sent,
            commands_ignored_estop=self.commands_ignored_estop,
            commands_clamped=self.commands_clamped,
            telemetry_age_at_command_ms_p50=age_p50,
            telemetry_age_at_command_ms_p99=age_p99,
        )
        if state in ("lost", "down", "closed"):
            level, message = "ERROR", f"link {state}"
        elif faults & FaultFlags.WATCHDOG:
            level, message = "ERROR", "firmware watchdog tripped"
        elif self.estop_latched:
            level, message = "WARN", "e-stop latched"
        else:
            level, message = "OK", "link up"
        publish_status(self, self._diag_pub, self.diag_name, self.hardware_id, level, message, values)


def main(args: list[str] | None = None) -> None:
    spin_node(SerialBridgeNode, args)
