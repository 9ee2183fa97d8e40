"""SerialLink: the host end of one robot's serial line.

All links of a process share one I/O thread (:mod:`robocoord.firmware_bridge.io_loop`):
a selector over every port's file descriptor reads and decodes frames, answers pending
requests, keeps the latest telemetry and a bounded telemetry queue; timers on the same
loop send heartbeats (feeding the firmware watchdog), decide link up/down from the age of
the last valid frame, and reopen a port that disappeared (USB unplug, pty closed) with
exponential backoff. Sends are non-blocking ``os.write`` calls on the caller's thread.

Any pyserial port name or URL works (``/dev/ttyUSB0``, ``loop://``, ``socket://host:port``);
ports pyserial does not open as a plain posix file descriptor (URL transports) get a
reader thread of their own and blocking pyserial writes, as before.

Thread safety: every public method may be called from any thread. ``request()`` (and
``hello``/``estop``/...) must not be called from the link's own callbacks.
"""

from __future__ import annotations

import collections
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import serial
import serial.serialposix

from robocoord.firmware_bridge.codec import Frame, FrameDecoder, encode, spec_for
from robocoord.firmware_bridge.io_loop import IoLoop, Timer
from robocoord.firmware_bridge.protocol_tables import (
    BROADCAST_ROBOT_ID,
    PROTOCOL_VERSION,
    Ack,
    Capabilities,
    ClearEStop,
    EStop,
    Heartbeat,
    Hello,
    HelloAck,
    Message,
    Nack,
    NackCode,
    SetLimits,
    Telemetry,
    VelocityCommand,
    WheelCommand,
)

HOST_SOFTWARE_VERSION = 0x0100
_PENDING_LIMIT = 64  # outstanding RTT probes kept; older ones are forgotten
_HELLO_ID = spec_for(Hello).msg_id


class LinkError(RuntimeError):
    pass


class LinkTimeout(LinkError):
    pass


class ProtocolVersionError(LinkError):
    """The firmware speaks another protocol version; nothing else can be exchanged safely."""


class CommandRejected(LinkError):
    def __init__(self, nack: Nack):
        self.nack = nack
        try:
            code = NackCode(nack.code).name
        except ValueError:
            code = f"code {nack.code}"
        super().__init__(f"firmware refused message type {nack.acked_type} (seq {nack.acked_seq}): {code}")


@dataclass(frozen=True)
class LinkStats:
    link_up: bool
    port_open: bool
    handshake_ok: bool
    frames_in: int
    frames_out: int
    bytes_in: int
    bytes_out: int
    crc_errors: int
    framing_errors: int  # bad stuffing, too short, wrong payload length, oversize
    resyncs: int  # times the decoder dropped bytes up to the next delimiter
    drops: int  # telemetry dropped from the full queue (a poller fell behind; never with on_telemetry)
    tx_dropped: int  # sends refused because the port was closed or blocked
    wrong_robot_id: int
    unknown_type: int
    version_mismatch: int
    nacks: int
    reconnects: int
    rtt_ms_last: float | None
    rtt_ms_p50: float | None
    rtt_ms_p99: float | None
    rtt_samples: int
    last_rx_age_s: float | None
    last_error: str | None = None
    firmware: dict[str, int] = field(default_factory=dict)  # from HelloAck

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Pending:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.reply: Message | None = None
        self.error: LinkError | None = None


