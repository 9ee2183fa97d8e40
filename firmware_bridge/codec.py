"""Frame codec: header + fixed little-endian payload + CRC-16/CCITT-FALSE, COBS-stuffed, 0x00-delimited.

The CRC goes on the wire most-significant byte first (the one big-endian field):
then the CRC of a whole intact frame, CRC bytes included, is 0, and both receivers
check exactly that without splitting the frame.

The message layouts come from the generated ``protocol_tables`` (see ``protocol.toml``);
stuffing is the ``cobs`` package and the CRC is ``binascii.crc_hqx`` seeded with 0xFFFF,
which is exactly CCITT-FALSE (poly 0x1021, no reflection, no final xor).
"""

from __future__ import annotations

import struct
from binascii import crc_hqx
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from cobs import cobs

from robocoord.firmware_bridge.protocol_tables import (
    BROADCAST_ROBOT_ID,
    HEADER_BYTES,
    HEADER_FORMAT,
    MAX_FRAME_BYTES,
    MAX_RAW_BYTES,
    MESSAGE_SPECS,
    PROTOCOL_VERSION,
    Message,
    MessageSpec,
)

CRC_INIT = 0xFFFF
CRC_BYTES = 2
_HEADER = struct.Struct(HEADER_FORMAT)
MIN_RAW_BYTES = HEADER_BYTES + CRC_BYTES
MAX_ENCODED_BYTES = MAX_FRAME_BYTES - 1  # without the delimiter


class _Layout(NamedTuple):
    """Per-message lookups flattened for the hot path (each saved attribute access shows in the benchmark)."""

    spec: MessageSpec
    msg_id: int
    cls: type
    frame_bytes: int  # header + payload + CRC
    pack_frame: Callable[..., bytes]  # header + payload in one struct: encoding is a single pack call
    # The payload of a whole raw frame: header and CRC are pad bytes in the format, so one
    # unpack call without an offset argument, and it only accepts exactly frame_bytes bytes.
    unpack_payload: Callable[[bytes], tuple[int, ...]]


_BY_CLASS: dict[type, _Layout] = {}
_BY_ID: dict[int, _Layout] = {}
for _spec in MESSAGE_SPECS:
    _layout = _Layout(
        _spec,
        _spec.msg_id,
        _spec.cls,
        _spec.payload_bytes + MIN_RAW_BYTES,
        struct.Struct(HEADER_FORMAT + _spec.payload_format[1:]).pack,
        struct.Struct(f"<{HEADER_BYTES}x{_spec.payload_format[1:]}{CRC_BYTES}x").unpack,
    )
    _BY_CLASS[_spec.cls] = _layout
    _BY_ID[_spec.msg_id] = _layout


# Per class: (header+payload packer, type id), unpacked in one step on the hot path.
_ENCODE: dict[type, tuple[Callable[..., bytes], int]] = {
    cls: (layout.pack_frame, layout.msg_id) for cls, layout in _BY_CLASS.items()
}

# The CRC as it goes on the wire (big-endian): a bound Struct.pack is cheaper than int.to_bytes.
_crc_wire = struct.Struct(">H").pack


def spec_for(message_type: type | int) -> MessageSpec:
    layout = _BY_ID.get(message_type) if isinstance(message_type, int) else _BY_CLASS.get(message_type)
    if layout is None:
        raise KeyError(f"not a protocol message: {message_type!r}")
    return layout.spec


class _FrameFields(NamedTuple):
    message: Message | None
    raw: bytes


