"""Value-factorisation mixers: VDN (sum), QMIX (monotonic hypernetwork), QTRAN-base (joint Q and V).

Shapes: ``agent_qs`` [..., n_agents], ``states`` [..., state_dim]; every mixer works on any
leading batch dims (typically [batch, time]).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

MIXERS = ("vdn", "qmix", "qtran")


class VDNMixer(nn.Module):
    """Q_tot = Σ_i Q_i (the state is ignored)."""

    needs_state = False

    def forward(self, agent_qs: torch.Tensor, states: torch.Tensor | None = None) -> torch.Tensor:
        return agent_qs.sum(dim=-1)


class QMixer(nn.Module):
    """Q_tot = w₂(s)ᵀ ELU(W₁(s)ᵀ q + b₁(s)) + V(s), with W₁, w₂ = |hypernetwork(s)| ≥ 0, so ∂Q_tot/∂Q_i ≥ 0."""

    needs_state = True

    def __init__(self, n_agents: int, state_dim: int, embed_dim: int = 32, hypernet_embed: int = 64):
        super().__init__()
        if state_dim <= 0:
            raise ValueError("QMIX needs a global state (state_dim > 0); the task provides none")
        self.n_agents = n_agents
        self.embed_dim = embed_dim
        self.hyper_w1 = nn.Sequential(
            nn.Linear(state_dim, hypernet_embed), nn.ReLU(), nn.Linear(hypernet_embed, n_agents * embed_dim)
        )
        self.hyper_w2 = nn.Sequential(
            nn.Linear(state_dim, hypernet_embed), nn.ReLU(), nn.Linear(hypernet_embed, embed_dim)
        )
        self.hyper_b1 = nn.Linear(state_dim, embed_dim)
        self.v = nn.Sequential(nn.Linear(state_dim, embed_dim), nn.ReLU(), nn.Linear(embed_dim, 1))

    def forward(self, agent_qs: torch.Tensor, states: torch.Tensor | None = None) -> torch.Tensor:
        if states is None:
            raise ValueError("QMIX needs the global state")
        lead = agent_qs.shape[:-1]
        q = agent_qs.reshape(-1, 1, self.n_agents)
        s = states.reshape(q.shape[0], -1)
        w1 = torch.abs(self.hyper_w1(s)).view(-1, self.n_agents, self.embed_dim)
        b1 = self.hyper_b1(s).view(-1, 1, self.embed_dim)
        hidden = F.elu(torch.bmm(q, w1) + b1)
        w2 = torch.abs(self.hyper_w2(s)).view(-1, self.embed_dim, 1)
        q_tot = torch.bmm(hidden, w2).view(-1) + self.v(s).view(-1)
        return q_tot.view(lead)


class QTranBase(nn.Module):
    """QTRAN-base: a joint action-value Q_jt(s, a) and a state value V(s) next to the per-agent utilities."""

    needs_state = True

    def __init__(self, n_agents: int, n_actions: int, state_dim: int, embed: int = 64):
        super().__init__()
        if state_dim <= 0:
            raise ValueError("QTRAN needs a global state (state_dim > 0); the task provides none")
        self.n_agents = n_agents
        self.n_actions = n_actions
        self.q_net = nn.Sequential(
            nn.Linear(state_dim + n_agents * n_actions, embed),
            nn.ReLU(),
            nn.Linear(embed, embed),
            nn.ReLU(),
            nn.Linear(embed, 1),
        )
        self.v_net = nn.Sequential(nn.Linear(state_dim, embed), nn.ReLU(), nn.Linear(embed, 1))

    def joint_q(self, states: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Q_jt(s, a) for integer joint actions ``actions`` [..., n_agents]."""
        onehot = F.one_hot(actions.long(), self.n_actions).to(states.dtype).flatten(-2)
        return self.q_net(torch.cat([states, onehot], dim=-1)).squeeze(-1)

    def value(self, states: torch.Tensor) -> torch.Tensor:
        return self.v_net(states).squeeze(-1)


@dataclass(frozen=True)
class QTranLosses:
    td: torch.Tensor
    opt: torch.Tensor
    nopt: torch.Tensor


def qtran_losses(
    *,
    q_jt_taken: torch.Tensor,
    target: torch.Tensor,
    sum_q_taken: torch.Tensor,
    sum_q_greedy: torch.Tensor,
    q_jt_taken_hat: torch.Tensor,
    q_jt_greedy_hat: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
) -> QTranLosses:
    """The three QTRAN-base losses (``*_hat`` are Q̂_jt, detached by the caller).

    L_td   = (Q_jt(s, a) − y)²
    L_opt  = (Σ_i max Q_i − Q̂_jt(s, ā) + V(s))²
    L_nopt = min(Σ_i Q_i(a_i) − Q̂_jt(s, a) + V(s), 0)²
    """

    def mean(x: torch.Tensor) -> torch.Tensor:
        if mask is None:
            return x.mean()
        m = mask.to(x.dtype)
        return (x * m).sum() / m.sum().clamp_min(1.0)

    td = mean((q_jt_taken - target) ** 2)
    opt = mean((sum_q_greedy - q_jt_greedy_hat + v) ** 2)
    nopt = mean(torch.clamp(sum_q_taken - q_jt_taken_hat + v, max=0.0) ** 2)
    return QTranLosses(td=td, opt=opt, nopt=nopt)


def build_mixer(
    kind: str,
    *,
    n_agents: int,
    n_actions: int,
    state_dim: int,
    embed_dim: int = 32,
    hypernet_embed: int = 64,
    qtran_embed: int = 64,
) -> nn.Module:
    if kind == "vdn":
        return VDNMixer()
    if kind == "qmix":
        return QMixer(n_agents, state_dim, embed_dim, hypernet_embed)
    if kind == "qtran":
        return QTranBase(n_agents, n_actions, state_dim, qtran_embed)
    raise ValueError(f"unknown mixer {kind!r}; choose one of {', '.join(MIXERS)}")
