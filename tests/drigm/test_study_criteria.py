"""Results criteria on the tiny game, over 3 seeds, with ρ picked on validation shifts only.

For each mixer the best robust variant must reach a mean test-shift (OOD) return >= the
non-robust one, with an in-distribution drop of at most 5 %. The study is study_small.yaml
with one ρ per robust kind (the grid search itself is exercised by the CLI study).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from robocoord.config import load_config
from robocoord.training.drigm.config import DrigmStudyConfig
from robocoord.training.drigm.study import run_study

CONFIG = Path(__file__).resolve().parents[2] / "training" / "drigm" / "configs" / "study_small.yaml"


@pytest.mark.slow
def test_best_robust_variant_beats_non_robust_ood_without_losing_more_than_5_percent_nominal() -> None:
    cfg = load_config(
        CONFIG,
        [
            "variants=[{robust: none}, {robust: contamination, rho_grid: [0.05]}, {robust: tv, rho_grid: [0.1]}]",
            "eval_episodes=16",
        ],
    )
    assert isinstance(cfg, DrigmStudyConfig)
    doc = run_study(cfg)
    criteria = {c["mixer"]: c for c in doc["criteria"]}
    assert set(criteria) == {"vdn", "qmix", "qtran"}
    for mixer, c in criteria.items():
        assert c["ood_ok"], (mixer, c)
        assert c["id_ok"], (mixer, c)
    # every row carries the schema
    row = doc["results"][0]
    assert {"mixer", "robust", "rho", "shift", "mean", "stderr", "seeds"} <= set(row)
    assert all(r["seeds"] == 3 for r in doc["results"])
