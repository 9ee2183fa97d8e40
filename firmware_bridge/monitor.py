"""The ``robocoord bridge`` terminal monitor: latest telemetry and link counters, refreshed at 5 Hz."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from robocoord.firmware_bridge.link import LinkStats, SerialLink
from robocoord.firmware_bridge.protocol_tables import FaultFlags, Telemetry

REFRESH_S = 0.2


def _flags(value: int) -> str:
    names = [flag.name or "?" for flag in FaultFlags if value & flag]
    return ",".join(names) if names else "-"


def summary_line(t: Telemetry | None, s: LinkStats) -> str:
    link = "UP" if s.link_up else "DOWN"
    rtt = (
        f"{s.rtt_ms_p50:.2f}/{s.rtt_ms_p99:.2f}"
        if s.rtt_ms_p50 is not None and s.rtt_ms_p99 is not None
        else "-"
    )
    head = (
        f"link {link} in {s.frames_in} out {s.frames_out} crc {s.crc_errors} resync {s.resyncs} "
        f"drops {s.drops} reconnects {s.reconnects} rtt p50/p99 {rtt} ms"
    )
    if t is None:
        return head + " | no telemetry yet"
    return (
        f"{head} | t {t.time_ms} ms wheels {t.wheel_left_rad_s:+.3f} {t.wheel_right_rad_s:+.3f} rad/s "
        f"cmd {t.cmd_left_rad_s:+.3f} {t.cmd_right_rad_s:+.3f} yaw {t.yaw_rate_rad_s:+.3f} rad/s "
        f"batt {t.battery_mv} mV faults {_flags(t.fault_flags)}"
    )


def _table(link: SerialLink) -> object:
    from rich.table import Table

    t, s = link.latest_telemetry, link.stats()
    table = Table(title=f"robot {link.robot_id} on {link.port}", show_header=False)
    table.add_row("link", "[green]UP[/green]" if s.link_up else "[red]DOWN[/red]")
    if t is not None:
        table.add_row("firmware time", f"{t.time_ms} ms")
        table.add_row("wheel speed", f"{t.wheel_left_rad_s:+.3f}  {t.wheel_right_rad_s:+.3f} rad/s")
        table.add_row("command (clamped)", f"{t.cmd_left_rad_s:+.3f}  {t.cmd_right_rad_s:+.3f} rad/s")
        table.add_row("encoders", f"{t.enc_left_rad:+.3f}  {t.enc_right_rad:+.3f} rad")
        table.add_row(
            "IMU",
            f"yaw rate {t.yaw_rate_rad_s:+.3f} rad/s, accel {t.accel_x_m_s2:+.3f} {t.accel_y_m_s2:+.3f} m/s²",
        )
        table.add_row("battery", f"{t.battery_mv} mV")
        table.add_row("faults", _flags(t.fault_flags))
        table.add_row("last command seq", str(t.last_cmd_seq))
    for name, value in s.as_dict().items():
        if name not in ("link_up", "firmware"):
            table.add_row(name, f"{value:.3f}" if isinstance(value, float) else str(value))
    return table


def run_monitor(link: SerialLink, duration_s: float | None, plain: bool, clock: Callable[[], float]) -> None:
    stop = threading.Event()
    end = None if duration_s is None else clock() + duration_s
    plain = plain or not sys.stdout.isatty()
    try:
        if plain:
            while not stop.wait(REFRESH_S * 5):
                print(summary_line(link.latest_telemetry, link.stats()), flush=True)
                if end is not None and clock() >= end:
                    break
            return
        from rich.live import Live

        with Live(_table(link), refresh_per_second=1 / REFRESH_S) as live:  # type: ignore[arg-type]
            while not stop.wait(REFRESH_S):
                live.update(_table(link))  # type: ignore[arg-type]
                if end is not None and clock() >= end:
                    break
    except KeyboardInterrupt:
        pass
