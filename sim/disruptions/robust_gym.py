"""Adapter from a Robust-Gymnasium style argument namespace to :class:`DisruptionSpec` s.

Reads only these attributes (anything else on the namespace is ignored, since such
namespaces carry the whole training command line): ``noise_factor``, ``noise_type``,
``noise_mu``, ``noise_sigma``, ``noise_shift``, ``uniform_low``, ``uniform_high``,
``llm_disturb_interval``, ``gravity``, ``wind``.

Mapping:

* ``noise_factor``: ``state`` -> observation, ``action``, ``reward``, ``cost`` -> same
  source; ``robust_shape`` -> dynamics ``mass_scale``; ``robust_force`` -> dynamics
  ``wind_force_n``; ``dynamics`` -> the ``gravity`` / ``wind`` values below.
* ``noise_type``: ``gauss`` (noise_mu, noise_sigma), ``uniform`` (uniform_low,
  uniform_high), ``shift`` (noise_shift).
* ``llm_disturb_interval`` > 0 -> mode ``interval`` with that N, else ``always``.
* ``gravity`` [m/s^2] -> ``gravity_scale`` = gravity / 9.81; ``wind`` [N] -> a constant
  force along world +x (or (x, y) when a pair). Both as kind ``set`` (a fixed value).

Our draws are per dimension (full rank) and seeded per wrapper, so the same namespace
gives the statistics Robust-Gymnasium intends without its rank-1, globally seeded noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from robocoord.sim.disruptions.spec import DisruptionSpec
from robocoord.sim.pybullet_plant import GRAVITY_M_S2

FACTOR_SOURCES = {
    "state": "observation",
    "observation": "observation",
    "action": "action",
    "reward": "reward",
    "cost": "cost",
}
FACTOR_PARAMETERS = {"robust_shape": "mass_scale", "robust_force": "wind_force_n"}


def _getter(namespace: Any) -> Any:
    if isinstance(namespace, Mapping):
        return lambda name, default=None: namespace.get(name, default)
    return lambda name, default=None: getattr(namespace, name, default)


def from_robust_gymnasium(namespace: Any) -> list[DisruptionSpec]:
    get = _getter(namespace)
    specs: list[DisruptionSpec] = []
    interval = int(get("llm_disturb_interval", 0) or 0)
    gating: dict[str, Any] = (
        {"mode": "interval", "interval": interval} if interval > 0 else {"mode": "always"}
    )
    factor = get("noise_factor")
    if factor is not None and factor != "dynamics":
        noise_type = get("noise_type", "gauss")
        if noise_type == "gauss":
            noise: dict[str, Any] = {
                "kind": "gauss",
                "mu": get("noise_mu", 0.0),
                "sigma": get("noise_sigma", 0.0),
            }
        elif noise_type == "uniform":
            noise = {"kind": "uniform", "low": get("uniform_low", 0.0), "high": get("uniform_high", 0.0)}
        elif noise_type == "shift":
            noise = {"kind": "shift", "offset": get("noise_shift", 0.0)}
        else:
            raise ValueError(f"noise_type: {noise_type!r} is not one of gauss, uniform, shift")
        if factor in FACTOR_SOURCES:
            target: dict[str, Any] = {"source": FACTOR_SOURCES[factor]}
        elif factor in FACTOR_PARAMETERS:
            target = {"source": "dynamics", "parameter": FACTOR_PARAMETERS[factor]}
        else:
            known = ", ".join([*FACTOR_SOURCES, *FACTOR_PARAMETERS, "dynamics"])
            raise ValueError(f"noise_factor: {factor!r} is not one of {known}")
        specs.append(DisruptionSpec(name=f"robust_gym/{factor}", **target, **noise, **gating))
    gravity = get("gravity")
    if gravity is not None:
        specs.append(
            DisruptionSpec(
                name="robust_gym/gravity",
                source="dynamics",
                parameter="gravity_scale",
                kind="set",
                choices=[float(gravity) / GRAVITY_M_S2],
                mode="episode",
            )
        )
    wind = get("wind")
    if wind is not None:
        force = [float(wind), 0.0] if isinstance(wind, int | float) else [float(w) for w in wind]
        specs.append(
            DisruptionSpec(
                name="robust_gym/wind",
                source="dynamics",
                parameter="wind_force_n",
                kind="set",
                choices=[force],
                mode="episode",
            )
        )
    return specs
