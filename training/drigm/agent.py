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
        self.rnn: nn.GRU | nn.LSTM
        if rnn == "gru":
            self.rnn = nn.GRU(hidden, hidden, batch_first=True)
        elif rnn == "lstm":
            self.rnn = nn.LSTM(hidden, hidden, batch_first=True)
        else:
            raise ValueError(f"rnn must be 'gru' or 'lstm', got {rnn!r}")
        self.fc2 = nn.Linear(hidden, n_actions)

    @property
    def state_size(self) -> int:
        return self.hidden if self.rnn_kind == "gru" else 2 * self.hidden

    def initial_state(self, batch: int) -> torch.Tensor:
        return torch.zeros(batch, self.state_size)

    def _run(self, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x [B, T, input_dim], flat state [B, S] -> Q [B, T, |A|], flat state after the last step."""
        z = F.relu(self.fc1(x))
        if isinstance(self.rnn, nn.GRU):
            out, h = self.rnn(z, state.unsqueeze(0))
            return self.fc2(out), h[0]
        h0 = state[:, : self.hidden].unsqueeze(0).contiguous()
        c0 = state[:, self.hidden :].unsqueeze(0).contiguous()
        out, (h, c) = self.rnn(z, (h0, c0))
        return self.fc2(out), torch.cat([h[0], c[0]], dim=-1)

    def forward(self, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One decision step: x [B, input_dim], state [B, S] -> (Q [B, |A|], next state [B, S])."""
        q, new_state = self._run(x.unsqueeze(1), state)
        return q[:, 0], new_state

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        """Whole histories from a zero state: x [B, T, input_dim] -> Q [B, T, |A|]."""
        q, _ = self._run(x, self.initial_state(x.shape[0]))
        return q


def agent_inputs(obs: torch.Tensor, prev_actions: torch.Tensor, n_actions: int) -> torch.Tensor:
    """[..., n_agents, obs_dim] observations and [..., n_agents] previous actions (−1 = none) -> network inputs."""
    n_agents = obs.shape[-2]
    prev = F.one_hot(prev_actions.clamp_min(0).long(), n_actions).to(obs.dtype)
    prev = prev * (prev_actions >= 0).unsqueeze(-1).to(obs.dtype)
    ids = torch.eye(n_agents, dtype=obs.dtype).expand(*obs.shape[:-1], n_agents)
    return torch.cat([obs, prev, ids], dim=-1)


def unroll(agent: DRQNAgent, inputs: torch.Tensor) -> torch.Tensor:
    """Q-values for whole episodes: ``inputs`` [batch, time, n_agents, input_dim] -> [batch, time, n_agents, |A|]."""
    batch, steps, n_agents, dim = inputs.shape
    per_agent = inputs.permute(0, 2, 1, 3).reshape(batch * n_agents, steps, dim)
    q = agent.sequence(per_agent)
    return q.view(batch, n_agents, steps, -1).permute(0, 2, 1, 3)
