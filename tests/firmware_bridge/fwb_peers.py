"""Test helpers of the firmware bridge tests (not fixtures)."""

from __future__ import annotations

import os
import tty


class PtyPeer:
    """The far end of a raw pty, for tests that script what a peer sends to a SerialLink."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)
