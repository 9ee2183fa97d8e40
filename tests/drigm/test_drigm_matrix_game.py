"""DrIGM on a 2-agent matrix game with a finite uncertainty set of transition models.

One step: joint action a gives reward r(a) and moves to a terminal state worth V_good or 0;
the chance of 'good' depends on a and on which model P_k, k ∈ K, nature picks. The robust joint
value is Q_rob(a) = r(a) + γ · min_k P_k(good | a) · V_good. The risky joint action is best under
the nominal model and worst under the adversary, so nominal and robust optima differ.

VDN and QMIX are fitted on the *team* robust target (DrIGM); the agents' independent greedy
actions must then be the robust joint optimum.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from robocoord.training.drigm.mixers import build_mixer

GAMMA = 0.9
V_GOOD = 10.0
# rows: agent-1 action, cols: agent-2 action. Action 1 = "risky".
REWARD = np.array([[5.0, 2.0], [2.0, 0.0]])
# P_k(good | a) for the nominal model (k = 0) and two perturbed models
MODELS = np.array(
    [
        [[0.25, 0.15], [0.15, 0.95]],
        [[0.22, 0.12], [0.12, 0.40]],
        [[0.20, 0.10], [0.10, 0.30]],
    ]
)


def robust_joint_q() -> np.ndarray:
    return REWARD + GAMMA * V_GOOD * MODELS.min(axis=0)


def nominal_joint_q() -> np.ndarray:
    return REWARD + GAMMA * V_GOOD * MODELS[0]


def fit_factorisation(kind: str, target: np.ndarray, seed: int) -> np.ndarray:
    """Fit per-agent utility tables Q_i(a_i) through the mixer to the joint target; return them [2, 2]."""
    torch.manual_seed(seed)
    utilities = torch.nn.Parameter(0.1 * torch.randn(2, 2))
    mixer = build_mixer(kind, n_agents=2, n_actions=2, state_dim=1)
    params = [utilities, *mixer.parameters()]
    opt = torch.optim.Adam(params, lr=0.05)
    joint = torch.tensor(list(itertools.product(range(2), range(2))))
    y = torch.tensor([target[a, b] for a, b in joint.tolist()], dtype=torch.float32)
    state = torch.ones(len(joint), 1)
    for _ in range(500):
        opt.zero_grad()
        agent_qs = torch.stack([utilities[0, joint[:, 0]], utilities[1, joint[:, 1]]], dim=-1)
        loss = ((mixer(agent_qs, state) - y) ** 2).mean()
        loss.backward()
        opt.step()
    return utilities.detach().numpy()


def test_the_game_separates_nominal_and_robust_optima() -> None:
    nominal = np.unravel_index(nominal_joint_q().argmax(), (2, 2))
    robust = np.unravel_index(robust_joint_q().argmax(), (2, 2))
    assert tuple(map(int, nominal)) == (1, 1)
    assert tuple(map(int, robust)) == (0, 0)


@pytest.mark.parametrize("kind", ["vdn", "qmix"])
@pytest.mark.parametrize("seed", [0, 1])
def test_per_agent_greedy_actions_equal_the_robust_joint_argmax(kind: str, seed: int) -> None:
    q_rob = robust_joint_q()
    utilities = fit_factorisation(kind, q_rob, seed)
    greedy = tuple(int(np.argmax(utilities[i])) for i in range(2))
    assert greedy == tuple(map(int, np.unravel_index(q_rob.argmax(), q_rob.shape)))
    # control: the same factorisation fitted on the nominal target picks the nominal optimum
    nominal = fit_factorisation(kind, nominal_joint_q(), seed)
    assert tuple(int(np.argmax(nominal[i])) for i in range(2)) == (1, 1)
