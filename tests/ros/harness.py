"""Test-side ROS plumbing: a probe node that records what it hears, and deadline waits."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
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
