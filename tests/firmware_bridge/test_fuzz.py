"""10^5 random, bit-flipped, truncated and concatenated streams through the stream decoder.

Properties: the decoder never raises, never returns a frame that was not sent intact, and is
back in sync at the next delimiter (a known frame after a 0x00 always decodes).
Streams are built from a seeded generator, so a failure replays exactly.
"""

from __future__ import annotations

import random

from robocoord.firmware_bridge.codec import FrameDecoder, decode_frame, encode
from robocoord.firmware_bridge.protocol_tables import MESSAGE_SPECS, PROTOCOL_VERSION, WheelCommand

STREAMS = 100_000


def frame_pool(rng: random.Random, size: int = 512) -> list[bytes]:
    pool = []
    for i in range(size):
        spec = MESSAGE_SPECS[i % len(MESSAGE_SPECS)]
        values = [rng.randint(lo, hi) for lo, hi in zip(spec.wire_min, spec.wire_max, strict=True)]
        pool.append(encode(spec.cls(*values), rng.randrange(256), rng.randrange(65536)))
    return pool


def corrupt(rng: random.Random, stream: bytearray, garbage: bytes) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:  # 1..3 bit flips anywhere, delimiters included
        for _ in range(rng.randint(1, 3)):
            stream[rng.randrange(len(stream))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # truncated: the line dropped the end (and the delimiter) of the last frame
        del stream[rng.randrange(1, len(stream)) :]
    elif kind == 2:  # bytes lost from the middle
        start = rng.randrange(len(stream))
        del stream[start : start + rng.randint(1, 8)]
    else:  # random bytes (zeros included) spliced in
        at = rng.randrange(len(stream) + 1)
        start = rng.randrange(len(garbage) - 80)
        stream[at:at] = garbage[start : start + rng.randint(1, 80)]
    return bytes(stream)


def test_decoder_survives_1e5_corrupted_streams() -> None:
    rng = random.Random(20261125)
    pool = frame_pool(rng)
    raw_of = {wire: decode_frame(wire).raw for wire in pool}
    garbage = rng.randbytes(1 << 16)
    sentinel = encode(WheelCommand(4242, -4242), 9, 4242)
    decoder = FrameDecoder()
    accepted = 0
    for i in range(STREAMS):
        frames = rng.choices(pool, k=rng.randint(1, 3))  # concatenated frames
        if i % 10 == 0:
            stream = garbage[(i * 7) % 60000 : (i * 7) % 60000 + rng.randint(1, 200)]  # pure noise
        else:
            stream = corrupt(rng, bytearray(b"".join(frames)), garbage)
        # A delimiter then a known frame: whatever came before, this must decode.
        out = decoder.feed(stream + b"\x00" + sentinel)
        assert out and out[-1].message == WheelCommand(4242, -4242), f"no resync after stream {i}"
        sent = {raw_of[wire] for wire in frames}
        for frame in out[:-1]:
            assert frame.raw in sent, f"stream {i}: accepted a frame that was not sent in this stream"
            assert frame.version == PROTOCOL_VERSION
            accepted += 1
    counters = decoder.counters
    # The corruption was seen and counted, and intact frames next to corrupted ones still got through.
    assert counters.crc_errors > 1000 and counters.framing_errors > 1000 and counters.resyncs > 10_000
    assert accepted > 10_000


def test_decoder_never_buffers_without_bound() -> None:
    decoder = FrameDecoder()
    for _ in range(1000):
        assert decoder.feed(b"\x55" * 1000) == []
    assert len(decoder._pending) <= 63
    assert decoder.counters.oversize == 1
    assert decoder.feed(b"\x00" + encode(WheelCommand(1, 1), 1, 1))[0].message == WheelCommand(1, 1)
