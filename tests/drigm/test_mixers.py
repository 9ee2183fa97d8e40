"""Mixers: VDN additivity, QMIX monotonicity by autograd, QTRAN losses on a consistent factorisation."""

from __future__ import annotations

import itertools

import pytest
import torch

from robocoord.training.drigm.mixers import QMixer, QTranBase, VDNMixer, build_mixer, qtran_losses


def test_vdn_is_the_sum_and_additive_in_each_agent() -> None:
    gen = torch.Generator().manual_seed(0)
    q = torch.randn(4, 7, 3, generator=gen)
    mixer = VDNMixer()
    torch.testing.assert_close(mixer(q), q[..., 0] + q[..., 1] + q[..., 2])
    for i in range(3):
        bumped = q.clone()
        bumped[..., i] += 0.75
        torch.testing.assert_close(mixer(bumped) - mixer(q), torch.full((4, 7), 0.75))


@pytest.mark.parametrize("seed", range(3))
def test_qmix_partial_derivatives_are_nonnegative(seed: int) -> None:
    torch.manual_seed(seed)
    n_agents, state_dim = 3, 6
    mixer = QMixer(n_agents, state_dim, embed_dim=32, hypernet_embed=64)
    for p in mixer.parameters():  # large random weights: the abs() must do the work, not luck
        torch.nn.init.normal_(p, std=2.0)
    q = (5.0 * torch.randn(256, n_agents)).requires_grad_(True)
    s = 3.0 * torch.randn(256, state_dim)
    (grad,) = torch.autograd.grad(mixer(q, s).sum(), q)
    assert grad.shape == q.shape
    assert bool((grad >= 0).all())
    assert bool((grad > 0).any())


def test_qmix_without_a_global_state_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="global state"):
        build_mixer("qmix", n_agents=2, n_actions=2, state_dim=0)
    with pytest.raises(ValueError, match="global state"):
        QMixer(2, 4)(torch.zeros(3, 2), None)


def test_unknown_mixer_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown mixer 'qplex'"):
        build_mixer("qplex", n_agents=2, n_actions=2, state_dim=3)


def _consistent_factorisation(gap: float) -> dict[str, torch.Tensor]:
    """2 agents, 3 actions: Q_jt(a) = Σ Q_i(a_i) + V − c(a), c(ā) = 0 and c ≥ 0 elsewhere (gap < 0 breaks it)."""
    q1 = torch.tensor([1.0, 3.0, -0.5])
    q2 = torch.tensor([0.2, -1.0, 2.0])
    v = torch.tensor(0.7)
    greedy = (int(q1.argmax()), int(q2.argmax()))
    joint = list(itertools.product(range(3), range(3)))
    sum_taken = torch.tensor([float(q1[a] + q2[b]) for a, b in joint])
    c = torch.tensor([0.0 if (a, b) == greedy else gap * (1 + a + b) for a, b in joint])
    q_jt = sum_taken + v - c
    q_jt_greedy = q_jt[joint.index(greedy)].expand(len(joint))
    return {
        "q_jt_taken": q_jt,
        "target": q_jt.clone(),
        "sum_q_taken": sum_taken,
        "sum_q_greedy": (q1.max() + q2.max()).expand(len(joint)),
        "q_jt_taken_hat": q_jt.detach(),
        "q_jt_greedy_hat": q_jt_greedy.detach(),
        "v": v.expand(len(joint)),
    }


def test_qtran_losses_vanish_on_a_consistent_factorisation() -> None:
    losses = qtran_losses(**_consistent_factorisation(gap=0.5))
    assert float(losses.td) == 0.0
    assert float(losses.opt) == pytest.approx(0.0, abs=1e-12)
    assert float(losses.nopt) == 0.0


def test_qtran_nopt_loss_is_positive_when_the_factorisation_undercuts_q_jt() -> None:
    losses = qtran_losses(**_consistent_factorisation(gap=-0.5))
    assert float(losses.nopt) > 0.0
    assert float(losses.opt) == pytest.approx(0.0, abs=1e-12)


def test_qtran_joint_q_reads_the_joint_action() -> None:
    torch.manual_seed(0)
    net = QTranBase(n_agents=2, n_actions=2, state_dim=3)
    s = torch.randn(5, 3)
    a = torch.tensor([[0, 1]] * 5)
    b = torch.tensor([[1, 0]] * 5)
    assert net.joint_q(s, a).shape == (5,)
    assert not torch.allclose(net.joint_q(s, a), net.joint_q(s, b))
