"""``robocoord bench gmfs``: GMFS scale. Training at fixed κ against n, and decentralised execution speed.

* ``train_seconds_n25`` / ``train_seconds_n1000``: Alg. 1 at κ with the paper's T, M for a population of
  n agents; the two sizes alternate ``repeats`` times in the same process and the medians are compared
  (``train_ratio_n1000_over_n25``, expected ≈ 1: Alg. 1 never sees n). Building the roster's W̄ from the
  graphon is an O(n²) one-off reported apart (``roster_build_ms_*``); it is not training.
* ``decide_ms_per_step_n1000``: Alg. 2's decision for 1000 agents at κ = 16 (draw κ neighbours from W̄_i·,
  count ĝ_i, look up argmax_a Q[s_i, a, ĝ_i]), median over steps.
* ``env_step_ms_n1000``: the analytic world's step (true g_i = W̄ e_s, rewards, transitions) for reference.
"""

from __future__ import annotations

import time

import numpy as np

from robocoord.benchjson import Result
from robocoord.controllers.gmfs_sampler import (
    NeighbourSampler,
    graphon_matrix,
    mean_field,
    neighbour_counts,
    normalised_weights,
)
from robocoord.training.gmfs.config import GridLayout
from robocoord.training.gmfs.models import AnalyticWarehouseModel, sample_categorical
from robocoord.training.gmfs.study import layout_positions
from robocoord.training.gmfs.tabular import TabularGmfs

GRIDS = {25: GridLayout(rows=5, cols=5), 1000: GridLayout(rows=25, cols=40)}


def _train_once(n: int, kappa: int, sweeps: int, mc_samples: int, seed: int) -> tuple[float, float]:
    """(roster W̄ build seconds, Alg. 1 seconds) for n agents on the paper's radius graphon."""
    start = time.perf_counter()
    positions = layout_positions(GRIDS[n], n)
    normalised_weights(graphon_matrix("radius", positions, radius=0.3))
    built = time.perf_counter()
    alg1 = TabularGmfs(AnalyticWarehouseModel(L=5.0), kappa, 0.95, mc_samples, "first_sweep_greedy")
    alg1.fit(sweeps, np.random.default_rng(seed))
    return built - start, time.perf_counter() - built


def run_gmfs_bench(
    kappa: int = 16, sweeps: int = 250, mc_samples: int = 50, repeats: int = 3, steps: int = 200
) -> list[Result]:
    times: dict[int, list[float]] = {25: [], 1000: []}
    roster: dict[int, list[float]] = {25: [], 1000: []}
    for r in range(repeats):
        for n in (25, 1000) if r % 2 == 0 else (1000, 25):
            build_s, train_s = _train_once(n, kappa, sweeps, mc_samples, seed=r)
            times[n].append(train_s)
            roster[n].append(build_s)
    t25, t1000 = float(np.median(times[25])), float(np.median(times[1000]))

    rng = np.random.default_rng(0)
    model = AnalyticWarehouseModel(L=5.0)
    alg1 = TabularGmfs(model, 16, 0.95, 10, "first_sweep_greedy")
    alg1.fit(20, rng)
    pi = alg1.greedy()
    positions = layout_positions(GRIDS[1000], 1000)
    w_bar = normalised_weights(graphon_matrix("radius", positions, radius=0.3))
    sampler = NeighbourSampler(w_bar, 16)
    states = rng.integers(0, 3, size=1000)
    decide_ms, env_ms = [], []
    for _ in range(steps):
        start = time.perf_counter()
        g_hat = neighbour_counts(states, sampler.sample(rng), 3)
        actions = pi[states, alg1.z.index(g_hat)]
        mid = time.perf_counter()
        g = mean_field(states, w_bar, 3)
        _ = model.reward(states, actions, g)
        states = sample_categorical(model.next_state_probs(states, actions, g), rng)
        end = time.perf_counter()
        decide_ms.append((mid - start) * 1e3)
        env_ms.append((end - mid) * 1e3)
    return [
        Result("train_seconds_n25", t25, "s"),
        Result("train_seconds_n1000", t1000, "s"),
        Result("train_ratio_n1000_over_n25", t1000 / t25, "ratio"),
        Result("roster_build_ms_n25", 1e3 * float(np.median(roster[25])), "ms"),
        Result("roster_build_ms_n1000", 1e3 * float(np.median(roster[1000])), "ms"),
        Result("decide_ms_per_step_n1000_kappa16", float(np.median(decide_ms)), "ms"),
        Result("decide_ms_per_step_n1000_kappa16_p95", float(np.percentile(decide_ms, 95)), "ms"),
        Result("env_step_ms_n1000", float(np.median(env_ms)), "ms"),
    ]
