"""Neural GMFS: a Q-network on (one-hot s_i, ĝ_i/κ), trained by fitted Q-iteration on generative-model samples.

The tabular Q[s, a, z] of Alg. 1 becomes Q_θ(s, z/κ) ∈ R^|A|. Because the input is the
*fraction* ĝ/κ, one network serves every κ (training mixes ``train_kappas``) and its size
grows with |S| linearly instead of with C(κ + |S| − 1, |S| − 1).

One round of fitted Q-iteration (target network Q⁻ = the previous round's network):

1. draw a batch of generative-model states: s ~ U(S), κ ~ U(train_kappas), z ~ Multinomial(κ, p), p ~ Dir(1);
2. for every action a, draw M samples of s' ~ P(· | s, a, z/κ) and of the neighbours' next
   histogram z' (each neighbour in bin s_n takes a_n = argmax Q⁻(s_n, z/κ), as in Alg. 1);
3. regress Q_θ(s, z/κ)[a] onto y = r(s, a, z/κ) + γ · mean_m max_a' Q⁻(s'_m, z'_m/κ).

The Bellman max-delta of round k is max |Q_k − Q_{k−1}| over every (s, a, z) at the deployment κ,
the analogue of Alg. 1's max |ΔQ|.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from robocoord.config import config_hash, load_config
from robocoord.controllers.contract import DiscreteActionSpec, ObservationField, ObservationSpec
from robocoord.controllers.gmfs_sampler import CountIndex, graphon_matrix, normalised_weights, uniform_weights
from robocoord.training.export import export_policy, make_provenance, mlp
from robocoord.training.gmfs.config import GmfsTrainConfig, graphon_params
from robocoord.training.gmfs.models import GenerativeModel, sample_categorical
from robocoord.training.gmfs.study import build_model
from robocoord.training.gmfs.tabular import Rollouts, execute


def features(s: np.ndarray, fractions: np.ndarray, n_states: int) -> np.ndarray:
    """Network input [one-hot s_i, ĝ_i/κ] as float32, shape (..., 2|S|)."""
    one_hot = (np.asarray(s)[..., None] == np.arange(n_states)).astype(np.float32)
    return np.concatenate([one_hot, np.asarray(fractions, dtype=np.float32)], axis=-1)


class QNetwork(nn.Module):
    """Q_θ(s, ĝ/κ) -> R^|A|: an MLP on the concatenated one-hot state and neighbour fractions."""

    def __init__(self, n_states: int, n_actions: int, hidden: Sequence[int]):
        super().__init__()
        self.n_states = n_states
        self.body = mlp([2 * n_states, *hidden, n_actions])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    @torch.no_grad()
    def q_values(self, s: np.ndarray, fractions: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(features(s, fractions, self.n_states))
        return self.body(x.reshape(-1, x.shape[-1])).numpy().reshape(*x.shape[:-1], -1)


@dataclass
class GenerativeBatch:
    s: np.ndarray  # (B,)
    kappa: np.ndarray  # (B,)
    z: np.ndarray  # (B, |S|) counts summing to κ


def draw_states(
    model: GenerativeModel, kappas: Sequence[int], batch: int, rng: np.random.Generator
) -> GenerativeBatch:
    """Step 1: (s, κ, z) spread over the whole simplex of neighbour fractions."""
    n_s = model.n_states
    kappa = rng.choice(np.asarray(kappas), size=batch)
    p = rng.dirichlet(np.ones(n_s), size=batch)
    return GenerativeBatch(s=rng.integers(0, n_s, size=batch), kappa=kappa, z=rng.multinomial(kappa, p))


def bellman_targets(
    model: GenerativeModel,
    target: QNetwork,
    data: GenerativeBatch,
    gamma: float,
    mc_samples: int,
    neighbor_action: str,
    rng: np.random.Generator,
) -> np.ndarray:
    """Step 2: y[b, a] = r(s, a, z/κ) + γ · mean_m max_a' Q⁻(s'_m, z'_m/κ) for every action a."""
    n_s, n_a, m = model.n_states, model.n_actions, mc_samples
    g = data.z / data.kappa[:, None]  # (B, |S|)
    a = np.arange(n_a)[None, :]
    reward = model.reward(data.s[:, None], a, g[:, None])  # (B, |A|)
    p_focal = model.next_state_probs(data.s[:, None], a, g[:, None])  # (B, |A|, |S|)
    s_next = sample_categorical(np.broadcast_to(p_focal[:, :, None], (*p_focal.shape[:2], m, n_s)), rng)

    bins = np.arange(n_s)
    if neighbor_action == "current_greedy":
        a_n = target.q_values(np.broadcast_to(bins, (len(g), n_s)), np.repeat(g[:, None], n_s, 1)).argmax(-1)
    else:  # first_sweep_greedy: the neighbours act as argmax of Q ≡ 0, i.e. action 0
        a_n = np.zeros((len(g), n_s), dtype=np.int64)
    p_nb = model.next_state_probs(bins[None, :], a_n, g[:, None])  # (B, s_n, s')
    counts = np.broadcast_to(data.z[:, None, None, :], (len(g), n_a, m, n_s))
    z_next = rng.multinomial(counts, np.broadcast_to(p_nb[:, None, None], (*counts.shape, n_s))).sum(axis=-2)
    v_next = target.q_values(s_next, z_next / data.kappa[:, None, None, None]).max(axis=-1)  # (B, |A|, M)
    return reward + gamma * v_next.mean(axis=-1)


