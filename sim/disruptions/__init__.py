"""Sim-to-real disruptions: strict specs, one wrapper per source, a Robust-Gymnasium adapter.

See ``sim/DISRUPTIONS.md`` for the schema. Only :mod:`.spec` is imported eagerly (pydantic
only), so ``robocoord config validate`` does not pull in PyBullet.
"""

from robocoord.sim.disruptions.spec import DisruptionFile, DisruptionSpec, load_disruptions

__all__ = ["DisruptionFile", "DisruptionSpec", "load_disruptions"]