class SerialLink:
    """Host side of one robot link. ``open()`` joins the I/O loop; use as a context manager."""

    def __init__(
        self,
        port: str,
        robot_id: int,
        *,
        baudrate: int = 115200,
        heartbeat_period_s: float = 0.1,
        link_timeout_s: float | None = None,
        telemetry_queue_size: int = 256,
        reconnect_min_s: float = 0.05,
        reconnect_max_s: float = 1.0,
        handshake: bool = True,
        on_telemetry: Callable[[Telemetry], None] | None = None,
        on_link_change: Callable[[bool], None] | None = None,
        protocol_version: int = PROTOCOL_VERSION,
    ):
        if not 0 <= robot_id < BROADCAST_ROBOT_ID:
            raise ValueError(f"robot_id must be 0..{BROADCAST_ROBOT_ID - 1}, got {robot_id}")
        if heartbeat_period_s <= 0:
            raise ValueError("heartbeat_period_s must be positive")
        self.port = port
        self.robot_id = robot_id
        self.baudrate = baudrate
        self.heartbeat_period_s = heartbeat_period_s
        # 2.5 periods: one lost heartbeat reply is tolerated, and with checks every quarter
        # period the link is reported down within 3 periods of the last frame.
        self.link_timeout_s = link_timeout_s if link_timeout_s is not None else 2.5 * heartbeat_period_s
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = reconnect_max_s
        self.handshake = handshake
        self.on_telemetry = on_telemetry
        self.on_link_change = on_link_change
        # Only a test of version negotiation sets this to anything but ours.
        self.protocol_version = protocol_version
        self.telemetry: queue.Queue[Telemetry] = queue.Queue(maxsize=telemetry_queue_size)

        self._serial: serial.SerialBase | None = None
        self._fd: int | None = None  # the port's fd when the I/O loop selects on it
        # Held for seq + encode + one non-blocking write, and to swap the port: a send never
        # writes to a descriptor that was closed (and maybe reused) under it.
        self._write_lock = threading.Lock()
        self._tx_resync = False  # a partial write broke a frame: start the next one with a delimiter
        self._state_lock = threading.Lock()
        self._opened = False
        self._closing = False
        self._io: IoLoop | None = None
        self._tick_timer: Timer | None = None
        self._reopen_timer: Timer | None = None
        self._backoff_s = reconnect_min_s
        self._next_beat = 0.0
        self._rx_thread: threading.Thread | None = None  # URL transports without a plain fd only
        self._decoder = FrameDecoder()
        self._seq = 0
        self._latest: Telemetry | None = None
        self._telemetry_cond = threading.Condition(self._state_lock)
        self._last_rx: float | None = None
        self._link_up = False
        self._link_cond = threading.Condition(self._state_lock)
        self._handshake_ok = False
        self._firmware: dict[str, int] = {}
        self._pending: dict[tuple[int, int], _Pending] = {}
        self._hello_pending: _Pending | None = None
        self._probe_sent: collections.OrderedDict[tuple[str, int], float] = collections.OrderedDict()
        self._rtt_ms: collections.deque[float] = collections.deque(maxlen=1000)
        self._last_error: str | None = None
        self._counts = dict.fromkeys(
            (
                "frames_in",
                "frames_out",
                "bytes_in",
                "bytes_out",
                "drops",
                "tx_dropped",
                "wrong_robot_id",
                "nacks",
                "reconnects",
                "opens",
            ),
            0,
        )

    # ------------------------------------------------------------------ lifecycle

    def open(self, wait_s: float | None = None) -> SerialLink:
        """Join the I/O loop and open the port. With ``wait_s``, block until the link is up."""
        if not self._opened:
            self._opened = True
            self._closing = False
            self._backoff_s = self.reconnect_min_s
            io = self._io = IoLoop.shared()
            # First attempt now, so a present port is usable as soon as open() returns; the loop
            # keeps retrying (with backoff) if it is not there yet.
            io.run_in_loop(self._start_in_loop)
        if wait_s is not None and not self.wait_link(True, wait_s):
            detail = f": {self._last_error}" if self._last_error else ""
            raise LinkTimeout(f"robot {self.robot_id} on {self.port}: link not up after {wait_s} s{detail}")
        return self

    def close(self) -> None:
        if not self._opened:
            return
        self._closing = True
        io = self._io
        if io is not None:
            io.run_in_loop(self._stop_in_loop)
        thread, self._rx_thread = self._rx_thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)
        self._close_port()
        self._opened = False

    def __enter__(self) -> SerialLink:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ sending

    def send(self, message: Message) -> int | None:
        """Encode and write one message; returns its seq, or None if the port is not open."""
        return self._send(message)

    def _send(self, message: Message, before_write: Callable[[int], None] | None = None) -> int | None:
        with self._write_lock:
            seq = self._seq
            self._seq = (seq + 1) & 0xFFFF
            frame = encode(message, self.robot_id, seq, version=self.protocol_version)
            port = self._serial
            if port is None:
                self._counts["tx_dropped"] += 1
                return None
            if before_write is not None:
                before_write(seq)  # registered before the reply can possibly arrive
            # The RTT probe too: the I/O thread may handle the reply before this thread runs again.
            probe: tuple[str, int] | None = None
            if self._link_up:  # RTT describes a live link; replies to frames sent into an outage would not
                if isinstance(message, WheelCommand | VelocityCommand):
                    probe = ("cmd", seq)
                elif isinstance(message, Heartbeat):
                    probe = ("hb", seq)
            sent_at = time.monotonic()
            if probe is not None:
                self._remember_probe(probe, sent_at)
            if not self._write_locked(port, frame):
                if probe is not None:
                    with self._state_lock:
                        self._probe_sent.pop(probe, None)
                return None
            self._counts["frames_out"] += 1
        return seq

    def _write_locked(self, port: serial.SerialBase, data: bytes) -> bool:
        """One write with ``_write_lock`` held; False (counted in tx_dropped) when it did not go out whole."""
        fd = self._fd
        if fd is None:
            try:
                port.write(data)
            except (serial.SerialException, OSError):
                # The reader notices the dead port and reconnects.
                self._counts["tx_dropped"] += 1
                return False
            self._counts["bytes_out"] += len(data)
            return True
        if self._tx_resync:
            data = b"\x00" + data
        try:
            # Non-blocking: a full output buffer (frozen peer) refuses the frame instead of stalling
            # the caller; a vanished port shows up on the read side, which reconnects.
            written = os.write(fd, data)
        except OSError:
            self._counts["tx_dropped"] += 1
            return False
        self._tx_resync = False
        self._counts["bytes_out"] += written
        if written < len(data):
            self._tx_resync = True  # the firmware drops the torn frame at the next delimiter
            self._counts["tx_dropped"] += 1
            return False
        return True

    def send_wheels(self, left_rad_s: float, right_rad_s: float) -> int | None:
        """Wheel speed setpoints [rad/s]; out-of-range values raise ValueError before anything is sent."""
        return self.send(WheelCommand.from_si(left_rad_s=left_rad_s, right_rad_s=right_rad_s))

    def send_velocity(self, v_m_s: float, omega_rad_s: float) -> int | None:
        return self.send(VelocityCommand.from_si(v_m_s=v_m_s, omega_rad_s=omega_rad_s))

    def request(self, message: Message, timeout_s: float = 0.5) -> Message:
        """Send and wait for the firmware's Ack (HelloAck for Hello); a Nack raises CommandRejected."""
        pending = _Pending()
        msg_id = spec_for(type(message)).msg_id

        def register(seq: int) -> None:
            if msg_id == _HELLO_ID:
                self._hello_pending = pending
            self._pending[(msg_id, seq)] = pending

        if self._io is not None and self._io.in_loop():
            raise LinkError(
                f"robot {self.robot_id}: request() from a link callback would block the I/O loop; use send()"
            )
        seq = self._send(message, register)
        if seq is None:
            raise LinkError(f"robot {self.robot_id} on {self.port}: port not open ({self._last_error})")
        try:
            if not pending.event.wait(timeout_s):
                raise LinkTimeout(
                    f"robot {self.robot_id}: no reply to {type(message).__name__} within {timeout_s} s"
                )
        finally:
            self._pending.pop((msg_id, seq), None)
        if pending.error is not None:
            raise pending.error
        assert pending.reply is not None
        return pending.reply

    def hello(self, timeout_s: float = 0.5) -> HelloAck:
        reply = self.request(
            Hello(
                protocol_version=self.protocol_version,
                host_version=HOST_SOFTWARE_VERSION,
                capabilities=int(Capabilities.WHEEL_COMMAND | Capabilities.VELOCITY_COMMAND),
            ),
            timeout_s,
        )
        assert isinstance(reply, HelloAck)
        return reply

    def estop(self, timeout_s: float = 0.5) -> Ack:
        reply = self.request(EStop(), timeout_s)
        assert isinstance(reply, Ack)
        return reply

    def clear_estop(self, timeout_s: float = 0.5) -> Ack:
        reply = self.request(ClearEStop(), timeout_s)
        assert isinstance(reply, Ack)
        return reply

    def set_limits(
        self,
        max_wheel_speed_rad_s: float,
        max_wheel_accel_rad_s2: float,
        watchdog_ms: int,
        timeout_s: float = 0.5,
    ) -> Ack:
        reply = self.request(
            SetLimits.from_si(
                max_wheel_speed_rad_s=max_wheel_speed_rad_s,
                max_wheel_accel_rad_s2=max_wheel_accel_rad_s2,
                watchdog_ms=watchdog_ms,
            ),
            timeout_s,
        )
        assert isinstance(reply, Ack)
        return reply

    # ------------------------------------------------------------------ receiving

    @property
    def latest_telemetry(self) -> Telemetry | None:
        with self._state_lock:
            return self._latest

    def wait_telemetry(
        self, predicate: Callable[[Telemetry], bool] = lambda t: True, timeout_s: float = 1.0
    ) -> Telemetry:
        """Block until a telemetry frame (the latest one, re-checked on each arrival) satisfies ``predicate``."""
        deadline = time.monotonic() + timeout_s
        with self._telemetry_cond:
            while True:
                if self._latest is not None and predicate(self._latest):
                    return self._latest
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LinkTimeout(f"robot {self.robot_id}: no matching telemetry within {timeout_s} s")
                self._telemetry_cond.wait(remaining)

    def wait_link(self, up: bool, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        with self._link_cond:
            while self._link_up != up:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._link_cond.wait(remaining)
            return True

    @property
    def link_up(self) -> bool:
        with self._state_lock:
            return self._link_up

    def stats(self) -> LinkStats:
        c = self._decoder.counters
        with self._state_lock:
            rtts = sorted(self._rtt_ms)
            last_rx = self._last_rx
            return LinkStats(
                link_up=self._link_up,
                port_open=self._serial is not None,
                handshake_ok=self._handshake_ok,
                frames_in=self._counts["frames_in"],
                frames_out=self._counts["frames_out"],
                bytes_in=self._counts["bytes_in"],
                bytes_out=self._counts["bytes_out"],
                crc_errors=c.crc_errors,
                framing_errors=c.framing_errors + c.length_errors + c.oversize,
                resyncs=c.resyncs,
                drops=self._counts["drops"],
                tx_dropped=self._counts["tx_dropped"],
                wrong_robot_id=self._counts["wrong_robot_id"],
                unknown_type=c.unknown_type,
                version_mismatch=c.version_mismatch,
                nacks=self._counts["nacks"],
                reconnects=self._counts["reconnects"],
                rtt_ms_last=self._rtt_ms[-1] if self._rtt_ms else None,
                rtt_ms_p50=_percentile(rtts, 0.50),
                rtt_ms_p99=_percentile(rtts, 0.99),
                rtt_samples=len(rtts),
                last_rx_age_s=None if last_rx is None else time.monotonic() - last_rx,
                last_error=self._last_error,
                firmware=dict(self._firmware),
            )

    # ------------------------------------------------------------------ port and timers (I/O loop)

    def _start_in_loop(self) -> None:
        io = self._io
        assert io is not None
        if not self._open_port():
            self._schedule_reopen()
        self._next_beat = time.monotonic()
        self._tick_timer = io.call_later(self.heartbeat_period_s / 4, self._tick)

    def _stop_in_loop(self) -> None:
        for timer in (self._tick_timer, self._reopen_timer):
            if timer is not None:
                timer.cancel()
        self._tick_timer = self._reopen_timer = None
        self._close_port()

    def _open_port(self) -> bool:
        try:
            port = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=0.05, write_timeout=0.05)
        except (serial.SerialException, OSError, ValueError) as err:
            self._last_error = f"cannot open {self.port}: {err}"
            return False
        set_low_latency = getattr(port, "set_low_latency_mode", None)
        if set_low_latency is not None:
            try:
                set_low_latency(True)  # FTDI/CDC: no 16 ms latency timer batching
            except (OSError, ValueError, serial.SerialException):
                pass  # ptys and some adapters have no such setting
        # A plain posix port is served by the I/O loop's selector and written with os.write;
        # URL transports (loop://, socket://, ...) keep pyserial's own read/write.
        fd = port.fd if type(port) is serial.serialposix.Serial else None
        if fd is not None:
            os.set_blocking(fd, False)
        self._decoder.reset()
        with self._write_lock:
            self._serial = port
            self._fd = fd
            self._tx_resync = False
        if self._counts["opens"] > 0:
            self._counts["reconnects"] += 1
        self._counts["opens"] += 1
        io = self._io
        assert io is not None
        if fd is not None:
            io.add_reader(fd, lambda: self._on_readable(port, fd))
        else:
            thread = threading.Thread(
                target=self._reader, args=(port,), name=f"serial-link-{self.robot_id}-rx", daemon=True
            )
            self._rx_thread = thread
            thread.start()
        # A leading delimiter ends whatever half frame the firmware may be holding.
        self._write_raw(b"\x00")
        if self.handshake:
            self._send_hello_async()
        return True

    def _write_raw(self, data: bytes) -> None:
        with self._write_lock:
            if self._serial is not None:
                self._write_locked(self._serial, data)

    def _send_hello_async(self) -> None:
        self._send(
            Hello(
                protocol_version=self.protocol_version,
                host_version=HOST_SOFTWARE_VERSION,
                capabilities=int(Capabilities.WHEEL_COMMAND | Capabilities.VELOCITY_COMMAND),
            )
        )

    def _close_port(self) -> None:
        with self._write_lock:
            port, self._serial = self._serial, None
            fd, self._fd = self._fd, None
        if fd is not None and self._io is not None:
            self._io.remove_reader(fd)  # before the close: the number may be reused at once
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                pass
        with self._state_lock:
            self._handshake_ok = False  # whatever answers after a reopen must say Hello again
        self._set_link(False)

    def _port_lost(self, port: serial.SerialBase, error: str) -> None:
        """On the loop: the port failed (read error, EOF). Close it and start reconnecting."""
        if port is not self._serial or self._closing:
            return  # already replaced or closing
        self._last_error = f"{self.port}: {error}"
        self._close_port()
        self._backoff_s = self.reconnect_min_s
        self._reopen()  # at once, then with backoff

    def _schedule_reopen(self) -> None:
        io = self._io
        assert io is not None
        self._reopen_timer = io.call_later(self._backoff_s, self._reopen)
        self._backoff_s = min(2.0 * self._backoff_s, self.reconnect_max_s)

    def _reopen(self) -> None:
        self._reopen_timer = None
        if self._closing or self._serial is not None:
            return
        if self._open_port():
            self._backoff_s = self.reconnect_min_s
        else:
            self._schedule_reopen()

    def _on_readable(self, port: serial.SerialBase, fd: int) -> None:
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return
        except OSError as err:  # EIO: the pty's other end closed, the USB adapter went away
            self._port_lost(port, str(err))
            return
        if not data:
            self._port_lost(port, "device reports readiness to read but returned no data (disconnected?)")
            return
        self._counts["bytes_in"] += len(data)
        for frame in self._decoder.feed(data):
            self._handle(frame)

    def _reader(self, port: serial.SerialBase) -> None:
        """Reader thread of a URL transport without a plain fd: pyserial reads with a short timeout."""
        while not self._closing and port is self._serial:
            try:
                data = port.read(port.in_waiting or 1)  # type: ignore[union-attr]
            except (serial.SerialException, OSError, TypeError, AttributeError) as err:
                # TypeError/AttributeError: pyserial's read can trip over a port closed under it.
                io = self._io
                if io is not None:
                    io.call_soon(lambda err=err: self._port_lost(port, str(err)))
                return
            if data:
                self._counts["bytes_in"] += len(data)
                for frame in self._decoder.feed(data):
                    self._handle(frame)

    def _tick(self) -> None:
        """Every quarter heartbeat period on the loop: heartbeat when due, link up/down from frame age."""
        now = time.monotonic()
        io = self._io
        if self._closing or io is None:
            return
        self._tick_timer = io.call_at(now + self.heartbeat_period_s / 4, self._tick)
        if now >= self._next_beat:
            self._next_beat = now + self.heartbeat_period_s
            if self._serial is not None:
                self.send(Heartbeat(time_ms=int(now * 1000) & 0xFFFFFFFF, fault_flags=0, echo_seq=0))
        last_rx = self._last_rx
        fresh = last_rx is not None and now - last_rx < self.link_timeout_s
        self._set_link(fresh and self._serial is not None)

    def _set_link(self, up: bool) -> None:
        with self._link_cond:
            if up == self._link_up:
                return
            self._link_up = up
            if not up:
                # Replies still queued in a stalled line would report the stall, not the link.
                self._probe_sent.clear()
            self._link_cond.notify_all()
        if self.on_link_change is not None:
            self.on_link_change(up)

    # ------------------------------------------------------------------ frames

    def _handle(self, frame: Frame) -> None:
        now = time.monotonic()
        version = frame.version  # header fields are computed from frame.raw: read each once
        if version != PROTOCOL_VERSION or version != self.protocol_version:
            self._version_mismatch(version)
            return
        if frame.robot_id != self.robot_id:
            self._counts["wrong_robot_id"] += 1
            return
        message = frame.message
        if message is None:
            return  # unknown type: counted by the decoder
        self._counts["frames_in"] += 1
        self._last_rx = now  # one reference store: readers need no lock
        if not self._link_up and self._serial is not None:
            self._set_link(True)
        if isinstance(message, Telemetry):
            self._on_telemetry(message, now)
        elif isinstance(message, Heartbeat):
            self._record_rtt(("hb", message.echo_seq), now)
        elif isinstance(message, HelloAck):
            self._on_hello_ack(message)
        elif isinstance(message, Ack):
            self._resolve((message.acked_type, message.acked_seq), reply=message)
        elif isinstance(message, Nack):
            self._counts["nacks"] += 1
            if message.code == NackCode.VERSION_MISMATCH:
                # Same header version, but our Hello named another one: still a version problem.
                self._version_mismatch(message.detail)
            self._resolve((message.acked_type, message.acked_seq), error=CommandRejected(message))

    def _on_telemetry(self, message: Telemetry, now: float) -> None:
        self._record_rtt(("cmd", message.last_cmd_seq), now)
        with self._telemetry_cond:
            self._latest = message
            self._telemetry_cond.notify_all()
        if self.on_telemetry is not None:
            # A consumer with a callback gets every frame there; the queue is for pollers. Filling
            # a queue nobody drains would count every frame past its size as a "drop".
            self.on_telemetry(message)
            return
        try:
            self.telemetry.put_nowait(message)
        except queue.Full:
            # Keep the freshest: a consumer that fell behind wants now, not the backlog.
            try:
                self.telemetry.get_nowait()
            except queue.Empty:
                pass
            self._counts["drops"] += 1
            try:
                self.telemetry.put_nowait(message)
            except queue.Full:
                pass

    def _on_hello_ack(self, ack: HelloAck) -> None:
        pending, self._hello_pending = self._hello_pending, None
        if ack.protocol_version != self.protocol_version:
            self._version_mismatch(ack.protocol_version, pending)
            return
        with self._state_lock:
            self._handshake_ok = True
            self._firmware = {"firmware_version": ack.firmware_version, "capabilities": ack.capabilities}
        if pending is not None:
            pending.reply = ack
            pending.event.set()

    def _version_mismatch(self, firmware_version: int, pending: _Pending | None = None) -> None:
        message = (
            f"robot {self.robot_id} on {self.port}: firmware speaks protocol version {firmware_version}, "
            f"this host speaks version {self.protocol_version}; refusing to talk (update one side)"
        )
        with self._state_lock:
            self._last_error = message
            self._handshake_ok = False
        pending = pending or self._hello_pending
        self._hello_pending = None
        if pending is not None:
            pending.error = ProtocolVersionError(message)
            pending.event.set()

    def _resolve(
        self, key: tuple[int, int], reply: Message | None = None, error: LinkError | None = None
    ) -> None:
        pending = self._pending.pop(key, None)
        if key[0] == _HELLO_ID:
            self._hello_pending = None
        if pending is None or pending.event.is_set():
            return  # nobody waiting, or already answered (a version mismatch says it better)
        pending.reply = reply
        pending.error = error
        pending.event.set()

    def _remember_probe(self, key: tuple[str, int], sent_at: float) -> None:
        with self._state_lock:
            self._probe_sent[key] = sent_at
            while len(self._probe_sent) > _PENDING_LIMIT:
                self._probe_sent.popitem(last=False)

    def _record_rtt(self, key: tuple[str, int], now: float) -> None:
        with self._state_lock:
            sent_at = self._probe_sent.pop(key, None)
            if sent_at is not None:
                self._rtt_ms.append((now - sent_at) * 1000.0)


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]
