"""Load a policy artifact and run it with onnxruntime (one intra-op thread, CPU).

The loader refuses an artifact, naming the expected and the found value, when the
digest does not match, the schema version or opset is unsupported, or the graph's
inputs/outputs differ from the contract. :meth:`PolicyRuntime.act` never returns
garbage: rows with NaN/inf observations get the contract's safe action and are flagged.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from pydantic import ValidationError

from robocoord.config import validation_lines
from robocoord.controllers.contract import (
    MAX_OPSET,
    METADATA_KEY,
    MIN_OPSET,
    SAFE_FLAG_OUTPUT,
    SUPPORTED_SCHEMA_VERSIONS,
    DiscreteActionSpec,
    PolicyContract,
    TensorSpec,
    digest_with_zeroed_field,
)


class ArtifactError(ValueError):
    """The artifact cannot be used. The message names the expected and the found value."""


class ObservationShapeError(ValueError):
    """The observation batch does not have the contract's size."""


def _read_checked_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ArtifactError(f"{path}: cannot read artifact: {err.strerror}") from None
    stored, computed = digest_with_zeroed_field(data)
    if stored is None:
        raise ArtifactError(
            f"{path}: hash field missing or damaged: expected one contract sha256 field, found none"
        )
    if stored != computed:
        raise ArtifactError(
            f"{path}: hash mismatch: contract says sha256 {stored}, file hashes to {computed}"
        )
    return data


def _contract_from_model(path: Path, model: onnx.ModelProto) -> PolicyContract:
    props = {p.key: p.value for p in model.metadata_props}
    if METADATA_KEY not in props:
        raise ArtifactError(
            f"{path}: no contract: expected metadata key {METADATA_KEY!r}, found {sorted(props)}"
        )
    raw = json.loads(props[METADATA_KEY])
    version = raw.get("schema_version")
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ArtifactError(
            f"{path}: schema_version: expected one of {sorted(SUPPORTED_SCHEMA_VERSIONS)}, found {version!r}"
        )
    try:
        return PolicyContract.model_validate(raw)
    except ValidationError as err:
        raise ArtifactError("\n".join(validation_lines(f"{path}: contract", err))) from None


def read_contract(path: Path | str, verify: bool = True) -> PolicyContract:
    """The contract of an artifact (hash-checked unless ``verify`` is False)."""
    path = Path(path)
    data = _read_checked_bytes(path) if verify else path.read_bytes()
    return _contract_from_model(path, onnx.load_model_from_string(data))


def _default_opset(model: onnx.ModelProto) -> int:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    return -1


