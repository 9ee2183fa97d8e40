"""fleet_recorder: telemetry and commands of every robot to one MCAP file (rosbag2 layout).

Records per robot ``cmd_vel``, ``odom``, ``pose`` (mocap/localiser), ``imu``, ``battery``, ``task_state``, and fleet-wide
``/diagnostics`` and ``/fleet/estop_active``. Messages are stamped with the receive time of the
node's clock. The writer is :class:`robocoord_ros.recording.McapRecorder`.
"""

from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, Twist
from nav_msgs.msg import Odometry
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import BatteryState, Imu
from std_msgs.msg import Bool, UInt8, UInt8MultiArray

from robocoord_ros.recording import McapRecorder
from robocoord_ros.rosutil import command_qos, declare, diagnostics_qos, event_qos, latched_qos, spin_node


class FleetRecorderNode(Node):
    def __init__(self, node_name: str = "fleet_recorder", **kwargs):
        super().__init__(node_name, **kwargs)
        output = declare(self, "output_path", None, "MCAP file to write", kind=str)
        robot_ids = declare(self, "robot_ids", [0], "robots whose topics are recorded", kind=list)
        self.recorder = McapRecorder(output)
        # best effort like the publishers, but a queue so a busy executor does not thin the record
        telemetry = QoSProfile(
            history=HistoryPolicy.KEEP_LAST, depth=50, reliability=ReliabilityPolicy.BEST_EFFORT
        )
        for rid in robot_ids:
            ns = f"/robot_{rid}"
            self._record(Twist, f"{ns}/cmd_vel", command_qos())
            self._record(UInt8, f"{ns}/task_state", event_qos())
            self._record(UInt8MultiArray, f"{ns}/policy_decision", event_qos())
            self._record(Odometry, f"{ns}/odom", telemetry)
            self._record(PoseStamped, f"{ns}/pose", telemetry)
            self._record(Imu, f"{ns}/imu", telemetry)
            self._record(BatteryState, f"{ns}/battery", telemetry)
        self._record(DiagnosticArray, "/diagnostics", diagnostics_qos())
        self._record(Bool, "/fleet/estop_active", latched_qos())
        self.get_logger().info(f"recording {len(robot_ids)} robots to {output}")

    def _record(self, msg_type: type, topic: str, qos) -> None:
        def callback(msg, topic=topic):
            self.recorder.write(topic, msg, self.get_clock().now().nanoseconds)

        self.create_subscription(msg_type, topic, callback, qos)

    def destroy_node(self) -> None:
        self.recorder.close()
        super().destroy_node()


def main(args: list[str] | None = None) -> None:
    spin_node(FleetRecorderNode, args)