class Frame(tuple[Message | None, bytes]):
    """One CRC-valid frame, ``Frame((message, raw))``. ``message`` is None for an unknown type
    or another protocol version; ``raw`` is header + payload + CRC, before stuffing.

    Only ``message`` and ``raw`` are stored; the header fields are read from ``raw`` when
    asked for, so decoding builds no header tuple that most receivers never look at. A plain
    tuple subclass (no Python ``__new__``, unlike a NamedTuple) is built by the tuple type
    itself, the cheapest object Python can make; the two fields use the C getters a
    NamedTuple has, so reading them costs what it did.
    """

    __slots__ = ()
    message = _FrameFields.message
    raw = _FrameFields.raw

    @property
    def version(self) -> int:
        return self.raw[0]

    @property
    def msg_type(self) -> int:
        return self.raw[1]

    @property
    def robot_id(self) -> int:
        return self.raw[2]

    @property
    def seq(self) -> int:
        raw = self.raw
        return raw[3] | (raw[4] << 8)

    def __repr__(self) -> str:
        return (
            f"Frame(version={self.version}, msg_type={self.msg_type}, robot_id={self.robot_id}, "
            f"seq={self.seq}, message={self.message!r}, raw={self.raw!r})"
        )


def _explain_bad_fields(spec: MessageSpec, message: Any) -> str:
    for name, value, lo, hi in zip(spec.fields, message, spec.wire_min, spec.wire_max, strict=True):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            return f"{spec.name}.{name} = {value!r} must be an integer in {lo}..{hi} (use {spec.name}.from_si for SI units)"
    return f"{spec.name}: {len(message)} fields, expected {len(spec.fields)}"


def encode(message: Message, robot_id: int, seq: int, version: int = PROTOCOL_VERSION) -> bytes:
    """One complete frame on the wire, trailing 0x00 included. Bad field values raise ValueError."""
    try:
        pack_frame, msg_id = _ENCODE[type(message)]
        # struct.pack itself refuses out-of-range or non-integer wire values. One exact tuple
        # as the only star argument: ``f(a, b, *message)`` would build a list and walk the
        # NamedTuple with its iterator, which costs a fifth of the whole encode.
        raw = pack_frame(*((version, msg_id, robot_id, seq & 0xFFFF) + message))
    except KeyError:
        raise TypeError(f"not a protocol message: {type(message).__name__}") from None
    except struct.error:
        if (
            isinstance(robot_id, bool)
            or not isinstance(robot_id, int)
            or not 0 <= robot_id <= BROADCAST_ROBOT_ID
        ):
            raise ValueError(f"robot_id {robot_id!r} is outside 0..{BROADCAST_ROBOT_ID}") from None
        raise ValueError(_explain_bad_fields(_BY_CLASS[type(message)].spec, message)) from None
    return _cobs_encode(raw + _crc_wire(crc_hqx(raw, CRC_INIT))) + b"\x00"


def encode_raw(
    msg_type: int, robot_id: int, seq: int, payload: bytes, version: int = PROTOCOL_VERSION
) -> bytes:
    """A frame with an arbitrary type and payload (for tools and tests probing the firmware's refusals)."""
    if len(payload) > MAX_RAW_BYTES - MIN_RAW_BYTES:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_RAW_BYTES - MIN_RAW_BYTES}")
    raw = _HEADER.pack(version, msg_type, robot_id, seq & 0xFFFF) + payload
    return _cobs_encode(raw + crc_hqx(raw, CRC_INIT).to_bytes(2, "big")) + b"\x00"


class FrameError(ValueError):
    """Why one encoded frame was refused (only raised by :func:`decode_frame`)."""

    def __init__(self, reason: str, detail: str):
        self.reason = reason
        super().__init__(f"{reason}: {detail}")


# NamedTuple's generated __new__ and _make are Python-level; building the tuple directly
# halves the decode cost of a Telemetry frame (see benchmarks/bench_bridge.py).
_new_tuple = tuple.__new__


_cobs_decode = cobs.decode
_cobs_encode = cobs.encode


def _refusal(raw: bytes) -> FrameError:
    n = len(raw)
    if n > MAX_RAW_BYTES:
        return FrameError("oversize", f"{n} raw bytes > {MAX_RAW_BYTES}")
    if n < MIN_RAW_BYTES:
        return FrameError("framing_errors", f"{n} bytes is shorter than header + CRC")
    return FrameError("crc_errors", "CRC mismatch")


