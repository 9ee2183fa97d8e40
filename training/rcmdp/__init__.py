"""Robust constrained MDPs: RNPG / RPPG (Ganguly et al. 2025) and the EpiRC-PGS baseline (Kitamura et al. 2025).

Tabular core (numpy only): :mod:`.mdp` (problem + exact evaluation), :mod:`.uncertainty`
(robust evaluators behind one interface), :mod:`.simplex`, :mod:`.rnpg`, :mod:`.epirc_pgs`,
:mod:`.benchmarks`. See ``README.md`` for the config schema.
"""
