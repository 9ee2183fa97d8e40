"""The protocol is defined once: the generated C header and Python tables match protocol.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from robocoord.firmware_bridge import schema


def test_regenerating_from_the_schema_changes_nothing() -> None:
    for path, text in schema.generated_files().items():
        assert path.read_text() == text, (
            f"{path} is stale: python -m robocoord.firmware_bridge.schema --write"
        )


def test_check_mode_reports_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "rc_protocol.h"
    stale.write_text("/* edited by hand */\n")
    monkeypatch.setattr(schema, "C_HEADER_PATH", stale)
    assert schema.main(["--check"]) == 1


def test_every_message_fits_one_frame() -> None:
    loaded = schema.load_schema()
    assert loaded.max_frame_bytes == 64
    for message in loaded.messages:
        # Worst-case COBS adds one byte, the delimiter another.
        assert loaded.header_bytes + message.payload_bytes + 2 + 2 <= loaded.max_frame_bytes


def test_a_scaled_field_without_python_name_is_refused(tmp_path: Path) -> None:
    text = schema.SCHEMA_PATH.read_text().replace(
        '{ name = "left_mrad_s", py = "left_rad_s", type = "i16", scale = 0.001 }',
        '{ name = "left_mrad_s", type = "i16", scale = 0.001 }',
    )
    broken = tmp_path / "protocol.toml"
    broken.write_text(text)
    with pytest.raises(schema.SchemaError, match="left_mrad_s"):
        schema.load_schema(broken)


def test_duplicate_message_ids_are_refused(tmp_path: Path) -> None:
    broken = tmp_path / "protocol.toml"
    broken.write_text(
        schema.SCHEMA_PATH.read_text().replace('name = "HelloAck"\nid = 2', 'name = "HelloAck"\nid = 1')
    )
    with pytest.raises(schema.SchemaError, match="unique"):
        schema.load_schema(broken)
