"""The protocol schema (``protocol.toml``) and the two files generated from it.

Run ``python -m robocoord.firmware_bridge.schema --write`` after editing the schema;
``--check`` exits 1 when a generated file differs from what the schema produces
(the test suite runs the same comparison).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCHEMA_PATH = HERE / "protocol.toml"
C_HEADER_PATH = HERE / "firmware" / "rc_protocol.h"
PY_TABLES_PATH = HERE / "protocol_tables.py"

# type -> (bytes, struct char, C type, min, max)
WIRE_TYPES: dict[str, tuple[int, str, str, int, int]] = {
    "u8": (1, "B", "uint8_t", 0, 0xFF),
    "u16": (2, "H", "uint16_t", 0, 0xFFFF),
    "u32": (4, "I", "uint32_t", 0, 0xFFFFFFFF),
    "i16": (2, "h", "int16_t", -0x8000, 0x7FFF),
    "i32": (4, "i", "int32_t", -0x80000000, 0x7FFFFFFF),
}


class SchemaError(ValueError):
    pass


@dataclass(frozen=True)
class Field:
    name: str  # wire / C name, carries the wire unit
    py: str  # Python name, carries the SI unit
    type: str
    scale: float | None

    @property
    def size(self) -> int:
        return WIRE_TYPES[self.type][0]

    @property
    def signed(self) -> bool:
        return self.type.startswith("i")


@dataclass(frozen=True)
class Message:
    name: str
    msg_id: int
    direction: str
    doc: str
    fields: tuple[Field, ...]

    @property
    def payload_bytes(self) -> int:
        return sum(f.size for f in self.fields)

    @property
    def c_name(self) -> str:
        return _snake(self.name)


@dataclass(frozen=True)
class EnumValue:
    name: str
    value: int
    doc: str


@dataclass(frozen=True)
class Enum:
    name: str
    doc: str
    flags: bool
    values: tuple[EnumValue, ...]


@dataclass(frozen=True)
class Schema:
    version: int
    max_frame_bytes: int
    header: tuple[Field, ...]
    broadcast_robot_id: int
    enums: tuple[Enum, ...]
    messages: tuple[Message, ...]

    @property
    def header_bytes(self) -> int:
        return sum(f.size for f in self.header)

    @property
    def max_raw_bytes(self) -> int:
        # COBS adds one code byte per 254 data bytes (only one here) and the delimiter one more.
        return self.max_frame_bytes - 2

    @property
    def max_payload_bytes(self) -> int:
        return self.max_raw_bytes - self.header_bytes - 2


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _field(raw: dict[str, object], where: str) -> Field:
    name, type_ = raw.get("name"), raw.get("type")
    if not isinstance(name, str) or type_ not in WIRE_TYPES:
        raise SchemaError(f"{where}: field needs a name and a type in {sorted(WIRE_TYPES)}: {raw}")
    scale = raw.get("scale")
    py = raw.get("py", name)
    if (scale is None) != ("py" not in raw):
        raise SchemaError(f"{where}.{name}: a scaled field needs both 'py' and 'scale'")
    if scale is not None and not (isinstance(scale, float | int) and scale > 0):
        raise SchemaError(f"{where}.{name}: scale must be a positive number, got {scale!r}")
    return Field(name=name, py=str(py), type=str(type_), scale=float(scale) if scale is not None else None)


def load_schema(path: Path = SCHEMA_PATH) -> Schema:
    data = tomllib.loads(path.read_text())
    proto = data["protocol"]
    header = tuple(_field(f, "header") for f in proto["header"])
    if [f.name for f in header] != ["version", "msg_type", "robot_id", "seq"]:
        raise SchemaError("header must be version, msg_type, robot_id, seq")
    enums = tuple(
        Enum(
            name=name,
            doc=spec["doc"],
            flags=bool(spec.get("flags", False)),
            values=tuple(EnumValue(v["name"], int(v["value"]), v["doc"]) for v in spec["values"]),
        )
        for name, spec in data.get("enums", {}).items()
    )
    messages = tuple(
        Message(
            name=m["name"],
            msg_id=int(m["id"]),
            direction=m["direction"],
            doc=m["doc"],
            fields=tuple(_field(f, m["name"]) for f in m["fields"]),
        )
        for m in data["message"]
    )
    schema = Schema(
        version=int(proto["version"]),
        max_frame_bytes=int(proto["max_frame_bytes"]),
        header=header,
        broadcast_robot_id=int(proto["broadcast_robot_id"]),
        enums=enums,
        messages=messages,
    )
    ids = [m.msg_id for m in messages]
    if len(set(ids)) != len(ids) or not all(0 < i < 256 for i in ids):
        raise SchemaError(f"message ids must be unique and in 1..255: {ids}")
    for m in messages:
        if m.payload_bytes > schema.max_payload_bytes:
            raise SchemaError(f"{m.name}: payload {m.payload_bytes} B exceeds {schema.max_payload_bytes} B")
    return schema


# ----------------------------------------------------------------------------- C header


def _c_enum_prefix(enum: Enum) -> str:
    return {"NackCode": "RC_NACK_", "FaultFlags": "RC_FAULT_", "Capabilities": "RC_CAP_"}.get(
        enum.name, f"RC_{_snake(enum.name).upper()}_"
    )


def render_c_header(schema: Schema) -> str:
    s = schema
    lines = [
        "/* GENERATED from firmware_bridge/protocol.toml by firmware_bridge/schema.py. Do not edit. */",
        "#ifndef RC_PROTOCOL_H",
        "#define RC_PROTOCOL_H",
        "",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "",
        f"#define RC_PROTOCOL_VERSION {s.version}u",
        "/* Encoded frame including the trailing 0x00 delimiter. */",
        f"#define RC_MAX_FRAME_BYTES {s.max_frame_bytes}u",
        f"#define RC_MAX_ENCODED_BYTES {s.max_frame_bytes - 1}u",
        "/* header + payload + CRC, before COBS. */",
        f"#define RC_MAX_RAW_BYTES {s.max_raw_bytes}u",
        f"#define RC_HEADER_BYTES {s.header_bytes}u",
        "#define RC_CRC_BYTES 2u",
        f"#define RC_MAX_PAYLOAD_BYTES {s.max_payload_bytes}u",
        f"#define RC_BROADCAST_ROBOT_ID {s.broadcast_robot_id}u",
        "",
    ]
    for enum in s.enums:
        lines.append(f"/* {enum.name}: {enum.doc} */")
        prefix = _c_enum_prefix(enum)
        for v in enum.values:
            value = f"0x{v.value:04X}u" if enum.flags else f"{v.value}u"
            lines.append(f"#define {prefix}{v.name} {value} /* {v.doc} */")
        lines.append("")
    lines.append("/* Message types. */")
    for m in s.messages:
        lines.append(f"#define RC_MSG_{m.c_name.upper()} {m.msg_id}u /* {m.doc} */")
    lines.append("")
    for m in s.messages:
        lines.append(f"#define RC_{m.c_name.upper()}_PAYLOAD_BYTES {m.payload_bytes}u")
    lines += [
        "",
        "static inline void rc_put_u8(uint8_t *p, uint8_t v) { p[0] = v; }",
        "static inline void rc_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }",
        "static inline void rc_put_u32(uint8_t *p, uint32_t v) {",
        "    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);",
        "}",
        "static inline void rc_put_i16(uint8_t *p, int16_t v) { rc_put_u16(p, (uint16_t)v); }",
        "static inline void rc_put_i32(uint8_t *p, int32_t v) { rc_put_u32(p, (uint32_t)v); }",
        "static inline uint8_t rc_get_u8(const uint8_t *p) { return p[0]; }",
        "static inline uint16_t rc_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | ((uint16_t)p[1] << 8)); }",
        "static inline uint32_t rc_get_u32(const uint8_t *p) {",
        "    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);",
        "}",
        "/* Two's complement on the wire; gcc, clang and every MCU compiler map the conversion bit for bit. */",
        "static inline int16_t rc_get_i16(const uint8_t *p) { return (int16_t)rc_get_u16(p); }",
        "static inline int32_t rc_get_i32(const uint8_t *p) { return (int32_t)rc_get_u32(p); }",
        "",
    ]
    for m in s.messages:
        if not m.fields:
            continue
        lines.append(f"/* {m.name}: {m.doc} */")
        lines.append("typedef struct {")
        for f in m.fields:
            lines.append(f"    {WIRE_TYPES[f.type][2]} {f.name};")
        lines.append(f"}} rc_{m.c_name}_t;")
        lines.append("")
        lines.append(f"static inline void rc_pack_{m.c_name}(const rc_{m.c_name}_t *m, uint8_t *out) {{")
        offset = 0
        for f in m.fields:
            lines.append(f"    rc_put_{f.type}(out + {offset}, m->{f.name});")
            offset += f.size
        lines.append("}")
        lines.append(f"static inline void rc_unpack_{m.c_name}(const uint8_t *in, rc_{m.c_name}_t *m) {{")
        offset = 0
        for f in m.fields:
            lines.append(f"    m->{f.name} = rc_get_{f.type}(in + {offset});")
            offset += f.size
        lines.append("}")
        lines.append("")
    lines.append("/* Payload length of a message type, or -1 when the type is unknown. */")
    lines.append("static inline int rc_payload_bytes(uint8_t msg_type) {")
    lines.append("    switch (msg_type) {")
    for m in s.messages:
        lines.append(f"    case RC_MSG_{m.c_name.upper()}: return (int)RC_{m.c_name.upper()}_PAYLOAD_BYTES;")
    lines.append("    default: return -1;")
    lines.append("    }")
    lines.append("}")
    lines.append("")
    lines += [
        "#ifdef RC_PROTOCOL_DESCRIPTORS",
        "/* Field tables for host tools and tests (kept out of firmware builds to save flash). */",
        "typedef struct {",
        "    const char *name;",
        "    uint8_t offset;",
        "    uint8_t size;",
        "    uint8_t is_signed;",
        "} rc_field_desc_t;",
        "typedef struct {",
        "    uint8_t msg_type;",
        "    const char *name;",
        "    uint8_t payload_bytes;",
        "    uint8_t n_fields;",
        "    const rc_field_desc_t *fields;",
        "} rc_msg_desc_t;",
        "",
    ]
    for m in s.messages:
        if not m.fields:
            continue
        lines.append(f"static const rc_field_desc_t rc_fields_{m.c_name}[] = {{")
        offset = 0
        for f in m.fields:
            lines.append(f'    {{"{f.name}", {offset}u, {f.size}u, {int(f.signed)}u}},')
            offset += f.size
        lines.append("};")
    lines.append("static const rc_msg_desc_t rc_msg_descs[] = {")
    for m in s.messages:
        fields = f"rc_fields_{m.c_name}" if m.fields else "NULL"
        lines.append(
            f'    {{RC_MSG_{m.c_name.upper()}, "{m.name}", {m.payload_bytes}u, {len(m.fields)}u, {fields}}},'
        )
    lines.append("};")
    lines.append(f"#define RC_N_MSG_DESCS {len(s.messages)}u")
    lines.append("#endif /* RC_PROTOCOL_DESCRIPTORS */")
    lines.append("")
    lines.append("#endif /* RC_PROTOCOL_H */")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- Python tables


def _py_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _py_tuple(items: list[str], indent: str) -> str:
    """A tuple literal laid out exactly as ``ruff format`` keeps it (exploded via a magic trailing comma)."""
    if not items:
        return "()"
    if len(items) == 1:
        return f"({items[0]},)"
    inner = "".join(f"{indent}    {item},\n" for item in items)
    return f"(\n{inner}{indent})"


def _inverse_literal(scale: float) -> str:
    inverse = 1.0 / scale
    # 1 / 0.001 is 999.9999999999999 in binary floating point; write the integer it means.
    return repr(float(round(inverse))) if abs(inverse - round(inverse)) < 1e-9 else repr(inverse)


def _render_py_message(m: Message) -> list[str]:
    """A NamedTuple of wire integers (C names) with SI properties and an SI constructor."""
    out = ["", "", f"class {m.name}(NamedTuple):", f'    """{m.doc}"""', ""]
    for f in m.fields:
        out.append(f"    {f.name}: int")
    for f in m.fields:
        if f.scale is None:
            continue
        out += [
            "",
            "    @property",
            f"    def {f.py}(self) -> float:",
            f"        return self.{f.name} * {f.scale!r}",
        ]
    out += ["", "    @classmethod"]
    if not m.fields:
        out += [f"    def from_si(cls) -> {m.name}:", "        return cls()"]
        return out
    out.append("    def from_si(")
    out.append("        cls,")
    out.append("        *,")
    for f in m.fields:
        out.append(f"        {f.py}: {'float' if f.scale is not None else 'int'},")
    out.append(f"    ) -> {m.name}:")
    out.append("        return cls(")
    for f in m.fields:
        _, _, _, lo, hi = WIRE_TYPES[f.type]
        where = _py_str(f"{m.name}.{f.py}")
        if f.scale is None:
            out.append(f"            _checked_int({f.py}, {lo}, {hi}, {where}),")
        else:
            out.append(f"            _si_to_wire({f.py}, {_inverse_literal(f.scale)}, {lo}, {hi}, {where}),")
    out.append("        )")
    return out


def render_py_tables(schema: Schema) -> str:
    s = schema
    header_fmt = "<" + "".join(WIRE_TYPES[f.type][1] for f in s.header)
    out = [
        '"""GENERATED from firmware_bridge/protocol.toml by firmware_bridge/schema.py. Do not edit."""',
        "",
        "from __future__ import annotations",
        "",
        "import enum",
        "import math",
        "from typing import NamedTuple",
        "",
        f"PROTOCOL_VERSION = {s.version}",
        f"MAX_FRAME_BYTES = {s.max_frame_bytes}  # encoded, including the 0x00 delimiter",
        f"MAX_RAW_BYTES = {s.max_raw_bytes}  # header + payload + CRC",
        f"HEADER_FORMAT = {_py_str(header_fmt)}  # version, msg_type, robot_id, seq",
        f"HEADER_BYTES = {s.header_bytes}",
        "CRC_BYTES = 2",
        f"MAX_PAYLOAD_BYTES = {s.max_payload_bytes}",
        f"BROADCAST_ROBOT_ID = {s.broadcast_robot_id}",
        "",
        "",
        "def _si_to_wire(value: float, inverse: float, lo: int, hi: int, where: str) -> int:",
        '    """SI value -> wire integer; refuses what the wire cannot carry instead of wrapping it."""',
        "    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):",
        '        raise ValueError(f"{where} = {value!r} is not a finite number")',
        "    wire = round(value * inverse)",
        "    if not lo <= wire <= hi:",
        '        raise ValueError(f"{where} = {value!r} is outside [{lo / inverse:g}, {hi / inverse:g}]")',
        "    return wire",
        "",
        "",
        "def _checked_int(value: int, lo: int, hi: int, where: str) -> int:",
        "    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:",
        '        raise ValueError(f"{where} = {value!r} must be an integer in {lo}..{hi}")',
        "    return value",
        "",
    ]
    for e in s.enums:
        base = "enum.IntFlag" if e.flags else "enum.IntEnum"
        out += ["", f"class {e.name}({base}):", f'    """{e.doc}"""', ""]
        for v in e.values:
            out.append(f"    {v.name} = {v.value}  # {v.doc}")
        out.append("")
    for m in s.messages:
        out += _render_py_message(m)
    out += [
        "",
        "class MessageSpec(NamedTuple):",
        '    """Wire layout of one message: payload struct format and per-field scale and range."""',
        "",
        "    msg_id: int",
        "    name: str",
        "    cls: type",
        "    payload_format: str",
        "    payload_bytes: int",
        "    fields: tuple[str, ...]  # wire (C) names: the NamedTuple fields",
        "    si_fields: tuple[str, ...]  # SI names: properties, and from_si() arguments",
        "    scales: tuple[float | None, ...]  # SI value = wire value * scale",
        "    wire_min: tuple[int, ...]",
        "    wire_max: tuple[int, ...]",
        "",
        "",
        "MESSAGE_SPECS: tuple[MessageSpec, ...] = (",
    ]
    for m in s.messages:
        fmt = "<" + "".join(WIRE_TYPES[f.type][1] for f in m.fields)
        ind = " " * 8
        out += [
            "    MessageSpec(",
            f"        msg_id={m.msg_id},",
            f"        name={_py_str(m.name)},",
            f"        cls={m.name},",
            f"        payload_format={_py_str(fmt)},",
            f"        payload_bytes={m.payload_bytes},",
            f"        fields={_py_tuple([_py_str(f.name) for f in m.fields], ind)},",
            f"        si_fields={_py_tuple([_py_str(f.py) for f in m.fields], ind)},",
            f"        scales={_py_tuple([repr(f.scale) for f in m.fields], ind)},",
            f"        wire_min={_py_tuple([str(WIRE_TYPES[f.type][3]) for f in m.fields], ind)},",
            f"        wire_max={_py_tuple([str(WIRE_TYPES[f.type][4]) for f in m.fields], ind)},",
            "    ),",
        ]
    out += [")", ""]
    out += (
        ["Message = (", f"    {s.messages[0].name}"] + [f"    | {m.name}" for m in s.messages[1:]] + [")", ""]
    )
    return "\n".join(out)


def ruff_formatted(text: str, filename: Path) -> str:
    """The generated Python laid out by ``ruff format`` (the repo's formatter), so lint passes on it."""
    ruff = Path(sys.executable).with_name("ruff")
    command = [str(ruff) if ruff.exists() else "ruff", "format", "--stdin-filename", str(filename), "-"]
    done = subprocess.run(command, input=text, capture_output=True, text=True, check=False, cwd=HERE.parent)
    if done.returncode != 0:
        raise SchemaError(f"ruff format failed on the generated tables: {done.stderr.strip()}")
    return done.stdout


def generated_files(schema: Schema | None = None) -> dict[Path, str]:
    schema = schema or load_schema()
    return {
        C_HEADER_PATH: render_c_header(schema),
        PY_TABLES_PATH: ruff_formatted(render_py_tables(schema), PY_TABLES_PATH),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="regenerate the C header and Python tables")
    mode.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated_files().items():
        if args.write:
            path.write_text(text)
        elif not path.exists() or path.read_text() != text:
            stale.append(path)
    for path in stale:
        print(f"{path}: out of date; run python -m robocoord.firmware_bridge.schema --write", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