@dataclass
class GmfsTrainResult:
    run_dir: Path
    artifact: Path
    summary: dict[str, Any]


def _probe(model: GenerativeModel, kappa: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (s, z/κ) at the deployment κ, for the max-delta."""
    z = CountIndex.build(kappa, model.n_states).counts
    s = np.repeat(np.arange(model.n_states), len(z))
    return s, np.tile(z / kappa, (model.n_states, 1))


def fitted_q_iteration(
    config: GmfsTrainConfig,
    model: GenerativeModel,
    on_round: Callable[[int, float, float], None] | None = None,
) -> tuple[QNetwork, list[float]]:
    """Steps 1–3 for ``config.iterations`` rounds. Returns the network and the Bellman max-delta per round."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a small MLP: one thread is ~9x faster than two on a shared 2-core machine
    try:
        return _fitted_q_iteration(config, model, on_round)
    finally:
        torch.set_num_threads(threads)


def _fitted_q_iteration(
    config: GmfsTrainConfig, model: GenerativeModel, on_round: Any
) -> tuple[QNetwork, list[float]]:
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    net = QNetwork(model.n_states, model.n_actions, config.hidden)
    optimiser = torch.optim.Adam(net.parameters(), lr=config.lr)
    probe_s, probe_g = _probe(model, config.kappa)
    previous = net.q_values(probe_s, probe_g)
    deltas: list[float] = []
    for k in range(config.iterations):
        target = copy.deepcopy(net).eval()
        data = draw_states(model, config.train_kappas, config.batch_size, rng)
        y = torch.from_numpy(
            bellman_targets(model, target, data, config.gamma, config.mc_samples, config.neighbor_action, rng)
        ).float()
        x = torch.from_numpy(features(data.s, data.z / data.kappa[:, None], model.n_states))
        for _ in range(config.grad_steps):
            rows = torch.from_numpy(rng.integers(0, len(x), size=config.minibatch))
            loss = nn.functional.mse_loss(net(x[rows]), y[rows])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        current = net.q_values(probe_s, probe_g)
        deltas.append(float(np.abs(current - previous).max()))
        previous = current
        if on_round is not None:
            on_round(k, deltas[-1], loss.item())
    return net, deltas


def neural_policy(net: QNetwork, kappa: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Alg. 2's greedy action from the network: argmax_a Q_θ(s_i, ĝ_i/κ)."""

    def act(s: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return net.q_values(s, counts / kappa).argmax(axis=-1)

    return act


def evaluation_positions(n: int) -> np.ndarray:
    """A near-square grid of n latent positions in [0, 1]^2 (cell centres), row-major."""
    side = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / side))
    idx = np.arange(n)
    return (np.stack([idx % side, idx // side], axis=1) + 0.5) / np.array([side, rows])


def evaluate_in_model(
    config: GmfsTrainConfig, model: GenerativeModel, net: QNetwork, seed: int = 1
) -> dict[str, Rollouts]:
    """Alg. 2 in the generative model's world: neural GMFS (graphon / uniform sampling) vs simple baselines."""
    n, kappa = config.eval_agents, config.kappa
    positions = evaluation_positions(n)
    w_bar = normalised_weights(
        graphon_matrix(config.graphon.kind, positions, **graphon_params(config.graphon))
    )
    work = model.n_actions - 1

    def always_work(s: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return np.full(s.shape, work)

    rng_random = np.random.default_rng(seed + 7)

    def random_policy(s: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return rng_random.integers(0, model.n_actions, size=s.shape)

    runs = {
        "gmfs_graphon": (neural_policy(net, kappa), w_bar),
        "gmfs_uniform": (neural_policy(net, kappa), uniform_weights(n)),
        "always_work": (always_work, w_bar),
        "random": (random_policy, w_bar),
    }
    out = {}
    for i, (name, (act, sampling)) in enumerate(runs.items()):
        rng = np.random.default_rng([seed, i])
        out[name] = execute(
            act, model, w_bar, sampling, kappa, config.eval_horizon, config.eval_rollouts, config.gamma, rng
        )
    return out


def export_gmfs(
    net: QNetwork,
    path: Path,
    config: GmfsTrainConfig,
    model: GenerativeModel,
    disruptions: list[dict[str, Any]],
) -> Path:
    n_s = model.n_states
    observation = ObservationSpec(
        fields=[
            ObservationField(
                name="state_one_hot",
                size=n_s,
                unit="1",
                description="one-hot s_i: " + ", ".join(model.state_names),
            ),
            ObservationField(
                name="neighbour_fractions",
                size=n_s,
                unit="1",
                description="ĝ_i/κ: sampled neighbours per state",
            ),
        ],
        mean=[0.0] * (2 * n_s),
        std=[1.0] * (2 * n_s),
        clip=None,
    )
    action = DiscreteActionSpec(
        n=model.n_actions, meanings=list(model.action_names), safe_action=model.safe_action
    )
    family_params = {
        "kappa": config.kappa,
        "graphon": {"kind": config.graphon.kind, **graphon_params(config.graphon)},
        "n_states": n_s,
        "state_meanings": list(model.state_names),
        "action_meanings": list(model.action_names),
        "train_kappas": list(config.train_kappas),
        "gamma": config.gamma,
        "model": config.model.model_dump(mode="json"),
        "neighbor_action": config.neighbor_action,
    }
    exported = export_policy(
        net.eval(),
        path,
        family="gmfs",
        observation=observation,
        action=action,
        control_rate_hz=config.control_rate_hz,
        provenance=make_provenance(
            "gmfs-fqi", config_hash=config_hash(config), seed=config.seed, disruptions=disruptions
        ),
        family_params=family_params,
    )
    return exported.path


def _plot_deltas(deltas: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(np.arange(1, len(deltas) + 1), np.maximum(deltas, 1e-12))
    ax.set(
        xlabel="fitted Q-iteration round",
        ylabel="max |Q_k − Q_{k−1}| at deployment κ",
        title="Bellman max-delta",
    )
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def train_gmfs(
    config: GmfsTrainConfig, argv: list[str] | None = None, progress: bool = False
) -> GmfsTrainResult:
    """Train, evaluate in the generative model, export; returns the run folder and ``artifacts/policy.onnx``."""
    from robocoord.runs import RunDir

    model = build_model(config.model)
    disruptions = getattr(model, "disruption_records", [])
    with RunDir.create(config.name, config, config.seed, root=config.run_root, argv=argv) as run:
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=config.iterations, desc="gmfs fqi", unit="round")

        def on_round(k: int, delta: float, loss: float) -> None:
            run.log(k, bellman_max_delta=delta, loss=loss)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(max_delta=f"{delta:.3g}", loss=f"{loss:.3g}")

        start = time.perf_counter()
        net, deltas = fitted_q_iteration(config, model, on_round)
        train_seconds = time.perf_counter() - start
        if bar is not None:
            bar.close()
        _plot_deltas(deltas, run.plots / "bellman_max_delta.png")
        evaluation = evaluate_in_model(config, model, net)
        artifact = export_gmfs(net, run.artifacts / "policy.onnx", config, model, disruptions)
        summary = {
            "run_dir": str(run.path),
            "artifact": str(artifact),
            "train_seconds": train_seconds,
            "final_max_delta": deltas[-1],
            "model": config.model.kind,
            "eval_in_model": {
                name: {
                    "return_mean": float(r.returns.mean()),
                    "return_stderr": float(r.returns.std() / np.sqrt(r.returns.size)),
                    "work_fraction": r.work_fraction,
                }
                for name, r in evaluation.items()
            },
        }
        run.write_json("summary.json", summary)
    return GmfsTrainResult(run_dir=run.path, artifact=artifact, summary=summary)


def train_from_file(
    path: Path | str, overrides: Sequence[str] = (), progress: bool = False
) -> GmfsTrainResult:
    """Load a ``kind: gmfs-train`` YAML (with ``--set``-style overrides) and train it."""
    config = load_config(path, overrides, expect_kind="gmfs-train")
    if not isinstance(config, GmfsTrainConfig):
        raise TypeError(f"{path}: expected a gmfs-train config")
    return train_gmfs(config, progress=progress)


__all__ = ["GmfsTrainResult", "QNetwork", "fitted_q_iteration", "train_from_file", "train_gmfs"]
