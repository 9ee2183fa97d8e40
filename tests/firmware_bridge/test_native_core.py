"""The C core through ctypes (the library the virtual MCU loads): parser fuzz and the on-demand build."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from robocoord.firmware_bridge import native
from robocoord.firmware_bridge.codec import FrameDecoder, encode
from robocoord.firmware_bridge.native import FirmwareInstance
from robocoord.firmware_bridge.protocol_tables import Telemetry, WheelCommand

ROBOT = 1


def test_c_parser_survives_corrupted_streams_and_resyncs() -> None:
    rng = random.Random(7)
    fw = FirmwareInstance(ROBOT, now_ms=0)
    decoder = FrameDecoder()
    allowed = {(100 * k, -100 * k) for k in range(1, 33)}
    pool = [
        encode(WheelCommand(left, right), ROBOT, seq) for seq, (left, right) in enumerate(sorted(allowed))
    ]
    garbage = rng.randbytes(1 << 14)
    for i in range(20_000):
        stream = bytearray(b"".join(rng.choices(pool, k=rng.randint(1, 3))))
        kind = i % 4
        if kind == 0:
            for _ in range(rng.randint(1, 3)):
                stream[rng.randrange(len(stream))] ^= 1 << rng.randrange(8)
        elif kind == 1:
            del stream[rng.randrange(1, len(stream)) :]
        elif kind == 2:
            at = rng.randrange(len(stream))
            stream[at:at] = garbage[at : at + rng.randint(1, 80)]
        # kind 3: the frames arrive intact, back to back
        fw.rx(bytes(stream), now_ms=0)
        status = fw.status()
        target = (status["target_left_mrad_s"], status["target_right_mrad_s"])
        assert target in allowed | {(0, 0), (7, -7)}, (
            f"stream {i}: firmware took a corrupted command {target}"
        )
        sentinel_seq = 40_000 + i
        fw.rx(b"\x00" + encode(WheelCommand(7, -7), ROBOT, sentinel_seq), now_ms=0)
        replies = [f.message for f in decoder.feed(fw.take_tx()) if isinstance(f.message, Telemetry)]
        assert replies and replies[-1].last_cmd_seq == sentinel_seq, f"no resync after stream {i}"
    status = fw.status()
    assert status["crc_errors"] > 1000 and status["framing_errors"] > 1000
    assert status["tx_dropped"] == 0


def test_library_is_rebuilt_when_a_source_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOCOORD_CACHE_DIR", str(tmp_path))
    sources = tmp_path / "src"
    sources.mkdir()
    for name in native.SOURCES + native.HEADERS:
        (sources / name).write_bytes((native.FIRMWARE_DIR / name).read_bytes())
    monkeypatch.setattr(native, "FIRMWARE_DIR", sources)
    first = native.library_path()
    assert first.exists() and first.parent == tmp_path / "firmware"
    assert native.library_path() == first  # cached
    (sources / "rc_host.c").write_text((sources / "rc_host.c").read_text() + "\n/* edited */\n")
    second = native.library_path()
    assert second != first and second.exists()


def test_a_broken_source_gives_a_clear_build_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOCOORD_CACHE_DIR", str(tmp_path))
    sources = tmp_path / "src"
    sources.mkdir()
    for name in native.SOURCES + native.HEADERS:
        (sources / name).write_bytes((native.FIRMWARE_DIR / name).read_bytes())
    (sources / "rc_firmware.c").write_text("this is not C\n")
    monkeypatch.setattr(native, "FIRMWARE_DIR", sources)
    with pytest.raises(native.FirmwareBuildError, match="building the firmware core failed"):
        native.library_path()
