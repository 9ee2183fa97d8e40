"""The policy artifact contract: the one thing that crosses from training to the robot.

An artifact is a single ``.onnx`` file. Its ``metadata_props`` hold this contract
as canonical JSON under the key :data:`METADATA_KEY`. Normalisation, clipping and
action post-processing are baked into the graph, so the robot never re-implements
them; the contract states them so tools can show and check them.

Integrity: ``sha256`` is the digest of the whole serialised model (graph and
contract) with the 64 hex digits of ``sha256`` itself replaced by ``0``. Checking
it needs no protobuf parsing, and it catches a flipped byte anywhere in the file,
metadata included.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any, Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from robocoord.config import StrictModel

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})
# Default-domain opsets this loader accepts: the range onnxruntime >= 1.18 executes
# and our exporter emits.
MIN_OPSET = 13
MAX_OPSET = 21
METADATA_KEY = "robocoord.contract"
# Optional graph output [batch] bool: rows whose observation was not finite. When the graph has it,
# the graph itself has already substituted the safe action (and zeroed recurrent state) for them.
SAFE_FLAG_OUTPUT = "used_safe_action"
ZERO_DIGEST = "0" * 64
_DIGEST_FIELD = re.compile(rb'"sha256":"([0-9a-f]{64})"')

Family = Literal["gmfs", "drigm", "rcmdp"]


class ObservationField(StrictModel):
    name: str = Field(min_length=1)
    size: PositiveInt
    unit: str = Field(description="physical unit, or '1' for dimensionless / one-hot")
    description: str = ""


class ObservationSpec(StrictModel):
    """Ordered observation fields, and the normalisation the graph applies: clip((obs - mean) / std, ±clip)."""

    fields: list[ObservationField] = Field(min_length=1)
    mean: list[float]
    std: list[float]
    clip: PositiveFloat | None = Field(10.0, description="clip of the normalised observation; None disables")

    @property
    def dim(self) -> int:
        return sum(f.size for f in self.fields)

    @model_validator(mode="after")
    def _check_sizes(self) -> ObservationSpec:
        if len(self.mean) != self.dim:
            raise ValueError(f"mean has {len(self.mean)} entries, fields add up to {self.dim}")
        if len(self.std) != self.dim:
            raise ValueError(f"std has {len(self.std)} entries, fields add up to {self.dim}")
        if any(not s > 0 for s in self.std):
            raise ValueError("std entries must be > 0")
        return self

    def field_slices(self) -> dict[str, slice]:
        out, start = {}, 0
        for f in self.fields:
            out[f.name] = slice(start, start + f.size)
            start += f.size
        return out


class DiscreteActionSpec(StrictModel):
    kind: Literal["discrete"] = "discrete"
    n: PositiveInt
    meanings: list[str]
    safe_action: int = Field(description="index sent when the observation is not finite or stale")

    @model_validator(mode="after")
    def _check(self) -> DiscreteActionSpec:
        if len(self.meanings) != self.n:
            raise ValueError(f"meanings has {len(self.meanings)} entries, n is {self.n}")
        if not 0 <= self.safe_action < self.n:
            raise ValueError(f"safe_action {self.safe_action} outside [0, {self.n})")
        return self


class ContinuousActionSpec(StrictModel):
    kind: Literal["continuous"] = "continuous"
    names: list[str] = Field(min_length=1)
    low: list[float]
    high: list[float]
    units: list[str]
    safe_action: list[float]

    @property
    def dim(self) -> int:
        return len(self.names)

    @model_validator(mode="after")
    def _check(self) -> ContinuousActionSpec:
        for key in ("low", "high", "units", "safe_action"):
            if len(getattr(self, key)) != self.dim:
                raise ValueError(f"{key} has {len(getattr(self, key))} entries, names has {self.dim}")
        for i, (lo, hi, safe) in enumerate(zip(self.low, self.high, self.safe_action, strict=True)):
            if not lo < hi:
                raise ValueError(f"low[{i}]={lo} must be below high[{i}]={hi}")
            if not lo <= safe <= hi:
                raise ValueError(f"safe_action[{i}]={safe} outside [{lo}, {hi}]")
        return self


ActionSpec = Annotated[DiscreteActionSpec | ContinuousActionSpec, Field(discriminator="kind")]


class TensorSpec(StrictModel):
    """A graph input or output. String dims are symbolic (``"batch"``)."""

    name: str
    shape: list[int | str]
    dtype: Literal["float32", "int64", "bool"]


class RecurrentState(StrictModel):
    """A state tensor the caller feeds back: output ``output`` of one call is input ``input`` of the next."""

    input: str
    output: str
    size: PositiveInt


class Provenance(StrictModel):
    trainer: str
    config_hash: str | None = None
    git_sha: str | None = None
    seed: int | None = None
    disruptions: list[dict[str, Any]] = Field(default_factory=list)
    created_utc: str
    robocoord_version: str


class PolicyContract(StrictModel):
    schema_version: int = SCHEMA_VERSION
    family: Family
    observation: ObservationSpec
    action: ActionSpec
    control_rate_hz: PositiveFloat
    stale_after_s: PositiveFloat | None = Field(
        None, description="inputs older than this give the safe action; default 3 control periods"
    )
    opset: int
    inputs: list[TensorSpec] = Field(min_length=1, description="first input is the observation batch")
    outputs: list[TensorSpec] = Field(min_length=1, description="first output is the action batch")
    recurrent_state: list[RecurrentState] = Field(default_factory=list)
    family_params: dict[str, Any] = Field(default_factory=dict)
    provenance: Provenance
    sha256: str = Field(ZERO_DIGEST, pattern=r"^[0-9a-f]{64}$")

    @property
    def stale_timeout_s(self) -> float:
        return self.stale_after_s if self.stale_after_s is not None else 3.0 / self.control_rate_hz

    @model_validator(mode="after")
    def _check_io(self) -> PolicyContract:
        obs_in = self.inputs[0]
        if obs_in.dtype != "float32" or len(obs_in.shape) != 2 or obs_in.shape[1] != self.observation.dim:
            raise ValueError(
                f"first input must be float32 [batch, {self.observation.dim}], found {obs_in.dtype} {obs_in.shape}"
            )
        names_in = {t.name for t in self.inputs}
        names_out = {t.name for t in self.outputs}
        for state in self.recurrent_state:
            if state.input not in names_in or state.output not in names_out:
                raise ValueError(
                    f"recurrent state {state.input}->{state.output} is not among the graph's inputs/outputs"
                )
        return self

    def to_json(self) -> str:
        return canonical_json(self.model_dump(mode="json"))


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def digest_with_zeroed_field(model_bytes: bytes) -> tuple[str | None, str]:
    """(digest stored in the file or None, digest computed over the file with that field zeroed)."""
    matches = list(_DIGEST_FIELD.finditer(model_bytes))
    if len(matches) != 1:
        return None, ""
    match = matches[0]
    zeroed = model_bytes[: match.start(1)] + ZERO_DIGEST.encode() + model_bytes[match.end(1) :]
    return match.group(1).decode(), hashlib.sha256(zeroed).hexdigest()


def seal(model_bytes_with_zero_digest: bytes) -> bytes:
    """Fill in the digest of a serialised model whose contract carries the zero digest."""
    needle = b'"sha256":"' + ZERO_DIGEST.encode() + b'"'
    if model_bytes_with_zero_digest.count(needle) != 1:
        raise ValueError("serialised model must contain exactly one zeroed sha256 field")
    digest = hashlib.sha256(model_bytes_with_zero_digest).hexdigest()
    return model_bytes_with_zero_digest.replace(needle, b'"sha256":"' + digest.encode() + b'"')


def family_section(contract: PolicyContract, key: str, task: str, error: type[ValueError]) -> dict[str, Any]:
    """``family_params[key]`` of ``contract`` as a dict, or ``error`` saying how to get one (re-export).

    The robot-side runtimes read their task's plain-data description this way (safe_nav's ``arena``,
    team_push's ``team_push``).
    """
    section = contract.family_params.get(key)
    if not isinstance(section, dict):
        raise error(
            f"family_params.{key} missing: re-export the {task} policy with this version of robocoord"
        )
    return section
