"""Latency of a policy artifact through the robot loader, against torch eager on the same network.

The network is the issue's reference MLP: obs 32 -> 64 -> 64 -> 4 discrete actions.
Both sides run single-threaded (the robot loader uses one intra-op thread), on the
same observations, in the same process, so the ratio is meaningful on a busy machine.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from robocoord.benchjson import Result
from robocoord.controllers.contract import DiscreteActionSpec, ObservationField, ObservationSpec
from robocoord.controllers.policy import PolicyRuntime
from robocoord.training.export import export_policy, make_provenance, mlp

OBS_DIM, HIDDEN, N_ACTIONS = 32, 64, 4


def reference_artifact(path: Path, seed: int = 0) -> tuple[Path, torch.nn.Module]:
    """Export the reference MLP (random weights) and return the artifact path and its torch twin."""
    torch.manual_seed(seed)
    net = mlp([OBS_DIM, HIDDEN, HIDDEN, N_ACTIONS])
    observation = ObservationSpec(
        fields=[ObservationField(name="features", size=OBS_DIM, unit="1")],
        mean=[0.0] * OBS_DIM,
        std=[1.0] * OBS_DIM,
        clip=10.0,
    )
    action = DiscreteActionSpec(n=N_ACTIONS, meanings=[f"a{i}" for i in range(N_ACTIONS)], safe_action=0)
    exported = export_policy(
        net,
        path,
        family="gmfs",
        observation=observation,
        action=action,
        control_rate_hz=100.0,
        provenance=make_provenance("bench-policy", seed=seed, git_sha="bench"),
    )
    return exported.path, exported.graph_module


def _latencies_us(call: Callable[[], object], iterations: int, warmup: int = 200) -> np.ndarray:
    for _ in range(warmup):
        call()
    samples = np.empty(iterations)
    clock = time.perf_counter_ns
    for i in range(iterations):
        start = clock()
        call()
        samples[i] = clock() - start
    return samples / 1e3


def run_policy_bench(iterations: int = 5000) -> list[Result]:
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path, graph = reference_artifact(Path(tmp) / "bench_policy.onnx")
            runtime = PolicyRuntime(path)
            rng = np.random.default_rng(0)
            obs1 = rng.standard_normal((1, OBS_DIM)).astype(np.float32)
            obs100 = rng.standard_normal((100, OBS_DIM)).astype(np.float32)
            ort_b1 = _latencies_us(lambda: runtime.act(obs1), iterations)
            ort_b100 = _latencies_us(lambda: runtime.act(obs100), max(iterations // 5, 100))
            obs1_t = torch.from_numpy(obs1)
            obs100_t = torch.from_numpy(obs100)
            with torch.inference_mode():
                torch_b1 = _latencies_us(lambda: graph(obs1_t), iterations)
                torch_b100 = _latencies_us(lambda: graph(obs100_t), max(iterations // 5, 100))
    finally:
        torch.set_num_threads(torch_threads)
    p50 = float(np.percentile(ort_b1, 50))
    torch_p50 = float(np.percentile(torch_b1, 50))
    return [
        Result("ort_latency_us_p50_b1", p50, "us"),
        Result("ort_latency_us_p99_b1", float(np.percentile(ort_b1, 99)), "us"),
        Result("torch_latency_us_p50_b1", torch_p50, "us"),
        Result("speedup_ort_vs_torch_b1", torch_p50 / p50, "x"),
        Result("ort_latency_us_p50_b100", float(np.percentile(ort_b100, 50)), "us"),
        Result("torch_latency_us_p50_b100", float(np.percentile(torch_b100, 50)), "us"),
        Result("torch_latency_us_p99_b1", float(np.percentile(torch_b1, 99)), "us"),
    ]
