"""SerialLink against the virtual MCU and scripted pty peers: loss, reconnect, versions, counters."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
from fwb_peers import PtyPeer

from robocoord.firmware_bridge.codec import FrameDecoder, encode
from robocoord.firmware_bridge.link import LinkTimeout, ProtocolVersionError, SerialLink
from robocoord.firmware_bridge.protocol_tables import Hello, HelloAck, Telemetry, WheelCommand
from robocoord.firmware_bridge.vmcu_client import VirtualMcu

DEADLINE_S = 5.0


def telemetry(seq: int) -> Telemetry:
    return Telemetry(seq, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7400, 0, seq)


def test_telemetry_flows_and_stats_count_it(mcu: VirtualMcu) -> None:
    with SerialLink(mcu.ports[0], 0) as link:
        link.open(wait_s=DEADLINE_S)
        ack = link.hello()
        assert ack.robot_id == 0 and ack.protocol_version == 1
        for i in range(20):
            seq = link.send_wheels(1.0 + i * 0.1, 1.0)
            link.wait_telemetry(lambda t, s=seq: t.last_cmd_seq == s)
        stats = link.stats()
    assert stats.link_up and stats.port_open and stats.handshake_ok
    assert stats.frames_out >= 21 and stats.frames_in >= 21
    assert stats.crc_errors == stats.resyncs == stats.wrong_robot_id == 0
    assert stats.rtt_samples >= 20 and stats.rtt_ms_p50 is not None and stats.rtt_ms_p50 > 0


def test_frozen_mcu_is_reported_down_within_three_heartbeat_periods(mcu: VirtualMcu) -> None:
    period_s = 0.3
    went_down = threading.Event()
    down_at: list[float] = []

    def on_change(up: bool) -> None:
        if not up:
            down_at.append(time.monotonic())
            went_down.set()

    with SerialLink(mcu.ports[1], 1, heartbeat_period_s=period_s, on_link_change=on_change) as link:
        link.open(wait_s=DEADLINE_S)
        mcu.freeze(1, seconds=1.5)
        assert went_down.wait(DEADLINE_S)
        stats = link.stats()
        assert stats.last_rx_age_s is not None
        last_rx_at = time.monotonic() - stats.last_rx_age_s
        assert down_at[0] - last_rx_at <= 3 * period_s
        assert not stats.link_up and stats.port_open  # the port is fine; the MCU is silent
        assert link.wait_link(True, DEADLINE_S)  # and it comes back when the MCU does


def test_link_recovers_by_itself_when_the_pty_is_closed_and_reopened(mcu: VirtualMcu) -> None:
    with SerialLink(mcu.ports[2], 2, reconnect_min_s=0.02, reconnect_max_s=0.2) as link:
        link.open(wait_s=DEADLINE_S)
        mcu.unplug(2, seconds=0.5)
        assert link.wait_link(False, DEADLINE_S)
        assert link.wait_link(True, DEADLINE_S)
        # Really talking again: a new command is answered through the reopened pty.
        seq = link.send_wheels(2.0, 2.0)
        assert link.wait_telemetry(lambda t: t.last_cmd_seq == seq).cmd_left_rad_s == 2.0
        stats = link.stats()
    assert stats.reconnects == 1 and stats.handshake_ok


def test_firmware_refuses_another_protocol_version(mcu: VirtualMcu) -> None:
    with SerialLink(mcu.ports[3], 3, protocol_version=2, handshake=False) as link:
        with pytest.raises(
            ProtocolVersionError, match="firmware speaks protocol version 1, this host speaks version 2"
        ):
            link.hello()
    assert mcu.robot_status(3)["firmware"]["version_errors"] == 1


def test_host_refuses_a_firmware_hello_ack_of_another_version(pty_peer: PtyPeer) -> None:
    decoder = FrameDecoder()
    with SerialLink(pty_peer.path, 4, handshake=False) as link:
        replies: list[str] = []

        def answer_hello() -> None:
            deadline = time.monotonic() + DEADLINE_S
            while time.monotonic() < deadline:
                for frame in decoder.feed(os.read(pty_peer.master, 4096)):
                    if isinstance(frame.message, Hello):
                        pty_peer.write(encode(HelloAck(9, 0x0200, 4, 0), 4, 0))
                        replies.append("sent")
                        return

        responder = threading.Thread(target=answer_hello)
        responder.start()
        with pytest.raises(ProtocolVersionError, match="firmware speaks protocol version 9"):
            link.hello()
        responder.join()
        assert replies == ["sent"] and not link.stats().handshake_ok


def test_corrupt_and_misaddressed_frames_are_counted_and_dropped(pty_peer: PtyPeer) -> None:
    with SerialLink(pty_peer.path, 5, handshake=False) as link:
        bad = bytearray(encode(telemetry(1), 5, 1))
        bad[6] ^= 0x20
        pty_peer.write(bytes(bad) + encode(telemetry(2), 6, 2) + encode(telemetry(3), 5, 3))
        assert link.wait_telemetry(lambda t: t.last_cmd_seq == 3, DEADLINE_S)
        stats = link.stats()
        assert link.telemetry.qsize() == 1  # only the good frame for robot 5 was delivered
    assert stats.crc_errors + stats.framing_errors == 1 and stats.resyncs == 1
    assert stats.wrong_robot_id == 1


def test_full_telemetry_queue_drops_the_oldest_and_counts(pty_peer: PtyPeer) -> None:
    with SerialLink(pty_peer.path, 5, handshake=False, telemetry_queue_size=4) as link:
        pty_peer.write(b"".join(encode(telemetry(i), 5, i) for i in range(10)))
        link.wait_telemetry(lambda t: t.last_cmd_seq == 9, DEADLINE_S)
        assert [link.telemetry.get_nowait().last_cmd_seq for _ in range(4)] == [6, 7, 8, 9]
        assert link.stats().drops == 6


def test_a_callback_consumer_gets_every_frame_and_nothing_counts_as_dropped(pty_peer: PtyPeer) -> None:
    got: list[int] = []
    last = threading.Event()

    def consume(t: Telemetry) -> None:
        got.append(t.last_cmd_seq)
        if t.last_cmd_seq == 9:
            last.set()

    with SerialLink(pty_peer.path, 5, handshake=False, telemetry_queue_size=4, on_telemetry=consume) as link:
        pty_peer.write(b"".join(encode(telemetry(i), 5, i) for i in range(10)))
        assert last.wait(DEADLINE_S)
        assert got == list(range(10)) and link.telemetry.empty()
        assert link.stats().drops == 0


def test_loop_url_is_accepted() -> None:
    # loop:// echoes what we send; our own WheelCommand comes back as a valid frame for this robot.
    with SerialLink("loop://", 7, handshake=False) as link:
        link.send_wheels(1.0, -1.0)
        deadline = time.monotonic() + DEADLINE_S
        while link.stats().frames_in < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        stats = link.stats()
    assert stats.frames_out >= 1 and stats.frames_in >= 1 and stats.crc_errors == 0


def test_socket_url_is_accepted() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            # pyserial flushes its input right after connecting; speak once the link has spoken
            # (it sends a leading delimiter on every open).
            conn.recv(1024)
            conn.sendall(encode(telemetry(42), 1, 1))
            while conn.recv(1024):  # hold the connection until the link closes
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with SerialLink(f"socket://127.0.0.1:{port}", 1, handshake=False) as link:
            assert link.wait_telemetry(lambda t: t.last_cmd_seq == 42, DEADLINE_S).battery_mv == 7400
    finally:
        server.close()


def test_open_with_wait_names_the_missing_port() -> None:
    link = SerialLink("/dev/does-not-exist-robocoord", 1, reconnect_max_s=0.05)
    with pytest.raises(LinkTimeout, match="does-not-exist-robocoord"):
        link.open(wait_s=0.3)
    link.close()
    assert link.send(WheelCommand(0, 0)) is None and link.stats().tx_dropped == 1


def test_hello_naming_another_version_in_its_payload_is_a_version_error(mcu: VirtualMcu) -> None:
    # Header version matches (1), but the Hello payload claims version 3: the firmware's
    # Nack(VERSION_MISMATCH) still surfaces as a ProtocolVersionError, not a generic rejection.
    with SerialLink(mcu.ports[4], 4, handshake=False) as link:
        link.open(wait_s=DEADLINE_S)
        with pytest.raises(ProtocolVersionError, match="firmware speaks protocol version 1"):
            link.request(Hello(protocol_version=3, host_version=1, capabilities=0))
