"""Codec: round trips for every message, golden vectors, stuffing worst case, bad input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from robocoord.firmware_bridge.codec import (
    FrameDecoder,
    FrameError,
    decode_frame,
    encode,
    encode_raw,
    spec_for,
)
from robocoord.firmware_bridge.protocol_tables import (
    MAX_FRAME_BYTES,
    MESSAGE_SPECS,
    PROTOCOL_VERSION,
    Telemetry,
    WheelCommand,
)


def message_strategy(spec):  # type: ignore[no-untyped-def]
    fields = [st.integers(lo, hi) for lo, hi in zip(spec.wire_min, spec.wire_max, strict=True)]
    return st.tuples(*fields).map(lambda values: spec.cls(*values))


ANY_MESSAGE = st.one_of(*(message_strategy(spec) for spec in MESSAGE_SPECS))


@pytest.mark.parametrize("spec", MESSAGE_SPECS, ids=lambda s: s.name)
def test_round_trip_every_message(spec) -> None:  # type: ignore[no-untyped-def]
    @settings(max_examples=150, deadline=None)
    @given(message=message_strategy(spec), robot_id=st.integers(0, 255), seq=st.integers(0, 0xFFFF))
    def round_trip(message, robot_id: int, seq: int) -> None:  # type: ignore[no-untyped-def]
        wire = encode(message, robot_id, seq)
        assert wire.endswith(b"\x00") and b"\x00" not in wire[:-1]
        assert len(wire) <= MAX_FRAME_BYTES
        frame = decode_frame(wire)
        assert (frame.version, frame.msg_type, frame.robot_id, frame.seq) == (
            PROTOCOL_VERSION,
            spec.msg_id,
            robot_id,
            seq,
        )
        assert frame.message == message
        assert type(frame.message) is spec.cls

    round_trip()


@pytest.mark.parametrize("spec", [s for s in MESSAGE_SPECS if any(s.scales)], ids=lambda s: s.name)
def test_si_constructor_round_trips_within_half_a_wire_step(spec) -> None:  # type: ignore[no-untyped-def]
    def si_value(scale, lo, hi):  # type: ignore[no-untyped-def]
        if scale is None:
            return st.integers(lo, hi)
        return st.floats((lo + 1) * scale, (hi - 1) * scale, allow_nan=False)

    strategies = {
        name: si_value(scale, lo, hi)
        for name, scale, lo, hi in zip(spec.si_fields, spec.scales, spec.wire_min, spec.wire_max, strict=True)
    }

    @settings(max_examples=100, deadline=None)
    @given(values=st.fixed_dictionaries(strategies))
    def round_trip(values: dict) -> None:
        message = spec.cls.from_si(**values)
        decoded = decode_frame(encode(message, 1, 1)).message
        for name, scale in zip(spec.si_fields, spec.scales, strict=True):
            tolerance = 0 if scale is None else scale / 2 + 1e-9
            assert abs(getattr(decoded, name) - values[name]) <= tolerance

    round_trip()


def test_golden_vectors_decode_and_encode(golden: dict) -> None:
    assert golden["protocol_version"] == PROTOCOL_VERSION
    seen_types = set()
    for vector in golden["vectors"]:
        wire = bytes.fromhex(vector["frame"])
        frame = decode_frame(wire)
        spec = spec_for(vector["msg_type"])
        assert spec.name == vector["message"]
        assert (frame.robot_id, frame.seq) == (vector["robot_id"], vector["seq"]), vector["name"]
        assert frame.message is not None and frame.message._asdict() == vector["fields"], vector["name"]
        assert encode(spec.cls(**vector["fields"]), vector["robot_id"], vector["seq"]) == wire, vector["name"]
        seen_types.add(spec.msg_id)
    assert seen_types == {spec.msg_id for spec in MESSAGE_SPECS}


def test_golden_invalid_frames_are_refused_for_the_stated_reason(golden: dict) -> None:
    for vector in golden["invalid"]:
        with pytest.raises(FrameError) as refused:
            decode_frame(bytes.fromhex(vector["frame"]))
        assert refused.value.reason == vector["reason"], vector["name"]


@pytest.mark.parametrize("spec", MESSAGE_SPECS, ids=lambda s: s.name)
def test_all_zero_payload_round_trips(spec) -> None:  # type: ignore[no-untyped-def]
    # Every payload byte (and robot id and seq) zero: each one costs a COBS code byte.
    message = spec.cls(*([0] * len(spec.fields)))
    wire = encode(message, 0, 0)
    assert len(wire) <= MAX_FRAME_BYTES
    assert decode_frame(wire).message == message


def test_largest_all_zero_raw_frame_fits_64_bytes() -> None:
    wire = encode_raw(0x7E, 0, 0, bytes(55))
    assert len(wire) == MAX_FRAME_BYTES
    frame = decode_frame(wire)
    assert frame.message is None and frame.raw[5:-2] == bytes(55)


def test_telemetry_si_properties_carry_units() -> None:
    t = Telemetry(1000, 1571, -3142, 2500, -2500, 3000, -3000, 100, 250, -50, 7400, 0, 9)
    assert t.enc_left_rad == pytest.approx(1.571)
    assert t.wheel_right_rad_s == pytest.approx(-2.5)
    assert t.accel_x_m_s2 == pytest.approx(0.25)
    assert t.battery_mv == 7400


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"left_rad_s": 40.0, "right_rad_s": 0.0},
            r"WheelCommand.left_rad_s = 40.0 is outside \[-32.768, 32.767\]",
        ),
        ({"left_rad_s": math.nan, "right_rad_s": 0.0}, "not a finite number"),
        ({"left_rad_s": 0.0, "right_rad_s": math.inf}, "WheelCommand.right_rad_s"),
    ],
)
def test_from_si_refuses_what_the_wire_cannot_carry(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        WheelCommand.from_si(**kwargs)


def test_encode_names_the_bad_field() -> None:
    with pytest.raises(
        ValueError, match=r"WheelCommand.right_mrad_s = 40000 must be an integer in -32768..32767"
    ):
        encode(WheelCommand(0, 40000), 1, 1)
    with pytest.raises(ValueError, match="robot_id 256"):
        encode(WheelCommand(0, 0), 256, 1)
    with pytest.raises(TypeError, match="not a protocol message"):
        encode((1, 2), 1, 1)  # type: ignore[arg-type]


def test_unknown_type_and_other_version_are_returned_uninterpreted() -> None:
    decoder = FrameDecoder()
    frames = decoder.feed(encode_raw(0x7E, 1, 5, b"\x01\x02") + encode(WheelCommand(1, 2), 1, 6, version=2))
    assert [(f.msg_type, f.version, f.robot_id, f.seq, f.message) for f in frames] == [
        (0x7E, 1, 1, 5, None),
        (3, 2, 1, 6, None),
    ]
    assert decoder.counters.unknown_type == 1
    assert decoder.counters.version_mismatch == 1


def test_frame_header_fields_are_read_from_raw() -> None:
    frame = decode_frame(encode(WheelCommand(7, -7), 200, 0x1234))
    assert frame == (WheelCommand(7, -7), frame.raw)
    assert (frame.version, frame.msg_type, frame.robot_id, frame.seq) == (PROTOCOL_VERSION, 3, 200, 0x1234)
    assert repr(frame).startswith(
        "Frame(version=1, msg_type=3, robot_id=200, seq=4660, message=WheelCommand("
    )


def test_wrong_payload_length_is_refused() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(encode_raw(3, 1, 1, b"\x01\x02\x03")) == []
    assert decoder.counters.length_errors == 1


def test_decoder_handles_byte_at_a_time_delivery() -> None:
    wire = b"".join(encode(WheelCommand(i, -i), 2, i) for i in range(5))
    decoder = FrameDecoder()
    frames = [f for byte in wire for f in decoder.feed(bytes([byte]))]
    assert [f.message for f in frames] == [WheelCommand(i, -i) for i in range(5)]
