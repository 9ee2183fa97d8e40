"""Export of the per-agent utility network (hidden state explicit) and decentralised greedy execution."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from robocoord.controllers.drigm_executor import DrigmAgentExecutor, DrigmTeamExecutor
from robocoord.controllers.policy import PolicyRuntime, read_contract
from robocoord.training.drigm.config import EnvSpec, LearnerSpec
from robocoord.training.drigm.learner import DrigmLearner, TeamDims
from robocoord.training.drigm.train import export_agent
from robocoord.training.export import make_provenance, torch_reference

DIMS = TeamDims(n_agents=3, n_actions=2, obs_dim=2, state_dim=3)
ENV = EnvSpec(task="tiny", n_agents=3, episode_steps=8)
HISTORIES = 1000
STEPS = 6


def _learner(mixer: str, seed: int) -> DrigmLearner:
    learner = DrigmLearner(mixer=mixer, robust="tv", rho=0.2, dims=DIMS, spec=LearnerSpec(), seed=seed)
    with torch.no_grad():  # sharpen the random init so greedy actions vary across histories
        for p in learner.agent.parameters():
            p.mul_(3.0)
    return learner


def _export(learner: DrigmLearner, tmp_path: Path):
    return export_agent(
        learner,
        tmp_path / "policy.onnx",
        env=ENV,
        control_rate_hz=10.0,
        provenance=make_provenance("drigm-test", seed=0, git_sha="test"),
    )


def test_artifact_declares_the_drigm_family_and_the_hidden_state(tmp_path: Path) -> None:
    exported = _export(_learner("qmix", 0), tmp_path)
    contract = read_contract(exported.path)
    assert contract.family == "drigm"
    assert [(s.input, s.output, s.size) for s in contract.recurrent_state] == [("h_in", "h_out", 64)]
    assert [f.name for f in contract.observation.fields] == ["obs", "prev_action", "agent_id"]
    assert contract.family_params["n_agents"] == 3
    assert contract.family_params["robust"] == "tv"


@pytest.mark.parametrize("mixer", ["vdn", "qmix", "qtran"])
def test_onnx_matches_torch_on_q_values_and_hidden_state(mixer: str, tmp_path: Path) -> None:
    exported = _export(_learner(mixer, 1), tmp_path)
    runtime = PolicyRuntime(exported.path)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(257, DIMS.agent_input_dim)).astype(np.float32)
    h = rng.normal(size=(257, 64)).astype(np.float32)
    ref_action, ref_q, ref_h = torch_reference(exported, x, h)
    got = runtime.act(x, {"h_in": h})
    np.testing.assert_allclose(got.outputs["q_values"], ref_q, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(got.state["h_in"], ref_h, atol=1e-5, rtol=1e-5)
    np.testing.assert_array_equal(got.action, ref_action)


def _random_histories(rng: np.random.Generator) -> np.ndarray:
    """[STEPS, HISTORIES, n_agents, obs_dim]: noisy one-hot observations, as the tiny game emits."""
    states = rng.integers(0, DIMS.obs_dim, size=(STEPS, HISTORIES, DIMS.n_agents))
    onehot = np.eye(DIMS.obs_dim, dtype=np.float32)[states]
    return (onehot + rng.normal(scale=0.5, size=onehot.shape)).astype(np.float32)


@pytest.mark.parametrize("mixer", ["vdn", "qmix", "qtran"])
def test_decentralised_execution_reproduces_the_torch_greedy_joint_action(mixer: str, tmp_path: Path) -> None:
    learner = _learner(mixer, 2)
    exported = _export(learner, tmp_path)
    runtime = PolicyRuntime(exported.path)
    rng = np.random.default_rng(1)
    histories = _random_histories(rng)
    # torch: the centralised learner's greedy decentralised agents over all histories at once
    hidden = learner.agent.initial_state(HISTORIES * DIMS.n_agents)
    prev = np.full((HISTORIES, DIMS.n_agents), -1, dtype=np.int64)
    torch_actions = []
    for t in range(STEPS):
        prev, hidden = learner.act(histories[t], prev, hidden, 0.0, rng)
        torch_actions.append(prev)
    # artifacts: one executor per history, every agent carrying its own memory
    executed = np.zeros((STEPS, HISTORIES, DIMS.n_agents), dtype=np.int64)
    for k in range(HISTORIES):
        team = DrigmTeamExecutor(runtime)
        for t in range(STEPS):
            executed[t, k] = team.act(histories[t, k])
    np.testing.assert_array_equal(executed, np.stack(torch_actions))
    assert len(np.unique(executed.reshape(-1, DIMS.n_agents), axis=0)) > 1  # not a constant policy


@pytest.mark.parametrize("mixer", ["vdn", "qmix"])
def test_executed_joint_action_is_the_argmax_of_the_mixed_team_value(mixer: str, tmp_path: Path) -> None:
    """IGM through the whole pipeline: per-robot greedy actions maximise Q_tot over all joint actions."""
    learner = _learner(mixer, 3)
    runtime = PolicyRuntime(_export(learner, tmp_path).path)
    rng = np.random.default_rng(2)
    histories = _random_histories(rng)[:, :200]
    states = torch.as_tensor(rng.normal(size=(200, DIMS.state_dim)).astype(np.float32))
    joint = torch.tensor(list(itertools.product(range(DIMS.n_actions), repeat=DIMS.n_agents)))
    for k in range(200):
        team = DrigmTeamExecutor(runtime)
        for t in range(STEPS):
            actions = team.act(histories[t, k])
        q = torch.as_tensor(team.last_q_values)  # [n_agents, |A|] at the last step
        agent_qs = q[torch.arange(DIMS.n_agents), joint]  # [joint, n_agents]
        with torch.no_grad():
            q_tot = learner.mixer(agent_qs, states[k].expand(len(joint), -1))
        assert tuple(joint[int(q_tot.argmax())].tolist()) == tuple(actions.tolist())


def test_single_robot_executor_matches_the_team_executor(tmp_path: Path) -> None:
    runtime = PolicyRuntime(_export(_learner("qmix", 4), tmp_path).path)
    histories = _random_histories(np.random.default_rng(3))[:, :50]
    for k in range(50):
        team = DrigmTeamExecutor(runtime)
        robots = [DrigmAgentExecutor(runtime, i) for i in range(DIMS.n_agents)]
        for t in range(STEPS):
            joint = team.act(histories[t, k])
            assert [robots[i].act(histories[t, k, i]) for i in range(DIMS.n_agents)] == joint.tolist()


def test_executor_rejects_a_team_size_the_artifact_was_not_trained_for(tmp_path: Path) -> None:
    runtime = PolicyRuntime(_export(_learner("vdn", 5), tmp_path).path)
    with pytest.raises(ValueError, match="trained for 3 agents, got 2"):
        DrigmTeamExecutor(runtime, n_agents=2)
    with pytest.raises(ValueError, match="agent_index"):
        DrigmAgentExecutor(runtime, 3)
