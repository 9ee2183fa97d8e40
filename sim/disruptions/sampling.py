"""One spec's gating and draws: when it fires, and what perturbation it draws (numpy only).

A :class:`Disruptor` is bound to a shape (agents x dimensions) and owns a
``numpy.random.Generator`` that its wrapper reseeds on every ``reset(seed)``. Every
draw is independent per agent and per dimension, so the noise covariance is full rank
(diag(sigma^2) for gauss), unlike a single scalar broadcast over all dimensions.

Step numbering: ``reset`` is step 0, the k-th call to ``step`` is step k. A spec is
in its window when ``start_step <= k`` and (``end_step`` is None or ``k < end_step``).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from robocoord.sim.disruptions.spec import DisruptionSpec, as_list

# value_fn(candidates (K, n_agents, dim), context) -> (K,) or (K, n_agents); lower = worse for the agent
ValueFn = Callable[[np.ndarray, dict[str, Any]], np.ndarray]


class DisruptionError(ValueError):
    """A spec does not fit the environment it wraps (message names the field)."""


@dataclass
class Draw:
    """What one spec did at one step: ``fired`` per agent, ``value`` (n_agents, dim) perturbation."""

    fired: np.ndarray
    value: np.ndarray


class Disruptor:
    def __init__(self, spec: DisruptionSpec, n_agents: int, dim: int, what: str, salt: int = 0) -> None:
        self.spec = spec
        self.n_agents = n_agents
        self.dim = dim
        self.what = what
        self.salt = zlib.crc32(spec.model_dump_json().encode()) ^ salt
        self.agent_mask = np.ones(n_agents, dtype=bool)
        if spec.agents is not None:
            bad = [a for a in spec.agents if a >= n_agents]
            if bad:
                raise DisruptionError(f"agents: robot index {bad[0]} is out of range 0..{n_agents - 1}")
            self.agent_mask[:] = False
            self.agent_mask[spec.agents] = True
        self.dim_mask = np.ones(dim, dtype=bool)
        if spec.mask is not None:
            if len(spec.mask) != dim:
                longer = "longer than" if len(spec.mask) > dim else "shorter than"
                raise DisruptionError(
                    f"mask: has {len(spec.mask)} entries, {longer} the {what} ({dim} dimensions)"
                )
            self.dim_mask = np.array(spec.mask, dtype=bool)
        for field in ("mu", "sigma", "low", "high", "offset"):
            self._vector(field)  # length check now, not at the first draw
        for i, choice in enumerate(spec.choices or []):
            self._fit(choice, f"choices[{i}]")
        self.rng = np.random.default_rng()
        self._episode_value: np.ndarray | None = None
        self._episode_fired: np.ndarray | None = None

    # ---------------------------------------------------------------- parameters
    def _fit(self, value: float | list[float], field: str) -> np.ndarray:
        values = np.asarray(as_list(value), dtype=float)
        if len(values) not in (1, self.dim):
            raise DisruptionError(
                f"{field}: has {len(values)} entries, the {self.what} has {self.dim} dimensions"
            )
        return np.broadcast_to(values, (self.dim,))

    def _vector(self, field: str) -> np.ndarray:
        return self._fit(getattr(self.spec, field), field)

    # ---------------------------------------------------------------- seeding and gating
    def seed(self, seed: int | None) -> None:
        """Fresh generator: a given seed always gives the same stream; None keeps the current one."""
        if seed is not None:
            self.rng = np.random.default_rng([seed, self.salt])
        self._episode_value = None
        self._episode_fired = None

    def in_window(self, step: int) -> bool:
        s = self.spec
        return step >= s.start_step and (s.end_step is None or step < s.end_step)

    def gate_open(self, step: int, reward_history: Sequence[float]) -> bool:
        """Whether the spec fires at ``step`` (before the per-agent ``probability``)."""
        if not self.in_window(step):
            return False
        mode = self.spec.mode
        if mode == "interval":
            return step % (self.spec.interval or 1) == 0
        if mode == "condition":
            if len(reward_history) < 2:
                return False
            previous, latest = reward_history[-2], reward_history[-1]
            return latest > previous if self.spec.condition == "reward_improved" else latest < previous
        return True  # always; episode (its value is held, see draw)

    # ---------------------------------------------------------------- draws
    def sample(self) -> np.ndarray:
        """(n_agents, dim) raw sample of the spec's distribution, zero outside the dimension mask."""
        s, shape = self.spec, (self.n_agents, self.dim)
        if s.kind == "gauss":
            value = self._vector("mu") + self._vector("sigma") * self.rng.standard_normal(shape)
        elif s.kind == "uniform":
            value = self.rng.uniform(self._vector("low"), self._vector("high"), shape)
        elif s.kind == "shift":
            value = np.broadcast_to(self._vector("offset"), shape).copy()
        elif s.kind == "set":
            choices = np.stack([self._fit(c, "choices") for c in s.choices or []])
            value = choices[self.rng.integers(len(choices), size=self.n_agents)]
        else:  # adversarial candidates are drawn by adversarial()
            raise DisruptionError("kind: adversarial perturbations are chosen by adversarial(), not sampled")
        return np.where(self.dim_mask, value, 0.0)

    def adversarial(self, base: np.ndarray, value_fn: ValueFn | None, context: dict[str, Any]) -> np.ndarray:
        """Of K perturbations uniform in the L-inf ball of radius ``budget``, the one with the lowest value.

        ``value_fn`` sees the K perturbed quantities ``base + delta_k`` (K, n_agents, dim) and returns
        (K,) to pick one perturbation for everyone, or (K, n_agents) to pick per agent.
        """
        if value_fn is None:
            raise DisruptionError(f"{self.spec.label}: kind adversarial needs a value_fn from the caller")
        budget = float(self.spec.budget or 0.0)
        k = self.spec.candidates
        deltas = self.rng.uniform(-budget, budget, (k, self.n_agents, self.dim)) * self.dim_mask
        values = np.asarray(value_fn(base[None] + deltas, context), dtype=float)
        if values.shape == (k,):
            return deltas[int(np.argmin(values))]
        if values.shape == (k, self.n_agents):
            best = np.argmin(values, axis=0)
            return deltas[best, np.arange(self.n_agents)]
        raise DisruptionError(
            f"value_fn: returned shape {values.shape}, expected ({k},) or ({k}, {self.n_agents})"
        )

    def draw(
        self,
        step: int,
        reward_history: Sequence[float],
        base: np.ndarray,
        value_fn: ValueFn | None = None,
        context: dict[str, Any] | None = None,
    ) -> Draw:
        """The perturbation at ``step``: zero where the gate is shut, the agent is excluded, or the coin says no."""
        zero = np.zeros((self.n_agents, self.dim))
        if (
            self.spec.mode == "episode"
            and self._episode_value is not None
            and self._episode_fired is not None
        ):
            # drawn once this episode: the same perturbation for every step of the window
            fired = self._episode_fired & self.in_window(step)
            return Draw(fired, np.where(fired[:, None], self._episode_value, 0.0))
        if not self.gate_open(step, reward_history):
            return Draw(np.zeros(self.n_agents, dtype=bool), zero)
        if self.spec.kind == "adversarial":
            value = self.adversarial(base, value_fn, context or {})
        else:
            value = self.sample()
        fired = self.agent_mask & (self.rng.random(self.n_agents) < self.spec.probability)
        if self.spec.mode == "episode":
            self._episode_value, self._episode_fired = value, fired
        return Draw(fired, np.where(fired[:, None], value, 0.0))
