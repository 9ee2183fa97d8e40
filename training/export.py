"""torch module -> policy artifact (ONNX + contract), with normalisation and action post-processing in the graph.

The network sees ``clip((obs - mean) / std, ±clip)``. Its raw output is post-processed
inside the graph, so the robot runs exactly what was trained:

* ``argmax`` (discrete): outputs ``action`` int64 [batch] and ``q_values`` float32 [batch, n];
* ``clip`` (continuous): ``action`` = clamp(raw, low, high);
* ``tanh`` (continuous): ``action`` = low + (tanh(raw) + 1) / 2 · (high − low).

Every graph also ends with ``used_safe_action`` (bool [batch]): rows whose observation held NaN/inf,
for which the graph itself emitted the contract's safe action and a zeroed recurrent state.

Recurrent nets take ``net(x, *states) -> (raw, *new_states)``; each state becomes an
explicit graph input ``<name>_in`` and output ``<name>_out``.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnx
import torch
from torch import nn

from robocoord import __version__
from robocoord.controllers.contract import (
    MAX_OPSET,
    SAFE_FLAG_OUTPUT,
    ContinuousActionSpec,
    DiscreteActionSpec,
    ObservationSpec,
    PolicyContract,
    Provenance,
    RecurrentState,
    TensorSpec,
    seal,
)
from robocoord.controllers.contract import METADATA_KEY as CONTRACT_KEY

PostProcess = Literal["argmax", "clip", "tanh"]
DEFAULT_OPSET = 17


class _PolicyGraph(nn.Module):
    """What goes into the ONNX file: normalise, clip, run the net, post-process."""

    def __init__(
        self,
        net: nn.Module,
        observation: ObservationSpec,
        action: DiscreteActionSpec | ContinuousActionSpec,
        postprocess: PostProcess,
        n_states: int,
    ):
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.tensor(observation.mean, dtype=torch.float32))
        self.register_buffer("inv_std", 1.0 / torch.tensor(observation.std, dtype=torch.float32))
        self.clip = float(observation.clip) if observation.clip is not None else None
        self.postprocess = postprocess
        self.n_states = n_states
        if isinstance(action, ContinuousActionSpec):
            self.register_buffer("low", torch.tensor(action.low, dtype=torch.float32))
            self.register_buffer("high", torch.tensor(action.high, dtype=torch.float32))
            self.register_buffer("safe_action", torch.tensor(action.safe_action, dtype=torch.float32))
        else:
            self.register_buffer("safe_action", torch.tensor(action.safe_action, dtype=torch.int64))

    def forward(self, obs: torch.Tensor, *states: torch.Tensor) -> tuple[torch.Tensor, ...]:
        # Safety first, inside the graph: a row with NaN/inf is run on the normalisation mean,
        # gets the contract's safe action, a zeroed recurrent state, and is flagged.
        finite = torch.isfinite(obs).all(dim=-1)
        finite_col = finite.unsqueeze(-1)
        obs = torch.where(finite_col, obs, self.mean)
        x = (obs - self.mean) * self.inv_std
        if self.clip is not None:
            x = torch.clamp(x, -self.clip, self.clip)
        if self.n_states:
            raw, *new_states = self.net(x, *states)
            new_states = [torch.where(finite_col, h, torch.zeros_like(h)) for h in new_states]
        else:
            raw, new_states = self.net(x), []
        unsafe = torch.logical_not(finite)
        if self.postprocess == "argmax":
            action = torch.where(finite, torch.argmax(raw, dim=-1), self.safe_action)
            return (action, raw, *new_states, unsafe)
        if self.postprocess == "clip":
            action = torch.minimum(torch.maximum(raw, self.low), self.high)
        else:
            action = self.low + (torch.tanh(raw) + 1.0) * 0.5 * (self.high - self.low)
        return (torch.where(finite_col, action, self.safe_action), *new_states, unsafe)


@dataclass(frozen=True)
class ExportedPolicy:
    path: Path
    contract: PolicyContract
    graph_module: nn.Module  # the torch twin of the ONNX graph, for parity checks


def make_provenance(
    trainer: str,
    config_hash: str | None = None,
    seed: int | None = None,
    disruptions: Sequence[dict[str, Any]] = (),
    git_sha: str | None = None,
) -> Provenance:
    if git_sha is None:
        from robocoord.runs import git_sha as current_git_sha

        git_sha = current_git_sha()
    return Provenance(
        trainer=trainer,
        config_hash=config_hash,
        git_sha=git_sha,
        seed=seed,
        disruptions=list(disruptions),
        created_utc=dt.datetime.now(dt.UTC).isoformat(),
        robocoord_version=__version__,
    )


def export_policy(
    net: nn.Module,
    path: Path | str,
    *,
    family: Literal["gmfs", "drigm", "rcmdp"],
    observation: ObservationSpec,
    action: DiscreteActionSpec | ContinuousActionSpec,
    control_rate_hz: float,
    provenance: Provenance,
    postprocess: PostProcess | None = None,
    family_params: dict[str, Any] | None = None,
    recurrent_state: Sequence[tuple[str, int]] = (),
    stale_after_s: float | None = None,
    opset: int = DEFAULT_OPSET,
) -> ExportedPolicy:
    """Export ``net`` as a sealed artifact at ``path`` and return its contract."""
    if opset > MAX_OPSET:
        raise ValueError(f"opset {opset} is above what the robot loader accepts ({MAX_OPSET})")
    if postprocess is None:
        postprocess = "argmax" if isinstance(action, DiscreteActionSpec) else "clip"
    if (postprocess == "argmax") != isinstance(action, DiscreteActionSpec):
        raise ValueError(f"postprocess {postprocess!r} does not fit a {action.kind} action spec")
    graph = _PolicyGraph(net, observation, action, postprocess, len(recurrent_state)).eval()

    inputs = [TensorSpec(name="obs", shape=["batch", observation.dim], dtype="float32")]
    if isinstance(action, DiscreteActionSpec):
        outputs = [
            TensorSpec(name="action", shape=["batch"], dtype="int64"),
            TensorSpec(name="q_values", shape=["batch", action.n], dtype="float32"),
        ]
    else:
        outputs = [TensorSpec(name="action", shape=["batch", action.dim], dtype="float32")]
    states = []
    for name, size in recurrent_state:
        inputs.append(TensorSpec(name=f"{name}_in", shape=["batch", size], dtype="float32"))
        outputs.append(TensorSpec(name=f"{name}_out", shape=["batch", size], dtype="float32"))
        states.append(RecurrentState(input=f"{name}_in", output=f"{name}_out", size=size))
    outputs.append(TensorSpec(name=SAFE_FLAG_OUTPUT, shape=["batch"], dtype="bool"))

    example = (torch.zeros(2, observation.dim), *(torch.zeros(2, size) for _, size in recurrent_state))
    buffer = io.BytesIO()
    # The TorchScript exporter (dynamo=False) is chosen on purpose: it exports a small
    # policy in well under a second; the dynamo exporter takes several.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            graph,
            example,
            buffer,
            input_names=[t.name for t in inputs],
            output_names=[t.name for t in outputs],
            dynamic_axes={t.name: {0: "batch"} for t in inputs + outputs},
            opset_version=opset,
            dynamo=False,
        )
    model = onnx.load_model_from_string(buffer.getvalue())
    onnx.checker.check_model(model)
    contract = PolicyContract(
        family=family,
        observation=observation,
        action=action,
        control_rate_hz=control_rate_hz,
        stale_after_s=stale_after_s,
        opset=opset,
        inputs=inputs,
        outputs=outputs,
        recurrent_state=states,
        family_params=family_params or {},
        provenance=provenance,
    )
    del model.metadata_props[:]
    entry = model.metadata_props.add()
    entry.key, entry.value = CONTRACT_KEY, contract.to_json()
    model.producer_name = "robocoord"
    model.producer_version = __version__
    sealed = seal(model.SerializeToString())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sealed)
    from robocoord.controllers.policy import read_contract

    return ExportedPolicy(path=path, contract=read_contract(path), graph_module=graph)


def torch_reference(exported: ExportedPolicy, obs: np.ndarray, *states: np.ndarray) -> list[np.ndarray]:
    """The torch graph's policy outputs for ``obs`` (float32 numpy), for parity tests.

    The trailing ``used_safe_action`` flag is left out: callers compare actions, values and states.
    """
    with torch.no_grad():
        out = exported.graph_module(
            torch.as_tensor(obs, dtype=torch.float32),
            *(torch.as_tensor(s, dtype=torch.float32) for s in states),
        )
    return [t.numpy() for t in out[:-1]]


def mlp(sizes: Sequence[int], activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Plain MLP: Linear, activation, ..., Linear (no activation on the output)."""
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)
