"""Test-side ROS plumbing: a probe node that records what it hears, deadline waits, a test policy."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.005) -> float:
    """Wait for ``predicate`` up to a deadline; return the time it took. Fails naming ``what``."""
    start = time.monotonic()
    done = threading.Event()
    while not predicate():
        if time.monotonic() - start > timeout_s:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        done.wait(poll_s)
    return time.monotonic() - start


class Probe:
    """Subscribes to topics on a node of its own (added to a running FleetRuntime's executor or spun alone)."""

    def __init__(self, node: Any):
        self.node = node
        self.messages: dict[str, list[tuple[float, Any]]] = defaultdict(list)
        self.lock = threading.Lock()

    def listen(self, msg_type: type, topic: str, qos: Any) -> None:
        def callback(msg: Any, topic: str = topic) -> None:
            with self.lock:
                self.messages[topic].append((time.monotonic(), msg))

        self.node.create_subscription(msg_type, topic, callback, qos)

    def last(self, topic: str) -> Any:
        with self.lock:
            items = self.messages.get(topic)
            return items[-1][1] if items else None

    def count(self, topic: str) -> int:
        with self.lock:
            return len(self.messages.get(topic, []))

    def since(self, topic: str, t0: float) -> list[tuple[float, Any]]:
        with self.lock:
            return [(t, m) for t, m in self.messages.get(topic, []) if t >= t0]

    def status(self, name: str) -> Any:
        """The newest DiagnosticStatus called ``name`` heard on ``/diagnostics`` (listen to it first)."""
        with self.lock:
            arrays = [m for _, m in self.messages.get("/diagnostics", [])]
        for array in reversed(arrays):
            for st in array.status:
                if st.name == name:
                    return st
        return None


def odom_at(x: float, y: float, yaw: float = 0.0) -> Any:
    """An Odometry at planar pose (x [m], y [m], yaw [rad]), as the serial bridge publishes it (stamp it)."""
    from nav_msgs.msg import Odometry

    msg = Odometry()
    msg.header.frame_id = "odom"
    msg.pose.pose.position.x = x
    msg.pose.pose.position.y = y
    msg.pose.pose.orientation.z = math.sin(yaw / 2)
    msg.pose.pose.orientation.w = math.cos(yaw / 2)
    return msg


def export_gmfs_test_policy(
    path: Path, *, kappa: int = 4, rate_hz: float = 5.0, work_bias: float = 1.0
) -> Path:
    """A small GMFS-family artifact through the real exporter: Q over (one-hot s, ĝ/κ) -> intended state.

    Its weights make 'Working' the greedy action unless the sampled neighbourhood is crowded
    (ĝ[Working]/κ above ~0.5), then 'Idle' — enough structure for the node to act on.
    """
    import torch

    from robocoord.controllers.contract import DiscreteActionSpec, ObservationField, ObservationSpec
    from robocoord.training.export import export_policy, make_provenance

    net = torch.nn.Linear(6, 3)
    with torch.no_grad():
        net.weight.zero_()
        net.bias.copy_(torch.tensor([0.5, 0.0, work_bias]))
        net.weight[2, 5] = -2.0 * work_bias  # crowding at Working lowers the value of working
    observation = ObservationSpec(
        fields=[
            ObservationField(name="task_state_onehot", size=3, unit="1"),
            ObservationField(name="neighbour_state_fraction", size=3, unit="1"),
        ],
        mean=[0.0] * 6,
        std=[1.0] * 6,
    )
    action = DiscreteActionSpec(n=3, meanings=["Idle", "Transit", "Working"], safe_action=0)
    export_policy(
        net,
        path,
        family="gmfs",
        observation=observation,
        action=action,
        control_rate_hz=rate_hz,
        provenance=make_provenance("tests/ros fixture", seed=0),
        family_params={"kappa": kappa, "graphon": {"kind": "radius", "radius": 0.5}, "n_states": 3},
    )
    return path


def export_drigm_team_push_test_policy(path: Path) -> Path:
    """A 2-robot team_push DrIGM artifact through the real exporter (untrained DRQN; the contract carries the task)."""
    import torch

    from robocoord.training.drigm.config import EnvSpec, LearnerSpec
    from robocoord.training.drigm.learner import DrigmLearner, TeamDims
    from robocoord.training.drigm.train import export_agent
    from robocoord.training.export import make_provenance

    dims = TeamDims(n_agents=2, n_actions=4, obs_dim=8, state_dim=14)
    learner = DrigmLearner(mixer="vdn", robust="none", rho=0.0, dims=dims, spec=LearnerSpec(), seed=0)
    with torch.no_grad():
        for p in learner.agent.parameters():
            p.mul_(10.0)
    export_agent(
        learner,
        path,
        env=EnvSpec(task="team_push", n_agents=2, episode_steps=60),
        control_rate_hz=4.0,
        provenance=make_provenance("tests/ros fixture", seed=0),
    )
    return path
