"""Decentralised greedy execution of a DrIGM policy artifact (numpy and onnxruntime only).

The artifact holds the per-agent utility network shared by the team. Its input is
``[own observation, one-hot previous action, one-hot agent id]`` and its recurrent state
``h`` is an explicit input/output. Each robot runs :class:`DrigmAgentExecutor` on its own
observations only, carrying its own hidden state and previous action; under DrIGM the
greedy actions of the agents together form the robust team-optimal joint action.
:class:`DrigmTeamExecutor` runs all agents of a team in one batched call (each row still
sees only its own history), for simulation and tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from robocoord.controllers.policy import ArtifactError, PolicyRuntime


def _family_int(params: dict[str, Any], key: str, path: Path) -> int:
    value = params.get(key)
    if not isinstance(value, int) or value <= 0:
        raise ArtifactError(f"{path}: family_params.{key}: expected a positive integer, found {value!r}")
    return value


class _DrigmArtifact:
    """The runtime plus the sizes the executor needs, checked against the contract."""

    def __init__(self, artifact: Path | str | PolicyRuntime):
        self.runtime = artifact if isinstance(artifact, PolicyRuntime) else PolicyRuntime(artifact)
        contract = self.runtime.contract
        path = self.runtime.path
        if contract.family != "drigm":
            raise ArtifactError(f"{path}: family: expected 'drigm', found {contract.family!r}")
        params = contract.family_params
        self.n_agents = _family_int(params, "n_agents", path)
        self.n_actions = _family_int(params, "n_actions", path)
        self.obs_dim = _family_int(params, "obs_dim", path)
        expected = self.obs_dim + self.n_actions + self.n_agents
        if self.runtime.obs_dim != expected:
            raise ArtifactError(
                f"{path}: input size: expected obs+actions+agents = {expected}, found {self.runtime.obs_dim}"
            )
        if len(contract.recurrent_state) != 1:
            raise ArtifactError(
                f"{path}: recurrent_state: expected one state tensor, found {len(contract.recurrent_state)}"
            )
        self.state_name = contract.recurrent_state[0].input
        self.state_size = contract.recurrent_state[0].size

    def inputs(self, obs: np.ndarray, prev_actions: np.ndarray, agent_ids: np.ndarray) -> np.ndarray:
        obs = np.asarray(obs, dtype=np.float32)
        if obs.ndim != 2 or obs.shape[1] != self.obs_dim:
            raise ValueError(f"observation: expected shape [agents, {self.obs_dim}], got {obs.shape}")
        rows = obs.shape[0]
        prev = np.zeros((rows, self.n_actions), dtype=np.float32)
        has_prev = prev_actions >= 0
        prev[np.flatnonzero(has_prev), prev_actions[has_prev]] = 1.0
        ids = np.zeros((rows, self.n_agents), dtype=np.float32)
        ids[np.arange(rows), agent_ids] = 1.0
        return np.concatenate([obs, prev, ids], axis=1)


class DrigmTeamExecutor:
    """All agents of a team, each acting greedily on its own history (hidden state and previous action)."""

    def __init__(self, artifact: Path | str | PolicyRuntime, n_agents: int | None = None):
        self._art = _DrigmArtifact(artifact)
        self.n_agents = self._art.n_agents if n_agents is None else n_agents
        if self.n_agents != self._art.n_agents:
            raise ValueError(
                f"team size: the artifact was trained for {self._art.n_agents} agents, got {self.n_agents}"
            )
        self.n_actions = self._art.n_actions
        self.obs_dim = self._art.obs_dim
        self.reset()

    def reset(self) -> None:
        self.hidden = np.zeros((self.n_agents, self._art.state_size), dtype=np.float32)
        self.prev_actions = np.full(self.n_agents, -1, dtype=np.int64)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """obs [n_agents, obs_dim] -> greedy actions [n_agents] (int64); advances every agent's memory."""
        x = self._art.inputs(obs, self.prev_actions, np.arange(self.n_agents))
        result = self._art.runtime.act(x, {self._art.state_name: self.hidden})
        actions = np.asarray(result.action, dtype=np.int64)
        self.hidden = result.state[self._art.state_name]
        self.prev_actions = actions.copy()
        self.last_q_values = np.asarray(result.outputs.get("q_values"))
        return actions


class DrigmAgentExecutor:
    """One robot's executor: agent ``agent_index`` of the team, fed with its own observation only."""

    def __init__(self, artifact: Path | str | PolicyRuntime, agent_index: int):
        self._art = _DrigmArtifact(artifact)
        if not 0 <= agent_index < self._art.n_agents:
            raise ValueError(f"agent_index: expected 0..{self._art.n_agents - 1}, got {agent_index}")
        self.agent_index = agent_index
        self.n_agents = self._art.n_agents
        self.n_actions = self._art.n_actions
        self.obs_dim = self._art.obs_dim
        self.reset()

    def reset(self) -> None:
        self.hidden = np.zeros((1, self._art.state_size), dtype=np.float32)
        self.prev_action = -1

    def act(self, obs: np.ndarray) -> int:
        x = self._art.inputs(
            np.asarray(obs, dtype=np.float32).reshape(1, -1),
            np.array([self.prev_action], dtype=np.int64),
            np.array([self.agent_index]),
        )
        result = self._art.runtime.act(x, {self._art.state_name: self.hidden})
        self.hidden = result.state[self._art.state_name]
        self.prev_action = int(result.action[0])
        return self.prev_action
