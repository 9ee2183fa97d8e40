"""The firmware core as a host shared library, built on demand with gcc and loaded with ctypes.

The library is named after a hash of its sources and compiler flags, so an edited source
can never load a stale build, and concurrent first builds (several test processes at
once) each write a private temp file and atomically rename it into place.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

FIRMWARE_DIR = Path(__file__).resolve().parent / "firmware"
SOURCES = ("rc_frame.c", "rc_firmware.c", "rc_host.c")
HEADERS = ("rc_protocol.h", "rc_frame.h", "rc_firmware.h", "rc_host.h")
CFLAGS = ("-std=c99", "-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-Wpedantic", "-Werror")

STATUS_FIELDS = (
    "fault_flags",
    "estop_latched",
    "target_left_mrad_s",
    "target_right_mrad_s",
    "output_left_mrad_s",
    "output_right_mrad_s",
    "max_wheel_mrad_s",
    "max_accel_mrad_s2",
    "watchdog_ms",
    "last_valid_rx_ms",
    "rx_bytes",
    "rx_frames",
    "crc_errors",
    "framing_errors",
    "wrong_robot_id",
    "version_errors",
    "unknown_type",
    "nacks_sent",
    "tx_frames",
    "tx_dropped",
    "watchdog_trips",
    "clamped_commands",
)
_SIGNED_STATUS = {"target_left_mrad_s", "target_right_mrad_s", "output_left_mrad_s", "output_right_mrad_s"}


class FirmwareBuildError(RuntimeError):
    pass


def cache_dir() -> Path:
    """``$ROBOCOORD_CACHE_DIR/firmware``, else ``$XDG_CACHE_HOME/robocoord/firmware`` (``~/.cache``)."""
    explicit = os.environ.get("ROBOCOORD_CACHE_DIR")
    if explicit:
        return Path(explicit) / "firmware"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "robocoord" / "firmware"


def _build_key(compiler: str) -> str:
    digest = hashlib.sha256(" ".join((compiler, *CFLAGS)).encode())
    for name in SOURCES + HEADERS:
        digest.update(name.encode() + b"\0" + (FIRMWARE_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def library_path(compiler: str = "gcc") -> Path:
    """Path of the shared library, compiling it first if this source version was never built."""
    target = cache_dir() / f"librcfw-{_build_key(compiler)}.so"
    if target.exists():
        return target
    if shutil.which(compiler) is None:
        raise FirmwareBuildError(f"the virtual MCU needs a C compiler: {compiler!r} is not on PATH")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".librcfw-", suffix=".so", dir=target.parent)
    os.close(fd)
    command = [compiler, *CFLAGS, "-o", tmp, *(str(FIRMWARE_DIR / s) for s in SOURCES)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        os.unlink(tmp)
        raise FirmwareBuildError(f"building the firmware core failed:\n{' '.join(command)}\n{done.stderr}")
    os.replace(tmp, target)
    return target


@cache
def load_library() -> ctypes.CDLL:
    lib = ctypes.CDLL(str(library_path()))
    p, u8, u16, u32, i32, f64, size = (
        ctypes.c_void_p,
        ctypes.c_uint8,
        ctypes.c_uint16,
        ctypes.c_uint32,
        ctypes.c_int32,
        ctypes.c_double,
        ctypes.c_size_t,
    )
    signatures: dict[str, tuple[object, list[object]]] = {
        "rc_host_sizeof": (size, []),
        "rc_host_status_words": (u32, []),
        "rc_host_protocol_version": (u32, []),
        "rc_host_init": (None, [p, u8, u16, u32]),
        "rc_host_set_sensors": (None, [p, f64, f64, f64, f64, f64, f64, f64, u16]),
        "rc_host_rx": (None, [p, ctypes.c_char_p, size, u32]),
        "rc_host_tick": (None, [p, u32]),
        "rc_host_take_tx": (size, [p, p, size]),
        "rc_host_motor": (None, [p, ctypes.POINTER(i32), ctypes.POINTER(i32)]),
        "rc_host_status": (None, [p, ctypes.POINTER(u32)]),
    }
    for name, (restype, argtypes) in signatures.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    if lib.rc_host_status_words() != len(STATUS_FIELDS):
        raise FirmwareBuildError("rc_host.h status words and native.STATUS_FIELDS disagree")
    return lib


class FirmwareInstance:
    """One firmware core (one ``rc_host_t``, memory owned here) driven with explicit time."""

    def __init__(self, robot_id: int, now_ms: int = 0, telemetry_period_ms: int = 0):
        self._lib = load_library()
        self.robot_id = robot_id
        self._state = ctypes.create_string_buffer(self._lib.rc_host_sizeof())
        self._ptr = ctypes.cast(self._state, ctypes.c_void_p)
        self._tx = ctypes.create_string_buffer(4096)
        self._tx_ptr = ctypes.cast(self._tx, ctypes.c_void_p)
        self._left = ctypes.c_int32()
        self._right = ctypes.c_int32()
        self._status = (ctypes.c_uint32 * len(STATUS_FIELDS))()
        self._lib.rc_host_init(self._ptr, robot_id, telemetry_period_ms, now_ms & 0xFFFFFFFF)

    def set_sensors(
        self,
        wheel_angle_rad: tuple[float, float],
        wheel_speed_rad_s: tuple[float, float],
        yaw_rate_rad_s: float,
        accel_body_m_s2: tuple[float, float],
        battery_mv: int = 7400,
    ) -> None:
        """What the HAL's encoder, IMU and battery reads return until the next call (SI units)."""
        self._lib.rc_host_set_sensors(
            self._ptr,
            wheel_angle_rad[0],
            wheel_angle_rad[1],
            wheel_speed_rad_s[0],
            wheel_speed_rad_s[1],
            yaw_rate_rad_s,
            accel_body_m_s2[0],
            accel_body_m_s2[1],
            battery_mv,
        )

    def rx(self, data: bytes, now_ms: int) -> None:
        self._lib.rc_host_rx(self._ptr, data, len(data), now_ms & 0xFFFFFFFF)

    def tick(self, now_ms: int) -> None:
        self._lib.rc_host_tick(self._ptr, now_ms & 0xFFFFFFFF)

    def take_tx(self) -> bytes:
        n = self._lib.rc_host_take_tx(self._ptr, self._tx_ptr, len(self._tx))
        return ctypes.string_at(self._tx, n) if n else b""  # copy only what was written

    def motor_rad_s(self) -> tuple[float, float]:
        self._lib.rc_host_motor(self._ptr, ctypes.byref(self._left), ctypes.byref(self._right))
        return self._left.value * 0.001, self._right.value * 0.001

    def status(self) -> dict[str, int]:
        self._lib.rc_host_status(self._ptr, self._status)
        out = {}
        for name, word in zip(STATUS_FIELDS, self._status, strict=True):
            out[name] = word - (1 << 32) if name in _SIGNED_STATUS and word >= 1 << 31 else word
        return out
