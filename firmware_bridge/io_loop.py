"""IoLoop: one thread per process that serves every SerialLink's port.

A selector (epoll on Linux) waits on the file descriptors of all open ports at once; a
deadline heap drives heartbeats, link-timeout checks and reconnect backoff from the same
loop. Per message that is one wake-up and one ``os.read`` for all robots together, instead
of a reader thread and a heartbeat thread per robot handing the GIL back and forth.

Only the loop thread touches the selector and runs timers; other threads hand work over
with :meth:`IoLoop.call_soon` / :meth:`IoLoop.run_in_loop` (a byte on a wake-up pipe).
Callbacks must not block: they delay every port of the process.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import selectors
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

_log = logging.getLogger(__name__)
_MAX_SLEEP_S = 0.5


class Timer:
    """A scheduled call; :meth:`cancel` before it runs and it never does."""

    __slots__ = ("when", "fn", "cancelled")

    def __init__(self, when: float, fn: Callable[[], None]):
        self.when = when
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class IoLoop:
    """Selector + deadline heap on one daemon thread. Use :meth:`shared` (one per process)."""

    _shared: IoLoop | None = None
    _shared_pid: int | None = None
    _shared_lock = threading.Lock()

    @classmethod
    def shared(cls) -> IoLoop:
        with cls._shared_lock:
            # A forked child inherits the object but not the thread: it gets its own loop.
            if cls._shared is None or cls._shared_pid != os.getpid():
                cls._shared = cls()
                cls._shared_pid = os.getpid()
            return cls._shared

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._lock = threading.Lock()  # guards _timers and _calls (never held across a syscall)
        self._timers: list[tuple[float, int, Timer]] = []
        self._order = itertools.count()
        self._calls: deque[Callable[[], None]] = deque()
        self._thread = threading.Thread(target=self._run, name="serial-io-loop", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ scheduling (any thread)

    def in_loop(self) -> bool:
        return threading.current_thread() is self._thread

    def _wake(self) -> None:
        # Always a byte (cross-thread calls are rare: open, close, timers set from other threads); a
        # "wake pending" flag skipping the write can race with the drain and lose a wake-up.
        try:
            os.write(self._wake_w, b"x")
        except BlockingIOError:
            pass  # the pipe is full of wake-ups already

    def call_at(self, when: float, fn: Callable[[], None]) -> Timer:
        timer = Timer(when, fn)
        with self._lock:
            earliest = not self._timers or when < self._timers[0][0]
            heapq.heappush(self._timers, (when, next(self._order), timer))
        if earliest and not self.in_loop():
            self._wake()
        return timer

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Timer:
        return self.call_at(time.monotonic() + delay_s, fn)

    def call_soon(self, fn: Callable[[], None]) -> None:
        self._calls.append(fn)  # deque.append is atomic
        if not self.in_loop():
            self._wake()

    def run_in_loop(self, fn: Callable[[], Any], timeout_s: float = 5.0) -> Any:
        """Run ``fn`` on the loop thread and return its result (inline when called from the loop)."""
        if self.in_loop() or not self._thread.is_alive():
            return fn()
        done = threading.Event()
        box: list[Any] = [None, None]

        def call() -> None:
            try:
                box[0] = fn()
            except BaseException as err:  # handed back to the caller
                box[1] = err
            finally:
                done.set()

        self.call_soon(call)
        if not done.wait(timeout_s):
            raise TimeoutError(f"I/O loop did not run {fn!r} within {timeout_s} s")
        if box[1] is not None:
            raise box[1]
        return box[0]

    # ------------------------------------------------------------------ file descriptors (loop thread)

    def add_reader(self, fd: int, on_readable: Callable[[], None]) -> None:
        self._selector.register(fd, selectors.EVENT_READ, on_readable)

    def remove_reader(self, fd: int) -> None:
        try:
            self._selector.unregister(fd)
        except (KeyError, ValueError):
            pass

    # ------------------------------------------------------------------ the loop

    def _run(self) -> None:
        select = self._selector.select
        timers = self._timers
        calls = self._calls
        monotonic = time.monotonic
        while True:
            while calls:
                self._guard(calls.popleft())
            now = monotonic()
            due: list[Timer] = []
            with self._lock:
                while timers and timers[0][0] <= now:
                    due.append(heapq.heappop(timers)[2])
                # capped: even a lost wake-up could only delay a call by this much
                timeout = _MAX_SLEEP_S if not timers else min(_MAX_SLEEP_S, max(0.0, timers[0][0] - now))
            if due:
                for timer in due:
                    if not timer.cancelled:
                        self._guard(timer.fn)
                continue  # timers may have queued calls or new, earlier timers
            if calls:
                continue
            for key, _ in select(timeout):
                handler = key.data
                if handler is None:
                    try:
                        while os.read(self._wake_r, 4096):
                            pass
                    except BlockingIOError:
                        pass
                else:
                    self._guard(handler)

    @staticmethod
    def _guard(fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:  # a failing callback must not stop the other ports
            _log.exception("serial I/O loop: callback %r raised", fn)