# Indexed by type id (all 256): (class, raw frame length, payload unpacker), unpacked in one
# step on the hot path; a list index is cheaper than a dict lookup. Unknown ids get a length
# no frame can have (their class and unpacker are never used), so they fall through to the
# slow path with the other oddities.
_Decoding = tuple[type, int, Callable[[bytes], tuple[int, ...]]]
_UNKNOWN_TYPE: _Decoding = (type(None), -1, tuple)
_DECODE: list[_Decoding] = [_UNKNOWN_TYPE] * 256
for _layout in _BY_ID.values():
    _DECODE[_layout.msg_id] = (_layout.cls, _layout.frame_bytes, _layout.unpack_payload)


def decode_frame(encoded: bytes) -> Frame:
    """Decode exactly one frame (its trailing 0x00 may be included). Raises FrameError if it is not valid."""
    if encoded and encoded[-1] == 0:
        encoded = encoded[:-1]
    try:
        raw = _cobs_decode(encoded)
    except cobs.DecodeError as err:
        if len(encoded) > MAX_ENCODED_BYTES:
            raise FrameError("oversize", f"{len(encoded)} encoded bytes > {MAX_ENCODED_BYTES}") from None
        raise FrameError("framing_errors", f"bad COBS stuffing ({err})") from None
    n = len(raw)
    if crc_hqx(raw, CRC_INIT) or not MIN_RAW_BYTES <= n <= MAX_RAW_BYTES:
        raise _refusal(raw)
    cls, frame_bytes, unpack_payload = _DECODE[raw[1]]
    if n == frame_bytes and raw[0] == PROTOCOL_VERSION:
        # The common case: our version, a known type, the right length.
        return Frame((_new_tuple(cls, unpack_payload(raw)), raw))
    if frame_bytes < 0 or raw[0] != PROTOCOL_VERSION:
        # Valid frame we cannot interpret: another protocol version or an unknown type.
        return Frame((None, raw))
    raise FrameError(
        "length_errors",
        f"{cls.__name__} payload is {n - MIN_RAW_BYTES} bytes, expected {frame_bytes - MIN_RAW_BYTES}",
    )


@dataclass
class DecoderCounters:
    frames: int = 0  # CRC-valid frames returned
    crc_errors: int = 0
    framing_errors: int = 0  # bad COBS stuffing or too short
    oversize: int = 0  # more bytes than a frame can hold before the next delimiter
    length_errors: int = 0  # known type, wrong payload length
    unknown_type: int = 0
    version_mismatch: int = 0
    resyncs: int = 0  # times bytes were thrown away up to the next delimiter

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class FrameDecoder:
    """Stream decoder: feed it any byte chunks; it never raises and returns only CRC-valid frames.

    Anything between two delimiters that is not a valid frame is counted and dropped,
    so the decoder is back in sync at the next 0x00 whatever the line delivered.
    """

    def __init__(self) -> None:
        self.counters = DecoderCounters()
        self._pending = b""
        self._overflowed = False  # the bytes since the last delimiter no longer fit a frame

    def reset(self) -> None:
        """Forget a partial frame (after reopening a port); the counters keep counting."""
        self._pending = b""
        self._overflowed = False

    def feed(self, data: bytes) -> list[Frame]:
        frames: list[Frame] = []
        if not data:
            return frames
        parts = (self._pending + data).split(b"\x00")
        tail = parts.pop()
        for chunk in parts:
            if self._overflowed:
                self._overflowed = False
                continue  # the rest of an oversize run, already counted
            if chunk:
                self._take(chunk, frames)
        if len(tail) > MAX_ENCODED_BYTES:
            # Keep memory bounded on a line that never sends a delimiter.
            if not self._overflowed:
                self.counters.oversize += 1
                self.counters.resyncs += 1
            self._overflowed = True
            tail = b""
        self._pending = tail
        return frames

    def _take(self, chunk: bytes, frames: list[Frame]) -> None:
        c = self.counters
        try:
            frame = decode_frame(chunk)
        except FrameError as err:
            setattr(c, err.reason, getattr(c, err.reason) + 1)
            c.resyncs += 1
            return
        if frame.message is None:
            if frame.version != PROTOCOL_VERSION:
                c.version_mismatch += 1
            else:
                c.unknown_type += 1
        c.frames += 1
        frames.append(frame)
