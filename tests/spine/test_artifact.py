"""The policy artifact contract: export, parity, and every refusal the robot loader owes the user."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

from robocoord.controllers.contract import (
    METADATA_KEY,
    ZERO_DIGEST,
    ContinuousActionSpec,
    ObservationField,
    ObservationSpec,
    seal,
)
from robocoord.controllers.policy import ArtifactError, ObservationShapeError, PolicyRuntime, read_contract
from robocoord.training.export import ExportedPolicy, export_policy, make_provenance, mlp, torch_reference


def rewrite(
    src: Path,
    dst: Path,
    edit_contract: Callable[[dict[str, Any]], None] | None = None,
    edit_model: Callable[[onnx.ModelProto], None] | None = None,
) -> Path:
    """Edit an artifact and re-seal it properly, so only the edited property is wrong."""
    model = onnx.load(str(src))
    props = {p.key: p for p in model.metadata_props}
    contract = json.loads(props[METADATA_KEY].value)
    contract["sha256"] = ZERO_DIGEST
    if edit_contract:
        edit_contract(contract)
    props[METADATA_KEY].value = json.dumps(contract, sort_keys=True, separators=(",", ":"))
    if edit_model:
        edit_model(model)
    dst.write_bytes(seal(model.SerializeToString()))
    return dst


def test_parity_torch_vs_onnxruntime_on_1000_observations(small_artifact: ExportedPolicy) -> None:
    runtime = PolicyRuntime(small_artifact.path)
    obs = np.random.default_rng(0).normal(0.0, 4.0, size=(1000, 32)).astype(np.float32)
    result = runtime.act(obs)
    torch_action, torch_q = torch_reference(small_artifact, obs)
    assert np.max(np.abs(result.outputs["q_values"] - torch_q)) <= 1e-5
    np.testing.assert_array_equal(result.action, torch_action)
    assert not result.used_safe_action.any()


def test_normalisation_and_clip_are_inside_the_graph(small_artifact: ExportedPolicy) -> None:
    """Observations far beyond the clip give the same output as observations at the clip."""
    runtime = PolicyRuntime(small_artifact.path)
    mean, std, clip = 0.5, 2.0, 5.0
    at_clip = np.full((1, 32), mean + clip * std, dtype=np.float32)
    beyond = np.full((1, 32), 1e6, dtype=np.float32)
    np.testing.assert_allclose(
        runtime.act(at_clip).outputs["q_values"], runtime.act(beyond).outputs["q_values"]
    )


def test_contract_round_trips_with_provenance(small_artifact: ExportedPolicy) -> None:
    contract = read_contract(small_artifact.path)
    assert contract.family == "gmfs"
    assert contract.observation.dim == 32
    assert contract.family_params == {"kappa": 4}
    assert contract.provenance.seed == 3
    assert contract.sha256 != ZERO_DIGEST
    assert contract.control_rate_hz == 20.0


def test_one_flipped_byte_anywhere_is_refused_with_hash(
    small_artifact: ExportedPolicy, tmp_path: Path
) -> None:
    data = bytearray(small_artifact.path.read_bytes())
    rng = np.random.default_rng(1)
    for position in [len(data) // 2, 10, len(data) - 20, *rng.integers(0, len(data), 5)]:
        flipped = bytearray(data)
        flipped[int(position)] ^= 0x01
        target = tmp_path / f"flipped_{position}.onnx"
        target.write_bytes(bytes(flipped))
        with pytest.raises(ArtifactError, match="hash"):
            PolicyRuntime(target)


def test_wrong_observation_size_is_refused_naming_both_sizes(small_artifact: ExportedPolicy) -> None:
    runtime = PolicyRuntime(small_artifact.path)
    with pytest.raises(ObservationShapeError, match=r"expects 32, got 31"):
        runtime.act(np.zeros((4, 31), dtype=np.float32))


def test_nan_or_inf_row_gets_safe_action_and_flag(small_artifact: ExportedPolicy) -> None:
    runtime = PolicyRuntime(small_artifact.path)
    obs = np.random.default_rng(2).normal(size=(5, 32)).astype(np.float32)
    clean = runtime.act(obs).action.copy()
    obs[1, 7] = np.nan
    obs[3, 0] = np.inf
    result = runtime.act(obs)
    assert result.used_safe_action.tolist() == [False, True, False, True, False]
    assert result.action[1] == 0 and result.action[3] == 0  # contract safe_action is "stop"
    np.testing.assert_array_equal(result.action[[0, 2, 4]], clean[[0, 2, 4]])


def test_unknown_schema_version_is_refused(small_artifact: ExportedPolicy, tmp_path: Path) -> None:
    bad = rewrite(
        small_artifact.path, tmp_path / "v9.onnx", edit_contract=lambda c: c.update(schema_version=9)
    )
    with pytest.raises(ArtifactError, match=r"schema_version: expected one of \[1\], found 9"):
        PolicyRuntime(bad)


def test_unsupported_opset_is_refused(small_artifact: ExportedPolicy, tmp_path: Path) -> None:
    def bump(model: onnx.ModelProto) -> None:
        for entry in model.opset_import:
            if entry.domain in ("", "ai.onnx"):
                entry.version = 99

    bad = rewrite(small_artifact.path, tmp_path / "opset.onnx", edit_model=bump)
    with pytest.raises(ArtifactError, match=r"opset: supported 13\.\.21, found 99"):
        PolicyRuntime(bad)


def test_graph_io_that_differs_from_contract_is_refused(
    small_artifact: ExportedPolicy, tmp_path: Path
) -> None:
    def rename_input(c: dict[str, Any]) -> None:
        c["inputs"][0]["name"] = "observation"

    bad = rewrite(small_artifact.path, tmp_path / "names.onnx", edit_contract=rename_input)
    with pytest.raises(ArtifactError, match=r"contract expects \['observation'\], graph has \['obs'\]"):
        PolicyRuntime(bad)

    def wrong_q_width(c: dict[str, Any]) -> None:
        c["outputs"][1]["shape"] = ["batch", 5]

    bad = rewrite(small_artifact.path, tmp_path / "shape.onnx", edit_contract=wrong_q_width)
    with pytest.raises(
        ArtifactError, match=r"'q_values' shape: contract expects \['batch', 5\], graph has \['batch', 4\]"
    ):
        PolicyRuntime(bad)


def test_copied_artifact_loads(small_artifact: ExportedPolicy, tmp_path: Path) -> None:
    """The digest does not depend on the file name or location."""
    copy = tmp_path / "renamed.onnx"
    shutil.copy(small_artifact.path, copy)
    assert PolicyRuntime(copy).contract.sha256 == read_contract(small_artifact.path).sha256


def test_continuous_policy_post_processing_clips_to_bounds(tmp_path: Path) -> None:
    import torch

    torch.manual_seed(0)
    observation = ObservationSpec(
        fields=[ObservationField(name="x", size=3, unit="1")], mean=[0.0] * 3, std=[1.0] * 3
    )
    action = ContinuousActionSpec(
        names=["v", "omega"],
        low=[-0.5, -1.0],
        high=[0.5, 1.0],
        units=["m/s", "rad/s"],
        safe_action=[0.0, 0.0],
    )
    net = mlp([3, 16, 2])
    with torch.no_grad():
        net[-1].weight.mul_(100.0)  # push raw outputs far outside the bounds
    exported = export_policy(
        net,
        tmp_path / "cont.onnx",
        family="rcmdp",
        observation=observation,
        action=action,
        control_rate_hz=10.0,
        provenance=make_provenance("test", git_sha="test"),
    )
    runtime = PolicyRuntime(exported.path)
    obs = np.random.default_rng(0).normal(size=(200, 3)).astype(np.float32)
    out = runtime.act(obs).action
    assert out.shape == (200, 2)
    assert (out[:, 0] >= -0.5).all() and (out[:, 0] <= 0.5).all()
    assert (np.abs(out[:, 0]) == 0.5).any()  # clipping happened
    np.testing.assert_allclose(out, torch_reference(exported, obs)[0], atol=1e-5)
    obs[0, 0] = np.nan
    np.testing.assert_array_equal(runtime.act(obs).action[0], [0.0, 0.0])


def test_recurrent_state_is_an_explicit_input_and_output(tmp_path: Path) -> None:
    import torch
    from torch import nn

    class TinyGru(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp = nn.Linear(4, 8)
            self.gru = nn.GRUCell(8, 8)
            self.out = nn.Linear(8, 3)

        def forward(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            h_next = self.gru(torch.relu(self.inp(x)), h)
            return self.out(h_next), h_next

    torch.manual_seed(0)
    observation = ObservationSpec(
        fields=[ObservationField(name="x", size=4, unit="1")], mean=[0.0] * 4, std=[1.0] * 4
    )
    from robocoord.controllers.contract import DiscreteActionSpec

    exported = export_policy(
        TinyGru(),
        tmp_path / "gru.onnx",
        family="drigm",
        observation=observation,
        action=DiscreteActionSpec(n=3, meanings=["a", "b", "c"], safe_action=2),
        control_rate_hz=10.0,
        provenance=make_provenance("test", git_sha="test"),
        recurrent_state=[("h", 8)],
    )
    runtime = PolicyRuntime(exported.path)
    assert [s.input for s in runtime.contract.recurrent_state] == ["h_in"]
    rng = np.random.default_rng(0)
    state = runtime.initial_state(5)
    h_torch = np.zeros((5, 8), dtype=np.float32)
    for _ in range(4):
        obs = rng.normal(size=(5, 4)).astype(np.float32)
        result = runtime.act(obs, state)
        _, q_torch, h_torch = torch_reference(exported, obs, h_torch)
        assert np.max(np.abs(result.outputs["q_values"] - q_torch)) <= 1e-5
        state = result.state
    np.testing.assert_allclose(state["h_in"], h_torch, atol=1e-5)


def test_graph_flags_and_replaces_non_finite_rows_itself(small_artifact: ExportedPolicy) -> None:
    contract = read_contract(small_artifact.path)
    assert contract.outputs[-1].name == "used_safe_action" and contract.outputs[-1].dtype == "bool"


def test_graph_without_the_safety_output_gets_the_same_protection_from_the_loader(
    small_artifact: ExportedPolicy, tmp_path: Path
) -> None:
    """Hand-built graphs (no ``used_safe_action`` output) are protected by the loader instead."""

    def drop_flag_output(model: onnx.ModelProto) -> None:
        del model.graph.output[-1]

    def drop_flag_spec(c: dict[str, Any]) -> None:
        c["outputs"] = c["outputs"][:-1]

    bare = rewrite(small_artifact.path, tmp_path / "bare.onnx", drop_flag_spec, drop_flag_output)
    runtime = PolicyRuntime(bare)
    assert all(t.name != "used_safe_action" for t in runtime.contract.outputs)
    obs = np.random.default_rng(4).normal(size=(3, 32)).astype(np.float32)
    clean = PolicyRuntime(small_artifact.path).act(obs).action
    obs[2, 5] = -np.inf
    result = runtime.act(obs)
    assert result.used_safe_action.tolist() == [False, False, True]
    np.testing.assert_array_equal(result.action, [clean[0], clean[1], 0])
