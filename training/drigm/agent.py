"""The per-agent DRQN utility network, shared by all agents (agent id is part of the input).

input = [observation, one-hot previous action, one-hot agent id]
Linear(hidden) → ReLU → GRU/LSTM cell(hidden) → Linear(|A|)

The recurrent state is one flat tensor (GRU: h; LSTM: [h, c]) so it can be an explicit
ONNX input/output.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn


class DRQNAgent(nn.Module):
    def __init__(self, input_dim: int, n_actions: int, hidden: int = 64, rnn: Literal["gru", "lstm"] = "gru"):
        super().__init__()
        self.input_dim = input_dim
        self.n_actions = n_actions
        self.hidden = hidden
        self.rnn_kind = rnn
        self.fc1 = nn.Linear(input_dim, hidden)
        self.rnn: nn.Module
        if rnn == "gru":
            self.rnn = nn.GRUCell(hidden, hidden)
        elif rnn == "lstm":
            self.rnn = nn.LSTMCell(hidden, hidden)
        else:
            raise ValueError(f"rnn must be 'gru' or 'lstm', got {rnn!r}")
        self.fc2 = nn.Linear(hidden, n_actions)

    @property
    def state_size(self) -> int:
        return self.hidden if self.rnn_kind == "gru" else 2 * self.hidden

    def initial_state(self, batch: int) -> torch.Tensor:
        return torch.zeros(batch, self.state_size)

    def forward(self, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = F.relu(self.fc1(x))
        if self.rnn_kind == "gru":
            h = self.rnn(z, state)
            return self.fc2(h), h
        h, c = self.rnn(z, (state[:, : self.hidden], state[:, self.hidden :]))
        return self.fc2(h), torch.cat([h, c], dim=-1)


def agent_inputs(obs: torch.Tensor, prev_actions: torch.Tensor, n_actions: int) -> torch.Tensor:
    """[..., n_agents, obs_dim] observations and [..., n_agents] previous actions (−1 = none) -> network inputs."""
    n_agents = obs.shape[-2]
    prev = F.one_hot(prev_actions.clamp_min(0).long(), n_actions).to(obs.dtype)
    prev = prev * (prev_actions >= 0).unsqueeze(-1).to(obs.dtype)
    ids = torch.eye(n_agents, dtype=obs.dtype).expand(*obs.shape[:-1], n_agents)
    return torch.cat([obs, prev, ids], dim=-1)


def unroll(agent: DRQNAgent, inputs: torch.Tensor) -> torch.Tensor:
    """Q-values for whole episodes: ``inputs`` [batch, time, n_agents, input_dim] -> [batch, time, n_agents, |A|]."""
    batch, steps, n_agents, _ = inputs.shape
    state = agent.initial_state(batch * n_agents)
    out = []
    for t in range(steps):
        q, state = agent(inputs[:, t].reshape(batch * n_agents, -1), state)
        out.append(q.view(batch, n_agents, -1))
    return torch.stack(out, dim=1)
