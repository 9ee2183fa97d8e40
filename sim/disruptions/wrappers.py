"""Disruption wrappers: one per source, each overriding one hook; they compose.

They wrap both a ``gymnasium.Env`` (``safe_nav``) and a PettingZoo ``ParallelEnv``
(``warehouse``, ``team_push``) and present the wrapped env's own API. Internally every
quantity becomes an (agents x dimensions) array; agent ``i`` is
``possible_agents[i]``, robot ``i`` of the task (a gymnasium env has one agent).

What each wrapper adds to ``info`` (per agent for a ParallelEnv):
``info["disruption"]`` — a list of ``{"name", "source", "fired", "value"}``, the
perturbation it applied this step; ``info["true_reward"]`` — the reward before any
reward disruption; ``info["true_cost"]`` — likewise for the cost.

Use :func:`wrap` to build the stack from a list of specs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
from gymnasium import spaces

from robocoord.sim.disruptions.sampling import DisruptionError, Disruptor, Draw, ValueFn
from robocoord.sim.disruptions.spec import DYNAMICS_PARAMETERS, DisruptionSpec
from robocoord.sim.pybullet_plant import DynamicsParams

RunPhase = Literal["train", "eval"]
SOURCE_ORDER = ("dynamics", "action", "observation", "cost", "reward")  # innermost first


class DisruptionWrapper:
    """Base: API translation, step counting, seeding, phase filter, logging. Subclasses set ``source``."""

    source: str = ""

    def __init__(
        self,
        env: Any,
        specs: Sequence[DisruptionSpec],
        phase: RunPhase = "train",
        value_fn: ValueFn | None = None,
    ) -> None:
        if phase not in ("train", "eval"):
            raise DisruptionError(f"phase: expected 'train' or 'eval', got {phase!r}")
        wrong = [s.label for s in specs if s.source != self.source]
        if wrong:
            raise DisruptionError(
                f"source: {type(self).__name__} takes {self.source} specs only, got {wrong}"
            )
        self.env = env
        self.parallel = hasattr(env, "possible_agents")
        self.agent_names: list[Any] = list(env.possible_agents) if self.parallel else [None]
        self.phase: RunPhase = phase
        self.value_fn = value_fn
        self.specs = list(specs)
        self.step_index = 0
        self.reward_history: deque[float] = deque(maxlen=2)
        self._last_obs: np.ndarray | None = None
        self.disruptors = [
            self._make_disruptor(spec, salt=i)
            for i, spec in enumerate(self.specs)
            if self._phase_active(spec)
        ]

    # ---------------------------------------------------------------- plumbing
    def __getattr__(self, name: str) -> Any:
        if name == "env":  # not set yet (during __init__ failures)
            raise AttributeError(name)
        return getattr(self.env, name)

    @property
    def unwrapped(self) -> Any:
        return self.env.unwrapped

    @property
    def n_agents(self) -> int:
        return len(self.agent_names)

    def _phase_active(self, spec: DisruptionSpec) -> bool:
        return spec.phase in ("both", self.phase)

    def set_phase(self, phase: RunPhase) -> None:
        """Switch train/eval for this wrapper and those inside it; takes effect at the next reset
        (nominal physics restored there)."""
        if isinstance(self.env, DisruptionWrapper):
            self.env.set_phase(phase)
        self.phase = phase
        self.disruptors = [
            self._make_disruptor(spec, salt=i)
            for i, spec in enumerate(self.specs)
            if self._phase_active(spec)
        ]

    def _make_disruptor(self, spec: DisruptionSpec, salt: int) -> Disruptor:
        raise NotImplementedError

    def observation_dim(self) -> int:
        space = (
            self.env.observation_space(self.agent_names[0]) if self.parallel else self.env.observation_space
        )
        return int(np.prod(space.shape))

    def action_space_of(self) -> spaces.Space:
        return self.env.action_space(self.agent_names[0]) if self.parallel else self.env.action_space

    def _rows(self, per_agent: Any, dtype: Any = float) -> tuple[list[int], np.ndarray]:
        """dict keyed by agent (or a single value) -> (agent indices, stacked rows)."""
        if not self.parallel:
            return [0], np.atleast_2d(np.asarray(per_agent, dtype=dtype).reshape(1, -1))
        keys = [i for i, name in enumerate(self.agent_names) if name in per_agent]
        rows = [np.asarray(per_agent[self.agent_names[i]], dtype=dtype).reshape(-1) for i in keys]
        return keys, np.stack(rows) if rows else np.zeros((0, 1))

    def _unrows(self, keys: list[int], rows: np.ndarray, like: Any) -> Any:
        if not self.parallel:
            template = np.asarray(like)
            return (
                rows[0].reshape(template.shape).astype(template.dtype)
                if template.ndim
                else type(like)(rows[0, 0])
            )
        out = dict(like)
        for k, row in zip(keys, rows, strict=True):
            name = self.agent_names[k]
            template = np.asarray(like[name])
            out[name] = (
                row.reshape(template.shape).astype(template.dtype)
                if template.ndim
                else type(like[name])(row[0])
            )
        return out

    def _info_for(self, infos: Any, index: int) -> dict[str, Any]:
        if not self.parallel:
            return infos
        name = self.agent_names[index]
        infos.setdefault(name, {})
        return infos[name]

    def _log(self, infos: Any, keys: list[int], spec: DisruptionSpec, draw: Draw) -> None:
        for k in keys:
            self._info_for(infos, k).setdefault("disruption", []).append(
                {
                    "name": spec.label,
                    "source": spec.source,
                    "fired": bool(draw.fired[k]),
                    "value": draw.value[k].tolist(),
                }
            )

    def _team_reward(self, reward: Any) -> float:
        return float(sum(reward.values())) if self.parallel else float(reward)

    def _context(self) -> dict[str, Any]:
        return {"observation": self._last_obs, "step": self.step_index, "phase": self.phase}

    def _draws(self, base: np.ndarray) -> list[tuple[DisruptionSpec, Draw]]:
        return [
            (d.spec, d.draw(self.step_index, self.reward_history, base, self.value_fn, self._context()))
            for d in self.disruptors
        ]

    # ---------------------------------------------------------------- the env API
    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, Any]:
        for d in self.disruptors:
            d.seed(seed)
        self.step_index = 0
        self.reward_history.clear()
        self.before_reset()
        obs, infos = self.env.reset(seed=seed, options=options)
        return self.after_reset(obs, infos)

    def step(self, action: Any) -> tuple[Any, Any, Any, Any, Any]:
        self.step_index += 1
        infos_pre: dict[str, Any] = {}
        action = self.transform_action(action, infos_pre)
        obs, reward, terminated, truncated, infos = self.env.step(action)
        self._ensure_truths(reward, infos)
        self.reward_history.append(self._team_reward(self._true_rewards(reward, infos)))
        self._merge(infos, infos_pre)
        obs, reward, infos = self.transform_outputs(obs, reward, infos)
        return obs, reward, terminated, truncated, infos

    def _true_rewards(self, reward: Any, infos: Any) -> Any:
        if not self.parallel:
            return infos["true_reward"]
        return {name: info["true_reward"] for name, info in infos.items() if "true_reward" in info}

    def _ensure_truths(self, reward: Any, infos: Any) -> None:
        """The innermost wrapper records the env's own reward and cost before anyone perturbs them."""
        if not self.parallel:
            infos.setdefault("true_reward", float(reward))
            if "cost" in infos:
                infos.setdefault("true_cost", np.array(infos["cost"], dtype=float).copy())
            return
        for name, r in reward.items():
            info = infos.setdefault(name, {})
            info.setdefault("true_reward", float(r))
            if "cost" in info:
                info.setdefault("true_cost", np.array(info["cost"], dtype=float).copy())

    def _merge(self, infos: Any, extra: dict[str, Any]) -> None:
        """Attach log entries made before the env step (actions, dynamics) to the step's infos."""
        for key, entries in extra.items():
            if not self.parallel:
                infos.setdefault("disruption", []).extend(entries)
            elif key in infos:
                infos[key].setdefault("disruption", []).extend(entries)

    # hooks: each subclass overrides exactly the one it disrupts
    def before_reset(self) -> None:
        pass

    def after_reset(self, obs: Any, infos: Any) -> tuple[Any, Any]:
        self._last_obs = self._rows(obs)[1]
        return obs, infos

    def transform_action(self, action: Any, infos_pre: dict[str, Any]) -> Any:
        return action

    def transform_outputs(self, obs: Any, reward: Any, infos: Any) -> tuple[Any, Any, Any]:
        self._last_obs = self._rows(obs)[1]
        return obs, reward, infos

    def close(self) -> None:
        self.env.close()