def _dims(value_info: onnx.ValueInfoProto) -> list[int | str]:
    dims: list[int | str] = []
    for d in value_info.type.tensor_type.shape.dim:
        dims.append(int(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?"))
    return dims


_ONNX_DTYPES: dict[int, str] = {
    int(onnx.TensorProto.FLOAT): "float32",
    int(onnx.TensorProto.INT64): "int64",
    int(onnx.TensorProto.BOOL): "bool",
}


def _check_io(path: Path, what: str, expected: list[TensorSpec], found: list[onnx.ValueInfoProto]) -> None:
    expected_names = [t.name for t in expected]
    found_names = [v.name for v in found]
    if expected_names != found_names:
        raise ArtifactError(
            f"{path}: graph {what} names: contract expects {expected_names}, graph has {found_names}"
        )
    for spec, info in zip(expected, found, strict=True):
        dims = _dims(info)
        same_rank = len(dims) == len(spec.shape)
        same_dims = same_rank and all(
            (isinstance(e, str) and isinstance(f, str)) or e == f
            for e, f in zip(spec.shape, dims, strict=True)
        )
        if not same_dims:
            raise ArtifactError(
                f"{path}: {what} {spec.name!r} shape: contract expects {spec.shape}, graph has {dims}"
            )
        elem_type = int(info.type.tensor_type.elem_type)
        dtype = _ONNX_DTYPES.get(elem_type, str(elem_type))
        if dtype != spec.dtype:
            raise ArtifactError(
                f"{path}: {what} {spec.name!r} dtype: contract expects {spec.dtype}, graph has {dtype}"
            )


_NUMPY_DTYPES = {"float32": np.float32, "int64": np.int64, "bool": np.bool_}
_MAX_CACHED_BATCH_SIZES = 8


class _BoundBatch:
    """Pre-allocated input/output buffers bound to the session for one batch size.

    Binding once and reusing the buffers halves the per-call cost of ``session.run`` for
    small policies, which dominates at batch 1 on a robot.
    """

    def __init__(self, session: ort.InferenceSession, contract: PolicyContract, batch: int):
        def shape(spec: TensorSpec) -> tuple[int, ...]:
            return tuple(batch if isinstance(d, str) else d for d in spec.shape)

        self.binding = session.io_binding()
        self.inputs: dict[str, np.ndarray] = {
            t.name: np.zeros(shape(t), dtype=_NUMPY_DTYPES[t.dtype]) for t in contract.inputs
        }
        self.outputs: dict[str, np.ndarray] = {
            t.name: np.zeros(shape(t), dtype=_NUMPY_DTYPES[t.dtype]) for t in contract.outputs
        }
        for name, array in self.inputs.items():
            self.binding.bind_input(name, "cpu", 0, array.dtype, array.shape, array.ctypes.data)
        for name, array in self.outputs.items():
            self.binding.bind_output(name, "cpu", 0, array.dtype, array.shape, array.ctypes.data)


@dataclass
class ActResult:
    """Actions for a batch, which rows fell back to the safe action, all raw graph outputs, next recurrent state."""

    action: np.ndarray
    used_safe_action: np.ndarray
    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    state: dict[str, np.ndarray] = field(default_factory=dict)


class PolicyRuntime:
    """A loaded, verified artifact ready for inference."""

    def __init__(self, path: Path | str, intra_op_threads: int = 1):
        self.path = Path(path)
        data = _read_checked_bytes(self.path)
        model = onnx.load_model_from_string(data)
        self.contract = _contract_from_model(self.path, model)
        opset = _default_opset(model)
        if not MIN_OPSET <= opset <= MAX_OPSET:
            raise ArtifactError(f"{self.path}: opset: supported {MIN_OPSET}..{MAX_OPSET}, found {opset}")
        if opset != self.contract.opset:
            raise ArtifactError(f"{self.path}: opset: contract says {self.contract.opset}, graph has {opset}")
        initializer_names = {init.name for init in model.graph.initializer}
        graph_inputs = [v for v in model.graph.input if v.name not in initializer_names]
        _check_io(self.path, "input", self.contract.inputs, graph_inputs)
        _check_io(self.path, "output", self.contract.outputs, list(model.graph.output))

        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = ort.InferenceSession(
                data, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own exception types for graphs it cannot run
            raise ArtifactError(f"{self.path}: onnxruntime refused the graph: {err}") from None

        spec = self.contract.observation
        self.obs_dim = spec.dim
        self._obs_name = self.contract.inputs[0].name
        self._output_names = [t.name for t in self.contract.outputs]
        self._graph_flags_unsafe_rows = any(
            t.name == SAFE_FLAG_OUTPUT and t.dtype == "bool" for t in self.contract.outputs
        )
        # A non-finite row is replaced by the normalisation mean before inference, so the
        # graph never sees NaN; its output row is then overwritten by the safe action.
        self._mean = np.asarray(spec.mean, dtype=np.float32)
        self._bindings: dict[int, _BoundBatch] = {}
        self._lock = threading.Lock()
        action = self.contract.action
        if isinstance(action, DiscreteActionSpec):
            self.safe_action: np.ndarray = np.asarray(action.safe_action, dtype=np.int64)
        else:
            self.safe_action = np.asarray(action.safe_action, dtype=np.float32)

    def initial_state(self, batch: int) -> dict[str, np.ndarray]:
        return {s.input: np.zeros((batch, s.size), dtype=np.float32) for s in self.contract.recurrent_state}

    def check_observation(self, obs: np.ndarray) -> np.ndarray:
        batch = np.asarray(obs, dtype=np.float32)
        if batch.ndim == 1:
            batch = batch[None, :]
        if batch.ndim != 2 or batch.shape[1] != self.obs_dim:
            found = batch.shape[-1] if batch.ndim >= 1 else 0
            raise ObservationShapeError(
                f"observation size: contract expects {self.obs_dim}, got {found} (array shape {tuple(batch.shape)})"
            )
        return batch

    def _binding_for(self, batch: int) -> _BoundBatch:
        bound = self._bindings.get(batch)
        if bound is None:
            if len(self._bindings) >= _MAX_CACHED_BATCH_SIZES:
                self._bindings.pop(next(iter(self._bindings)))
            bound = _BoundBatch(self._session, self.contract, batch)
            self._bindings[batch] = bound
        return bound

    def act(self, obs_batch: np.ndarray, state: dict[str, np.ndarray] | None = None) -> ActResult:
        """Run the policy on ``obs_batch`` [batch, obs_dim] (a single 1-D observation is promoted)."""
        obs = self.check_observation(obs_batch)
        if self._graph_flags_unsafe_rows:
            # The graph replaces non-finite rows itself: no numpy reduction on the hot path.
            outputs = self._run(obs, state)
            flags = outputs.pop(SAFE_FLAG_OUTPUT)
            action = outputs[self._output_names[0]]
            next_state = {s.input: outputs[s.output] for s in self.contract.recurrent_state}
            return ActResult(action=action, used_safe_action=flags, outputs=outputs, state=next_state)
        finite = np.isfinite(obs).all(axis=1)
        all_finite = bool(finite.all())
        if not all_finite:
            obs = np.where(finite[:, None], obs, self._mean)
        outputs = self._run(obs, state)
        action = outputs[self._output_names[0]]
        next_state = {s.input: outputs[s.output] for s in self.contract.recurrent_state}
        if not all_finite:
            action[~finite] = self.safe_action
            for value in next_state.values():
                value[~finite] = 0.0  # a corrupted step must not poison the memory
        return ActResult(action=action, used_safe_action=~finite, outputs=outputs, state=next_state)

    def _run(self, obs: np.ndarray, state: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
        batch = obs.shape[0]
        with self._lock:
            bound = self._binding_for(batch)
            np.copyto(bound.inputs[self._obs_name], obs)
            if self.contract.recurrent_state:
                feed_state = state if state is not None else self.initial_state(batch)
                for s in self.contract.recurrent_state:
                    np.copyto(bound.inputs[s.input], feed_state[s.input])
            self._session.run_with_iobinding(bound.binding)
            # The bound buffers are reused by the next call: hand out copies.
            return {name: buffer.copy() for name, buffer in bound.outputs.items()}

    def safe_batch(self, batch: int) -> np.ndarray:
        return np.broadcast_to(self.safe_action, (batch, *self.safe_action.shape)).copy()


def load_policy(path: Path | str) -> PolicyRuntime:
    return PolicyRuntime(path)
