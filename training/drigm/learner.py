"""The DrIGM learner: one DRQN utility network shared by the agents, a mixer, and a robust team target.

VDN, QMIX and QTRAN keep their architectures; only the TD target changes (:mod:`robust`):
the robust expectation is taken over the *team* value Q̄'_tot, so each agent's utility is
defined at the global worst-case model and decentralised greedy execution stays
DrIGM-consistent. For TV, a network G(s, a) plays the dual variable η; each training round
runs ``g_updates`` G steps (Adam) and then ``q_updates`` Q steps (RMSprop).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from robocoord.training.drigm import robust as rt
from robocoord.training.drigm.agent import DRQNAgent, agent_inputs, unroll
from robocoord.training.drigm.buffer import EpisodeBatch
from robocoord.training.drigm.config import LearnerSpec
from robocoord.training.drigm.mixers import MIXERS, QTranBase, build_mixer, qtran_losses

ROBUST_KINDS = ("none", "dr", "groupdr", "contamination", "tv")


@dataclass(frozen=True)
class TeamDims:
    n_agents: int
    n_actions: int
    obs_dim: int
    state_dim: int  # 0 when the task has no global state

    @property
    def agent_input_dim(self) -> int:
        return self.obs_dim + self.n_actions + self.n_agents


class GNetwork(nn.Module):
    """The TV dual variable g = G(s, a) for the global state and the joint action."""

    def __init__(self, state_dim: int, n_agents: int, n_actions: int, hidden: int = 64):
        super().__init__()
        self.n_actions = n_actions
        self.net = nn.Sequential(
            nn.Linear(state_dim + n_agents * n_actions, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, states: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        onehot = F.one_hot(actions.long(), self.n_actions).to(states.dtype).flatten(-2)
        return self.net(torch.cat([states, onehot], dim=-1)).squeeze(-1)


@dataclass
class _Unrolled:
    """Per-batch tensors shared by the G and Q steps."""

    q: torch.Tensor  # [B, T+1, n, A] online utilities
    states: torch.Tensor  # [B, T+1, S]
    actions: torch.Tensor  # [B, T, n]
    reward: torch.Tensor  # [B, T]
    done: torch.Tensor  # [B, T]
    mask: torch.Tensor  # [B, T]
    next_value: torch.Tensor  # [B, T] Q̄'_tot(s_{t+1}), detached


class DrigmLearner:
    def __init__(
        self,
        *,
        mixer: str,
        robust: str,
        rho: float,
        dims: TeamDims,
        spec: LearnerSpec,
        v_min: rt.VMinKind = "zero",
        g_loss: str = "dual",
        seed: int = 0,
    ):
        if mixer not in MIXERS:
            raise ValueError(f"unknown mixer {mixer!r}; choose one of {', '.join(MIXERS)}")
        if robust not in ROBUST_KINDS:
            raise ValueError(f"unknown robust kind {robust!r}; choose one of {', '.join(ROBUST_KINDS)}")
        rt.check_rho(rho)
        if robust == "tv" and dims.state_dim <= 0:
            raise ValueError("robust 'tv' needs a global state for G(s, a); the task provides none")
        if g_loss not in ("dual", "squared"):
            raise ValueError(f"g_loss must be 'dual' or 'squared', got {g_loss!r}")
        torch.manual_seed(seed)
        self.mixer_kind = mixer
        self.robust = robust
        self.rho = float(rho) if robust in ("contamination", "tv") else 0.0
        self.v_min_kind: rt.VMinKind = v_min
        self.g_loss = g_loss
        self.dims = dims
        self.spec = spec
        self.agent = DRQNAgent(dims.agent_input_dim, dims.n_actions, spec.hidden, spec.rnn)
        self.mixer = build_mixer(
            mixer,
            n_agents=dims.n_agents,
            n_actions=dims.n_actions,
            state_dim=dims.state_dim,
            embed_dim=spec.mixing_embed_dim,
            hypernet_embed=spec.hypernet_embed,
            qtran_embed=spec.qtran_embed,
        )
        self.target_agent = copy.deepcopy(self.agent)
        self.target_mixer = copy.deepcopy(self.mixer)
        params = list(self.agent.parameters()) + list(self.mixer.parameters())
        if spec.optimizer == "rmsprop":
            self.optimizer: torch.optim.Optimizer = torch.optim.RMSprop(
                params, lr=spec.lr, alpha=0.99, eps=1e-5
            )
        else:
            self.optimizer = torch.optim.Adam(params, lr=spec.lr)
        self.params = params
        self.g_net: GNetwork | None = None
        if robust == "tv":
            self.g_net = GNetwork(dims.state_dim, dims.n_agents, dims.n_actions)
            self.g_optimizer = torch.optim.Adam(self.g_net.parameters(), lr=spec.g_lr)

    # --- acting --------------------------------------------------------------------------------

    @torch.no_grad()
    def act(
        self,
        obs: np.ndarray,
        prev_actions: np.ndarray,
        hidden: torch.Tensor,
        epsilon: float,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, torch.Tensor]:
        """ε-greedy actions [n_envs, n_agents] from each agent's own history; returns the next hidden state."""
        n_envs, n_agents, _ = obs.shape
        x = agent_inputs(torch.as_tensor(obs), torch.as_tensor(prev_actions), self.dims.n_actions)
        q, hidden = self.agent(x.reshape(n_envs * n_agents, -1), hidden)
        greedy = q.argmax(dim=-1).view(n_envs, n_agents).numpy()
        if epsilon > 0.0:
            explore = rng.random(greedy.shape) < epsilon
            greedy = np.where(explore, rng.integers(0, self.dims.n_actions, size=greedy.shape), greedy)
        return greedy.astype(np.int64), hidden

    # --- training ------------------------------------------------------------------------------

    def _mix(
        self, mixer: nn.Module, agent_qs: torch.Tensor, states: torch.Tensor, actions: torch.Tensor
    ) -> torch.Tensor:
        if isinstance(mixer, QTranBase):
            return mixer.joint_q(states, actions)
        return mixer(agent_qs, states)

    def _unroll(self, batch: EpisodeBatch, online: bool = True) -> _Unrolled:
        """Utilities over whole episodes; ``online=False`` skips the online network (the G step needs only V')."""
        obs = torch.as_tensor(batch.obs)
        actions = torch.as_tensor(batch.actions)
        prev = torch.cat([torch.full_like(actions[:, :1], -1), actions], dim=1)  # [B, T+1, n]
        x = agent_inputs(obs, prev, self.dims.n_actions)
        q = unroll(self.agent, x) if online else torch.empty(0)
        states = torch.as_tensor(batch.state)
        with torch.no_grad():
            target_q = unroll(self.target_agent, x)
            next_greedy = target_q[:, 1:].argmax(dim=-1)
            next_max = target_q[:, 1:].max(dim=-1).values
            next_value = self._mix(self.target_mixer, next_max, states[:, 1:], next_greedy)
        return _Unrolled(
            q=q,
            states=states,
            actions=actions,
            reward=torch.as_tensor(batch.reward),
            done=torch.as_tensor(batch.terminated),
            mask=torch.as_tensor(batch.filled),
            next_value=next_value,
        )

    def _v_min(self, u: _Unrolled) -> torch.Tensor:
        return rt.v_min_of(u.next_value, u.mask, self.v_min_kind)

    def g_step(self, batch: EpisodeBatch) -> float:
        """One step on the G network (TV only): the dual objective in g at the sampled V'."""
        if self.g_net is None:
            raise RuntimeError("g_step is for robust 'tv' only")
        with torch.no_grad():
            u = self._unroll(batch, online=False)
        g = self.g_net(u.states[:, :-1], u.actions)
        loss_fn = rt.tv_dual_loss if self.g_loss == "dual" else rt.tv_squared_loss
        loss = loss_fn(g, u.next_value, self.rho, u.mask)
        self.g_optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.g_net.parameters(), self.spec.grad_clip)
        self.g_optimizer.step()
        return float(loss.detach())

    def robust_target(self, u: _Unrolled) -> torch.Tensor:
        gamma = self.spec.gamma
        if self.robust == "contamination":
            return rt.contamination_target(u.reward, u.next_value, u.done, gamma, self.rho, self._v_min(u))
        if self.robust == "tv":
            if self.g_net is None:
                raise RuntimeError("robust 'tv' learner has no G network")
            with torch.no_grad():
                g = self.g_net(u.states[:, :-1], u.actions)
            return rt.tv_target(u.reward, u.next_value, g, u.done, gamma, self.rho, self._v_min(u))
        return rt.standard_target(u.reward, u.next_value, u.done, gamma)

    def q_step(self, batch: EpisodeBatch) -> dict[str, float]:
        u = self._unroll(batch)
        target = self.robust_target(u).detach()
        q_taken = u.q[:, :-1].gather(-1, u.actions.unsqueeze(-1)).squeeze(-1)  # [B, T, n]
        states = u.states[:, :-1]
        metrics: dict[str, float] = {}
        if isinstance(self.mixer, QTranBase):
            greedy = u.q[:, :-1].argmax(dim=-1)
            q_max = u.q[:, :-1].max(dim=-1).values
            q_jt_taken = self.mixer.joint_q(states, u.actions)
            q_jt_greedy = self.mixer.joint_q(states, greedy)
            losses = qtran_losses(
                q_jt_taken=q_jt_taken,
                target=target,
                sum_q_taken=q_taken.sum(-1),
                sum_q_greedy=q_max.sum(-1),
                q_jt_taken_hat=q_jt_taken.detach(),
                q_jt_greedy_hat=q_jt_greedy.detach(),
                v=self.mixer.value(states),
                mask=u.mask,
            )
            loss = losses.td + self.spec.lambda_opt * losses.opt + self.spec.lambda_nopt * losses.nopt
            metrics.update(
                loss_td=float(losses.td.detach()),
                loss_opt=float(losses.opt.detach()),
                loss_nopt=float(losses.nopt.detach()),
            )
            q_tot = q_jt_taken
        else:
            q_tot = self.mixer(q_taken, states)
            td = (q_tot - target) * u.mask
            loss = (td**2).sum() / u.mask.sum().clamp_min(1.0)
            metrics["loss_td"] = float(loss.detach())
        self.optimizer.zero_grad()
        loss.backward()
        grad_norm = nn.utils.clip_grad_norm_(self.params, self.spec.grad_clip)
        self.optimizer.step()
        valid = u.mask.bool()
        metrics.update(
            loss=float(loss.detach()),
            grad_norm=float(grad_norm),
            q_tot_mean=float(q_tot.detach()[valid].mean()) if valid.any() else 0.0,
            target_mean=float(target[valid].mean()) if valid.any() else 0.0,
        )
        return metrics

    def update_targets(self) -> None:
        self.target_agent.load_state_dict(self.agent.state_dict())
        self.target_mixer.load_state_dict(self.mixer.state_dict())