class ObservationDisruption(DisruptionWrapper):
    """Adds perturbations to observations (reset observation included, as step 0)."""

    source = "observation"

    def _make_disruptor(self, spec: DisruptionSpec, salt: int) -> Disruptor:
        return Disruptor(spec, self.n_agents, self.observation_dim(), "observation", salt)

    def _disrupt(self, obs: Any, infos: Any) -> Any:
        keys, rows = self._rows(obs)
        full = np.zeros((self.n_agents, rows.shape[1]))
        full[keys] = rows
        total = np.zeros_like(full)
        for spec, draw in self._draws(full):
            total += draw.value
            self._log(infos, keys, spec, draw)
        self._last_obs = full + total
        return self._unrows(keys, rows + total[keys], obs)

    def after_reset(self, obs: Any, infos: Any) -> tuple[Any, Any]:
        return self._disrupt(obs, infos), infos

    def transform_outputs(self, obs: Any, reward: Any, infos: Any) -> tuple[Any, Any, Any]:
        return self._disrupt(obs, infos), reward, infos


class ActionDisruption(DisruptionWrapper):
    """Perturbs actions before the env sees them.

    Discrete actions: ``uniform`` replaces a firing agent's action by a uniformly random one,
    ``set`` by one of ``choices``; the other kinds need a continuous (Box) action space,
    where the perturbation is added and the result clipped to the bounds.
    """

    source = "action"

    def _make_disruptor(self, spec: DisruptionSpec, salt: int) -> Disruptor:
        space = self.action_space_of()
        if isinstance(space, spaces.Discrete):
            if spec.kind not in ("uniform", "set"):
                raise DisruptionError(
                    f"kind: {spec.kind!r} action noise needs a continuous action space; "
                    "use 'uniform' or 'set' for discrete actions"
                )
            if spec.kind == "set" and any(
                not float(c).is_integer() or not 0 <= c < space.n for c in spec.choices or []
            ):  # type: ignore[arg-type]
                raise DisruptionError(f"choices: discrete actions must be integers 0..{space.n - 1}")
            return Disruptor(spec, self.n_agents, 1, "action", salt)
        if not isinstance(space, spaces.Box):
            raise DisruptionError(
                f"source: action disruptions need a Discrete or Box action space, not {space}"
            )
        return Disruptor(spec, self.n_agents, int(np.prod(space.shape)), "action", salt)

    def transform_action(self, action: Any, infos_pre: dict[str, Any]) -> Any:
        space = self.action_space_of()
        keys, rows = self._rows(action)
        full = np.zeros((self.n_agents, rows.shape[1]))
        full[keys] = rows
        log: dict[str, Any] = {}
        for d in self.disruptors:
            draw = d.draw(self.step_index, self.reward_history, full, self.value_fn, self._context())
            if isinstance(space, spaces.Discrete):
                replacement = (
                    d.rng.integers(space.n, size=self.n_agents)
                    if d.spec.kind == "uniform"
                    else draw.value[:, 0]
                )
                full[draw.fired, 0] = replacement[draw.fired]
                draw = Draw(draw.fired, np.where(draw.fired, replacement, -1)[:, None].astype(float))
            elif isinstance(space, spaces.Box):
                full = np.clip(full + draw.value, space.low.reshape(1, -1), space.high.reshape(1, -1))
            for k in keys:
                name = self.agent_names[k] if self.parallel else "_"
                log.setdefault(name, []).append(
                    {
                        "name": d.spec.label,
                        "source": "action",
                        "fired": bool(draw.fired[k]),
                        "value": draw.value[k].tolist(),
                    }
                )
        infos_pre.update(log)
        if isinstance(space, spaces.Discrete):
            return self._unrows(keys, full[keys].round(), action)
        return self._unrows(keys, full[keys], action)


