"""The motion-capture pose stream: datagram format, refusals, streamer timing, and the virtual MCU
streaming the plant's ground-truth poses over real UDP on loopback."""

from __future__ import annotations

import math
import socket
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from robocoord.firmware_bridge.link import SerialLink
from robocoord.firmware_bridge.mocap import (
    BODY_BYTES,
    HEADER_BYTES,
    MocapError,
    MocapStreamer,
    decode_frame,
    encode_frame,
    parse_address,
    streamer_for,
)
from robocoord.firmware_bridge.vmcu_client import VirtualMcu

finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, width=32)


@given(
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
    st.dictionaries(st.integers(0, 0xFFFF), st.tuples(finite, finite, finite), max_size=50),
)
def test_frames_round_trip(frame: int, time_ms: int, poses: dict[int, tuple[float, float, float]]):
    decoded = decode_frame(encode_frame(frame, time_ms, poses))
    assert decoded.frame == frame and decoded.time_ms == time_ms
    assert decoded.poses == poses  # float32 values survive float32 exactly


@pytest.fixture
def good() -> bytes:
    return encode_frame(7, 1234, {0: (1.0, 2.0, 0.5), 3: (-1.0, 0.0, -3.0)})


def test_datagram_layout_is_the_documented_one(good: bytes):
    assert good[:4] == b"RCMC" and len(good) == HEADER_BYTES + 2 * BODY_BYTES == 16 + 2 * 14
    assert struct.unpack_from("<Hfff", good, HEADER_BYTES) == (0, 1.0, 2.0, 0.5)


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda d: d[:10], "shorter than the 16-byte header"),
        (lambda d: b"XXXX" + d[4:], "magic"),
        (lambda d: d[:4] + b"\x09" + d[5:], "version 9"),
        (lambda d: d[:-1], "bytes for 2 bodies"),
        (lambda d: d + b"\x00" * BODY_BYTES, "bytes for 2 bodies"),
        (lambda d: d[: HEADER_BYTES + 2] + struct.pack("<f", math.nan) + d[HEADER_BYTES + 6 :], "non-finite"),
    ],
)
def test_bad_datagrams_are_refused_with_the_reason(good: bytes, mangle, reason: str):
    with pytest.raises(MocapError, match=reason):
        decode_frame(mangle(good))


def test_encoder_refuses_non_finite_poses_and_big_ids():
    with pytest.raises(ValueError, match="robot 2: pose"):
        encode_frame(0, 0, {2: (math.inf, 0.0, 0.0)})
    with pytest.raises(ValueError, match="robot_id 70000"):
        encode_frame(0, 0, {70000: (0.0, 0.0, 0.0)})


def test_addresses_and_rates_are_checked():
    assert parse_address("127.0.0.1:9000") == ("127.0.0.1", 9000)
    for bad in ("127.0.0.1", ":9000", "host:0", "host:http"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            parse_address(bad)
    assert streamer_for(None, 100.0) is None
    with pytest.raises(ValueError, match="0.1..1000 Hz"):
        streamer_for("127.0.0.1:9000", 5000.0)


@pytest.fixture
def receiver():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(10.0)
    yield sock
    sock.close()


def test_streamer_sends_once_per_period_of_the_callers_clock(receiver: socket.socket):
    streamer = MocapStreamer(receiver.getsockname(), period_ms=10)
    try:
        sent = []
        for t_ms in range(0, 35):  # 1 ms ticks
            if streamer.due(t_ms):
                streamer.send(t_ms, {1: (float(t_ms), 0.0, 0.0)})
                sent.append(t_ms)
        assert sent == [0, 10, 20, 30]
        frames = [decode_frame(receiver.recv(65536)) for _ in sent]
        assert [f.frame for f in frames] == [0, 1, 2, 3]
        assert [f.time_ms for f in frames] == sent and frames[-1].poses[1][0] == 30.0
    finally:
        streamer.close()


def test_streaming_to_nobody_is_not_an_error():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    address = probe.getsockname()
    probe.close()  # nothing listens there now
    streamer = MocapStreamer(address, period_ms=1)
    try:
        for t_ms in range(5):
            streamer.send(t_ms, {0: (0.0, 0.0, 0.0)})
        assert streamer.frame == 5
    finally:
        streamer.close()


def test_virtual_mcu_streams_the_plants_ground_truth(receiver: socket.socket):
    host, port = receiver.getsockname()
    with VirtualMcu.start(robots=2, mocap_udp=f"{host}:{port}", mocap_hz=50.0) as mcu:
        first = decode_frame(receiver.recv(65536))
        assert set(first.poses) == {0, 1}
        start_x = first.poses[0][0]
        with SerialLink(mcu.ports[0], robot_id=0) as link:
            link.open(wait_s=10.0)
            last = first
            # drive robot 0 forward until the stream shows it 0.1 m further along (plant time, not wall time)
            while last.poses[0][0] - start_x < 0.1:
                link.send_wheels(5.0, 5.0)
                last = decode_frame(receiver.recv(65536))
                assert last.time_ms - first.time_ms < 20_000, "robot 0 never moved in the mocap stream"
        later = decode_frame(receiver.recv(65536))
        assert later.time_ms > first.time_ms and later.frame > first.frame
        # 50 Hz of plant time: consecutive frames are 20 ms apart
        assert decode_frame(receiver.recv(65536)).time_ms - later.time_ms in (20, 40, 60)
        assert later.poses[1] == pytest.approx(first.poses[1], abs=1e-6)  # robot 1 was never commanded
