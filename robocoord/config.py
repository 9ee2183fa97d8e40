"""Strict YAML configs: one pydantic model per ``kind``, every error reported at once.

Every config file names its model with a top-level ``kind:``. Models live next to
the code they configure; this module only maps kind names to import paths so that
``robocoord config validate`` can check any file without importing torch or
pybullet up front (each model module imports only pydantic).
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError


class StrictModel(BaseModel):
    """Base for every config and contract model: unknown keys are errors, never ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=False)


# kind name -> "module:ClassName". Add a line here when a layer adds a config kind.
KINDS: dict[str, str] = {
    "sim-run": "robocoord.sim.config:SimRunConfig",
    "disruptions": "robocoord.sim.disruptions.spec:DisruptionFile",
    "gmfs-study": "robocoord.training.gmfs.config:GmfsStudyConfig",
    "gmfs-train": "robocoord.training.gmfs.config:GmfsTrainConfig",
    "drigm-train": "robocoord.training.drigm.config:DrigmTrainConfig",
    "drigm-study": "robocoord.training.drigm.config:DrigmStudyConfig",
    "rcmdp-train": "robocoord.training.rcmdp.config:RcmdpTrainConfig",
    "rcmdp-study": "robocoord.training.rcmdp.config:RcmdpStudyConfig",
    "fleet-inventory": "robocoord_ros.inventory:FleetInventory",
}

M = TypeVar("M", bound=BaseModel)


class ConfigError(Exception):
    """A config could not be loaded. ``lines`` holds one human-readable line per problem."""

    def __init__(self, source: str, lines: Sequence[str]):
        self.source = source
        self.lines = list(lines)
        super().__init__("\n".join(self.lines))


def model_for_kind(kind: str) -> type[BaseModel]:
    target = KINDS.get(kind)
    if target is None:
        raise KeyError(kind)
    module_name, _, class_name = target.partition(":")
    model = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{target} is not a pydantic model")
    return model


def parse_override(text: str) -> tuple[list[str], Any]:
    """``a.b=value`` -> (["a", "b"], parsed value). The value is parsed as YAML, so ``1e-3``, ``[1,2]`` and ``true`` work."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"override {text!r} is not of the form key.path=value")
    path = [part for part in key.strip().split(".")]
    if any(not part for part in path):
        raise ValueError(f"override {text!r} has an empty key segment")
    return path, yaml.safe_load(raw) if raw.strip() else ""


def apply_overrides(data: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    for text in overrides:
        path, value = parse_override(text)
        node: Any = data
        for part in path[:-1]:
            if isinstance(node, list):
                node = node[int(part)]
                continue
            if not isinstance(node.get(part), dict | list):
                node[part] = {}
            node = node[part]
        if isinstance(node, list):
            node[int(path[-1])] = value
        else:
            node[path[-1]] = value
    return data


def _format_loc(loc: Sequence[str | int]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "<root>"


def validation_lines(source: str, err: ValidationError) -> list[str]:
    """One line per failing field, each naming the file and the key path."""
    lines = []
    for e in err.errors():
        loc = _format_loc(e["loc"])
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = f"unknown key {str(e['loc'][-1])!r}"
        lines.append(f"{source}: {loc}: {msg}")
    return lines


def validate_data(model: type[M], data: Mapping[str, Any], source: str = "<config>") -> M:
    try:
        return model.model_validate(dict(data))
    except ValidationError as err:
        raise ConfigError(source, validation_lines(source, err)) from None


def read_yaml(path: Path | str) -> dict[str, Any]:
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise ConfigError(source, [f"{source}: file not found"])
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(source, [f"{source}: not valid YAML: {err}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(source, [f"{source}: top level must be a mapping with a 'kind:' key"])
    return data


def load_config(
    path: Path | str, overrides: Iterable[str] = (), expect_kind: str | Sequence[str] | None = None
) -> BaseModel:
    """Load a YAML config, apply ``--set`` overrides, and validate it against its kind's model."""
    source = str(path)
    data = read_yaml(path)
    try:
        data = apply_overrides(data, overrides)
    except (ValueError, IndexError, TypeError, AttributeError) as err:
        raise ConfigError(source, [f"{source}: --set: {err}"]) from None
    kind = data.pop("kind", None)
    valid = ", ".join(sorted(KINDS))
    if kind is None:
        raise ConfigError(source, [f"{source}: kind: missing; valid kinds: {valid}"])
    if kind not in KINDS:
        raise ConfigError(source, [f"{source}: kind: unknown kind {kind!r}; valid kinds: {valid}"])
    if expect_kind is not None:
        expected = [expect_kind] if isinstance(expect_kind, str) else list(expect_kind)
        if kind not in expected:
            raise ConfigError(source, [f"{source}: kind: expected {' or '.join(expected)}, found {kind!r}"])
    return validate_data(model_for_kind(kind), data, source)


def kind_of(model: BaseModel) -> str | None:
    for kind, target in KINDS.items():
        module_name, _, class_name = target.partition(":")
        if type(model).__name__ == class_name and type(model).__module__ == module_name:
            return kind
    return None


def dump_config(model: BaseModel) -> dict[str, Any]:
    """The resolved config as plain data, with its ``kind`` first."""
    data: dict[str, Any] = {}
    kind = kind_of(model)
    if kind is not None:
        data["kind"] = kind
    data.update(model.model_dump(mode="json"))
    return data


def config_hash(model: BaseModel) -> str:
    """sha256 of the canonical JSON of the resolved config; goes into artifact provenance."""
    canonical = json.dumps(dump_config(model), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