class RewardDisruption(DisruptionWrapper):
    """Adds perturbations to rewards; ``info["true_reward"]`` keeps the env's reward."""

    source = "reward"

    def _make_disruptor(self, spec: DisruptionSpec, salt: int) -> Disruptor:
        return Disruptor(spec, self.n_agents, 1, "reward", salt)

    def transform_outputs(self, obs: Any, reward: Any, infos: Any) -> tuple[Any, Any, Any]:
        keys, rows = self._rows(reward)
        full = np.zeros((self.n_agents, 1))
        full[keys] = rows
        for spec, draw in self._draws(full):
            rows = rows + draw.value[keys]
            self._log(infos, keys, spec, draw)
        return obs, self._unrows(keys, rows, reward), infos


class CostDisruption(DisruptionWrapper):
    """Adds perturbations to ``info["cost"]``; ``info["true_cost"]`` keeps the env's cost."""

    source = "cost"

    def __init__(
        self,
        env: Any,
        specs: Sequence[DisruptionSpec],
        phase: RunPhase = "train",
        value_fn: ValueFn | None = None,
    ):
        self._cost_dim = len(getattr(env.unwrapped, "cost_names", ())) or 1
        super().__init__(env, specs, phase, value_fn)

    def _make_disruptor(self, spec: DisruptionSpec, salt: int) -> Disruptor:
        return Disruptor(spec, self.n_agents, self._cost_dim, "cost", salt)

    def transform_outputs(self, obs: Any, reward: Any, infos: Any) -> tuple[Any, Any, Any]:
        costs = {k: self._info_for(infos, k).get("cost") for k in range(self.n_agents)}
        keys = [k for k, c in costs.items() if c is not None]
        if not keys:
            raise DisruptionError("source: cost disruptions need an env that reports info['cost']")
        full = np.zeros((self.n_agents, self._cost_dim))
        for k in keys:
            full[k] = np.asarray(costs[k], dtype=float).reshape(-1)
        base = full.copy()
        for spec, draw in self._draws(base):
            full += draw.value
            self._log(infos, keys, spec, draw)
        for k in keys:
            self._info_for(infos, k)["cost"] = full[k].copy()
        return obs, reward, infos


