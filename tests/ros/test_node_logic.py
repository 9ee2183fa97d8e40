"""The rclpy-free logic under the nodes: raw-CDR odometry reading, go-to law, odometry, timing, health."""

from __future__ import annotations

import math

import numpy as np
import pytest
from nav_msgs.msg import Odometry
from rclpy.serialization import serialize_message

from robocoord_ros.cdr import odometry_pose, odometry_state
from robocoord_ros.health import Nominal, assess_status
from robocoord_ros.odometry import EncoderOdometry, wheels_for_twist
from robocoord_ros.policy_logic import GoTo, Pose2D, WarehouseStations
from robocoord_ros.timing import DeadlineMonitor, LatencyHistogram


@pytest.mark.parametrize(
    "frame,child", [("", ""), ("odom", "base_link"), ("a" * 7, "bb"), ("world_frame_x", "b" * 13)]
)
def test_raw_odometry_pose_matches_rclpy(frame: str, child: str):
    rng = np.random.default_rng(len(frame) + 3 * len(child))
    for _ in range(20):
        msg = Odometry()
        msg.header.frame_id, msg.child_frame_id = frame, child
        msg.header.stamp.sec, msg.header.stamp.nanosec = (
            int(rng.integers(0, 2**31)),
            int(rng.integers(0, 10**9)),
        )
        x, y, yaw = rng.normal(size=3) * [10, 10, 3]
        msg.pose.pose.position.x, msg.pose.pose.position.y = float(x), float(y)
        msg.pose.pose.orientation.z, msg.pose.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
        msg.pose.covariance[0] = 99.0
        msg.pose.covariance[35] = -7.0
        msg.twist.twist.linear.x, msg.twist.twist.linear.y = float(rng.normal()), 55.0
        stamp, px, py, pyaw = odometry_pose(serialize_message(msg))
        assert stamp == msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
        assert (px, py) == (x, y)
        assert math.isclose(math.cos(pyaw - yaw), 1.0, abs_tol=1e-12)
        assert odometry_state(serialize_message(msg)) == (stamp, px, py, pyaw, msg.twist.twist.linear.x)


def test_go_to_law_is_the_sims():
    from robocoord.sim.tasks.goto import GoToGains, go_to_unicycle

    goto = GoTo(max_linear_m_s=10.0, max_angular_rad_s=3.0, cruise_speed_m_s=0.5)
    rng = np.random.default_rng(0)
    poses = rng.uniform([-2, -2, -math.pi], [2, 2, math.pi], size=(500, 3))
    goals = rng.uniform(-2, 2, size=(500, 2))
    goals[:20] = poses[:20, :2] + 0.01  # some already arrived
    v, w = go_to_unicycle(poses, goals, GoToGains(cruise_speed_m_s=0.5, max_yaw_rate_rad_s=3.0))
    for k in range(500):
        twist = goto.command(Pose2D(*poses[k]), *goals[k])
        assert twist.linear_m_s == pytest.approx(v[k], abs=1e-12)
        assert twist.angular_rad_s == pytest.approx(w[k], abs=1e-12)


def test_task_state_rule():
    st = WarehouseStations((0.0, 0.0), (1.375, 1.375), home_radius_m=0.2, work_radius_m=0.3)
    assert st.classify(Pose2D(0.1, 0.0, 0.0)) == 0
    assert st.classify(Pose2D(1.3, 1.4, 0.0)) == 2
    assert st.classify(Pose2D(0.7, 0.7, 0.0)) == 1
    assert st.target(1) == (0.6875, 0.6875)


def test_encoder_odometry_drives_a_circle_back_home():
    odo = EncoderOdometry(0.035, 0.2, x_m=1.0, y_m=2.0, yaw_rad=0.5)
    left, right = wheels_for_twist(0.3, 0.6, 0.035, 0.2, 100.0)[:2]
    angles = np.zeros(2)
    dt = 0.001
    steps = round(2 * math.pi / 0.6 / dt)
    for k in range(steps + 1):
        odo.update(k, angles[0], angles[1], left, right)
        angles += np.array([left, right]) * dt
    s = odo.state
    assert (s.x_m, s.y_m) == pytest.approx((1.0, 2.0), abs=2e-3)
    assert s.v_m_s == pytest.approx(0.3) and s.omega_rad_s == pytest.approx(0.6)


def test_wheel_limit_scales_both_wheels_and_refuses_nan():
    left, right, clamped = wheels_for_twist(2.0, 1.0, 0.035, 0.2, 20.0)
    assert clamped and max(abs(left), abs(right)) == pytest.approx(20.0)
    assert right / left == pytest.approx((2.0 + 0.1) / (2.0 - 0.1))
    assert wheels_for_twist(float("nan"), 0.0, 0.035, 0.2, 20.0) == (0.0, 0.0, True)


def test_deadline_monitor_counts_late_ticks():
    mon = DeadlineMonitor(0.01)
    assert not any(mon.tick(t) for t in (0.0, 0.0101, 0.0199, 0.0302))
    assert mon.tick(0.07)  # next due 0.04: started more than a period late
    assert mon.misses == 1 and mon.skipped >= 2


def test_latency_histogram_buckets_and_percentiles():
    hist = LatencyHistogram()
    for value in [0.05] * 90 + [3.0] * 9 + [100.0]:
        hist.add(value)
    assert hist.counts.sum() == 100 and hist.counts[0] == 90 and hist.counts[-1] == 1
    assert hist.percentile(50) == pytest.approx(0.05)
    assert "gt_50ms:1" in hist.as_text()


def test_health_rules_flag_rate_latency_and_link():
    nominal = Nominal(50.0, None, 0.2, 5.0, 5.0, 3.0)
    ok = assess_status(
        "b", "OK", {"telemetry_rate_hz": "49", "rtt_ms": "0.4", "link_state": "up"}, 0.5, nominal
    )
    assert ok == []
    bad = assess_status("b", "OK", {"telemetry_rate_hz": "30", "link_state": "lost"}, 0.5, nominal)
    assert {f.level for f in bad} == {"WARN", "ERROR"}
    slow = assess_status("p", "OK", {"latency_ms_p99": "7.5"}, 0.5, nominal)
    assert slow and "latency p99 7.50 ms" in slow[0].message
    assert assess_status("p", "OK", {}, 10.0, nominal)[0].level == "STALE"


def test_bench_pairs_each_wire_command_with_the_odometry_it_came_from():
    from robocoord_ros.bench import pair_latencies_ms

    ms = 1_000_000
    policy = [(100 * ms, 101 * ms, 0.5, 0.0), (0, 105 * ms, 0.0, 0.0), (110 * ms, 111 * ms, 0.5, 0.0)]
    # the bridge missed the second command; the third is identical in value to the first
    bridge = [(102 * ms, 103 * ms, 0.5, 0.0), (112 * ms, 113 * ms, 0.5, 0.0)]
    assert pair_latencies_ms(policy, bridge) == pytest.approx([3.0, 3.0])
    # a command from the watchdog (no odometry stamp) gives no latency sample
    assert pair_latencies_ms(policy, [(106 * ms, 107 * ms, 0.0, 0.0)]) == []


def test_raw_twist_matches_rclpy():
    from geometry_msgs.msg import Twist

    from robocoord_ros.cdr import twist

    msg = Twist()
    msg.linear.x, msg.linear.y, msg.angular.z = 0.42, -1.0, -2.5
    assert twist(serialize_message(msg)) == (0.42, -2.5)
