"""Write golden_vectors.json: frames and their decoded wire values, checked by the C and Python tests.

Run once when the protocol changes on purpose (``python firmware_bridge/firmware/tests/make_golden_vectors.py``)
and review the diff: these are fixed data, the tests never regenerate them. Each vector sits on
one line so the C test can read the file with a line scanner instead of a JSON library.
"""

from __future__ import annotations

import json
from pathlib import Path

from robocoord.firmware_bridge.codec import encode, spec_for
from robocoord.firmware_bridge.protocol_tables import (
    PROTOCOL_VERSION,
    Ack,
    ClearEStop,
    EStop,
    Heartbeat,
    Hello,
    HelloAck,
    Nack,
    SetLimits,
    Telemetry,
    VelocityCommand,
    WheelCommand,
)

OUT = Path(__file__).with_name("golden_vectors.json")

VECTORS = [
    ("hello", Hello(1, 0x0100, 3), 0, 0),
    ("hello_ack", HelloAck(1, 0x0100, 7, 15), 7, 1),
    ("wheel_command", WheelCommand(1500, -1500), 2, 258),
    ("wheel_command_extremes", WheelCommand(-32768, 32767), 254, 65535),
    ("wheel_command_all_zero", WheelCommand(0, 0), 0, 0),
    ("velocity_command", VelocityCommand(500, -1200), 3, 42),
    (
        "telemetry",
        Telemetry(123456, 15000, -22500, 3000, -3000, 10000, -10000, 500, 100, -200, 7400, 4, 77),
        1,
        9,
    ),
    ("telemetry_all_zero", Telemetry(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0, 0),
    (
        "telemetry_extremes",
        Telemetry(
            0xFFFFFFFF,
            -(2**31),
            2**31 - 1,
            -32768,
            32767,
            -32768,
            32767,
            -32768,
            32767,
            -32768,
            65535,
            31,
            65535,
        ),
        200,
        12345,
    ),
    ("heartbeat", Heartbeat(1000, 1, 17), 5, 18),
    ("estop_broadcast", EStop(), 255, 3),
    ("clear_estop", ClearEStop(), 4, 4),
    ("set_limits", SetLimits(15000, 40000, 250), 6, 5),
    ("ack", Ack(7, 3), 6, 6),
    ("nack", Nack(9, 5, 3, 0), 6, 7),
]


def main() -> None:
    lines = ["{", f'  "protocol_version": {PROTOCOL_VERSION},', '  "vectors": [']
    rows = []
    for name, message, robot_id, seq in VECTORS:
        row = {
            "name": name,
            "message": type(message).__name__,
            "msg_type": spec_for(type(message)).msg_id,
            "robot_id": robot_id,
            "seq": seq,
            "fields": message._asdict(),
            "frame": encode(message, robot_id, seq).hex(),
        }
        rows.append("    " + json.dumps(row))
    lines.append(",\n".join(rows))
    lines.append("  ],")
    good = encode(WheelCommand(1500, -1500), 2, 258)
    body = bytearray(good[:-1])
    flipped = bytearray(body)
    flipped[4] ^= 0x10
    invalid = [
        {"name": "crc_bit_flip", "frame": bytes(flipped).hex() + "00", "reason": "crc_errors"},
        {"name": "truncated", "frame": bytes(body[:-3]).hex() + "00", "reason": "framing_errors"},
        {"name": "bad_cobs_code", "frame": "09" + bytes(body[1:]).hex() + "00", "reason": "framing_errors"},
        {"name": "too_short", "frame": "0401020300", "reason": "framing_errors"},
        {
            "name": "dropped_byte_mid_frame",
            "frame": bytes(body[:5] + body[6:]).hex() + "00",
            "reason": "framing_errors",
        },
        {"name": "oversize", "frame": "ff" + "11" * 70 + "00", "reason": "oversize"},
    ]
    lines.append('  "invalid": [')
    lines.append(",\n".join("    " + json.dumps(row) for row in invalid))
    lines.append("  ]")
    lines.append("}")
    OUT.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
