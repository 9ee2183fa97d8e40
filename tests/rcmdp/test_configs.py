"""The shipped configs validate against their kinds, and the study config covers the three discounts."""

from __future__ import annotations

from pathlib import Path

import pytest

from robocoord.config import load_config
from robocoord.training.rcmdp.config import RcmdpStudyConfig, RcmdpTrainConfig, SafeNavSpec

CONFIGS = Path(__file__).resolve().parents[2] / "training" / "rcmdp" / "configs"


def test_study_crs_is_river_swim_at_the_three_discounts():
    cfg = load_config(CONFIGS / "study_crs.yaml")
    assert isinstance(cfg, RcmdpStudyConfig)
    assert cfg.gammas == [0.9, 0.99, 0.995]
    assert [b.name for b in cfg.benchmarks] == ["river_swim"]
    assert {a.algo for a in cfg.algos} >= {"rnpg", "epirc_pgs"}


def test_safe_nav_config_is_a_train_config_with_three_budgets():
    cfg = load_config(CONFIGS / "safe_nav.yaml")
    assert isinstance(cfg, RcmdpTrainConfig) and isinstance(cfg.benchmark, SafeNavSpec)
    assert len(cfg.benchmark.budgets) == 3 and cfg.uncertainty.kind == "tv"


@pytest.mark.parametrize("name", ["study_tabular.yaml", "heldout_disruptions.yaml"])
def test_other_shipped_configs_validate(name):
    load_config(CONFIGS / name)