class DynamicsDisruption(DisruptionWrapper):
    """Changes physical parameters of the live PyBullet bodies.

    On every reset the nominal parameters are restored first, then the specs active in this
    phase are drawn (``episode``/``always``/``interval`` at step 0) and applied. Specs with
    mode ``always``, ``interval`` or ``condition`` are re-drawn at their firing steps, before
    the physics of that step runs; the last drawn value is held in between. Noise kinds
    perturb the nominal value (nominal + draw); ``set`` picks the value itself. Values are
    clipped to the parameter's valid range. ``sensor_delay_steps`` and
    ``observation_dropout`` act on the observations this wrapper passes up.
    """

    source = "dynamics"

    def __init__(
        self,
        env: Any,
        specs: Sequence[DisruptionSpec],
        phase: RunPhase = "train",
        value_fn: ValueFn | None = None,
    ):
        super().__init__(env, specs, phase, value_fn)
        core = env.unwrapped
        if not hasattr(core, "set_dynamics"):
            raise DisruptionError("source: dynamics disruptions need a task with set_dynamics()")
        box_specs = [s.label for s in specs if s.parameter in ("box_mass_scale", "box_friction_scale")]
        if box_specs and not hasattr(core, "set_box"):
            raise DisruptionError(f"parameter: {box_specs} need a task with a box (team_push)")
        self._values = self._nominal_values()
        self._held: dict[int, Draw] = {}  # disruptor index -> value applied this episode
        self._obs_history: deque[np.ndarray] = deque()

    def _make_disruptor(self, spec: DisruptionSpec, salt: int) -> Disruptor:
        parameter = spec.parameter or ""
        return Disruptor(
            spec, self.n_agents, DYNAMICS_PARAMETERS[parameter][1], f"parameter {parameter}", salt
        )

    def _nominal_values(self) -> dict[str, np.ndarray]:
        return {
            name: np.full((self.n_agents, size), nominal)
            for name, (nominal, size, _) in DYNAMICS_PARAMETERS.items()
        }

    def _update(self, infos: Any, keys: list[int], at_reset: bool) -> bool:
        """Draw the specs due now; log every spec's value in effect (held episode values included)."""
        changed = False
        for index, d in enumerate(self.disruptors):
            parameter = d.spec.parameter or ""
            nominal, _, lower = DYNAMICS_PARAMETERS[parameter]
            if not at_reset and d.spec.mode == "episode":
                held = self._held.get(index)
                if held is not None:
                    self._log(infos, keys, d.spec, held)
                continue
            base = np.full((self.n_agents, d.dim), nominal)
            draw = d.draw(self.step_index, self.reward_history, base, self.value_fn, self._context())
            if not draw.fired.any():
                self._log(infos, keys, d.spec, draw)
                continue
            value = np.maximum(draw.value if d.spec.kind == "set" else base + draw.value, lower)
            self._values[parameter][draw.fired] = value[draw.fired]
            applied = Draw(draw.fired, np.where(draw.fired[:, None], value, nominal))
            self._held[index] = applied
            self._log(infos, keys, d.spec, applied)
            changed = True
        return changed

    def _apply(self) -> None:
        core = self.env.unwrapped
        v = self._values
        for robot in range(self.n_agents):
            params = replace(
                DynamicsParams(),
                mass_scale=float(v["mass_scale"][robot, 0]),
                lateral_friction_scale=float(v["lateral_friction_scale"][robot, 0]),
                rolling_friction_scale=float(v["rolling_friction_scale"][robot, 0]),
                motor_gain=float(v["motor_gain"][robot, 0]),
                torque_limit_scale=float(v["torque_limit_scale"][robot, 0]),
                actuation_latency_steps=int(round(v["actuation_latency_steps"][robot, 0])),
                external_force_n=(float(v["wind_force_n"][robot, 0]), float(v["wind_force_n"][robot, 1])),
                # world-level: the whole world follows robot 0's draw
                floor_tilt_rad=(float(v["floor_tilt_rad"][0, 0]), float(v["floor_tilt_rad"][0, 1])),
                gravity_scale=float(v["gravity_scale"][0, 0]),
            )
            core.set_dynamics(params, [robot])
        if hasattr(core, "set_box"):
            core.set_box(
                core.params.box_mass_kg * float(v["box_mass_scale"][0, 0]),
                core.params.box_friction * float(v["box_friction_scale"][0, 0]),
            )

    def before_reset(self) -> None:
        # nominal first: a disruption excluded from this phase must not linger from the last episode
        self._values = self._nominal_values()
        self._held.clear()
        self._apply()

    def after_reset(self, obs: Any, infos: Any) -> tuple[Any, Any]:
        keys, _ = self._rows(obs)
        if self._update(infos, keys, at_reset=True):
            self._apply()
        self._obs_history.clear()
        return self._sense(obs), infos

    def transform_action(self, action: Any, infos_pre: dict[str, Any]) -> Any:
        scratch: dict[Any, Any] = {name: {} for name in self.agent_names} if self.parallel else {}
        if self._update(scratch, list(range(self.n_agents)), at_reset=False):
            self._apply()
        if self.parallel:
            infos_pre.update({name: info.get("disruption", []) for name, info in scratch.items()})
        else:
            infos_pre["_"] = scratch.get("disruption", [])
        return action

    def transform_outputs(self, obs: Any, reward: Any, infos: Any) -> tuple[Any, Any, Any]:
        return self._sense(obs), reward, infos

    def _sense(self, obs: Any) -> Any:
        """Sensor delay (whole steps, per agent) and per-dimension dropout to zero."""
        delay = self._values["sensor_delay_steps"][:, 0].round().astype(int)
        dropout = self._values["observation_dropout"][:, 0]
        if not delay.any() and not dropout.any():
            return obs
        keys, rows = self._rows(obs)
        full = np.zeros((self.n_agents, rows.shape[1]))
        full[keys] = rows
        self._obs_history.append(full.copy())
        while len(self._obs_history) > delay.max() + 1:
            self._obs_history.popleft()
        history = list(self._obs_history)
        delayed = np.stack([history[max(len(history) - 1 - delay[i], 0)][i] for i in range(self.n_agents)])
        rng = self.disruptors[0].rng if self.disruptors else np.random.default_rng(0)
        keep = rng.random(delayed.shape) >= dropout[:, None]
        return self._unrows(keys, (delayed * keep)[keys], obs)


WRAPPERS: dict[str, type[DisruptionWrapper]] = {
    "dynamics": DynamicsDisruption,
    "action": ActionDisruption,
    "observation": ObservationDisruption,
    "cost": CostDisruption,
    "reward": RewardDisruption,
}


def wrap(
    env: Any, specs: Sequence[DisruptionSpec], phase: RunPhase = "train", value_fn: ValueFn | None = None
) -> Any:
    """Stack one wrapper per source present in ``specs`` (dynamics innermost, reward outermost)."""
    for source in SOURCE_ORDER:
        subset = [s for s in specs if s.source == source]
        if subset:
            env = WRAPPERS[source](env, subset, phase=phase, value_fn=value_fn)
    return env
