"""The study's bookkeeping: ρ is picked on validation shifts, never on test shifts; rows follow the schema."""

from __future__ import annotations

from robocoord.training.drigm.config import DrigmStudyConfig
from robocoord.training.drigm.study import Cell, format_table, summarise


def _cfg() -> DrigmStudyConfig:
    return DrigmStudyConfig.model_validate(
        {
            "mixers": ["vdn"],
            "seeds": [0, 1],
            "variants": [{"robust": "none"}, {"robust": "tv", "rho_grid": [0.1, 0.3]}],
            "validation_shifts": [{"name": "val", "params": {"hazard": 0.05}}],
            "test_shifts": [{"name": "test", "params": {"hazard": 0.2}}],
            "return_scale": 2.0,
        }
    )


def _raw() -> list[dict]:  # seeds interleaved on purpose: a pool returns cells in any order
    # ρ = 0.1 is better on validation, ρ = 0.3 would be better on test: 0.1 must be chosen
    table = {
        ("none", 0.0): {"nominal": 1.0, "val": 0.5, "test": 0.2},
        ("tv", 0.1): {"nominal": 0.98, "val": 0.9, "test": 0.6},
        ("tv", 0.3): {"nominal": 0.9, "val": 0.8, "test": 0.9},
    }
    out = []
    for seed in (1, 0):
        for (robust, rho), returns in table.items():
            bumped = {k: v + 0.02 * seed for k, v in returns.items()}
            out.append(
                {
                    "cell": Cell("vdn", robust, rho, "zero", seed),
                    "returns": bumped,
                    "env_steps": 100,
                    "wall_s": 1.0,
                }
            )
    return out


def test_rho_is_selected_on_validation_not_on_test() -> None:
    doc = summarise(_cfg(), _raw())
    chosen = {r["rho"] for r in doc["results"] if r["robust"] == "tv"}
    assert chosen == {0.1}
    assert [r["rho"] for r in doc["rho_grid"] if r["robust"] == "tv" and r["selected"]] == [0.1]


def test_rows_are_normalised_with_stderr_over_seeds() -> None:
    doc = summarise(_cfg(), _raw())
    row = next(r for r in doc["results"] if r["robust"] == "tv" and r["shift"] == "test")
    assert row == {
        "mixer": "vdn",
        "robust": "tv",
        "rho": 0.1,
        "shift": "test",
        "split": "test",
        "mean": (0.6 + 0.62) / 2 / 2.0,
        "stderr": row["stderr"],
        "seeds": 2,
        "per_seed": [0.6 / 2.0, 0.62 / 2.0],
        "seed_ids": [0, 1],
    }
    assert abs(row["stderr"] - 0.005) < 1e-9  # std (ddof 1) of {0.3, 0.31} / sqrt(2)


def test_criteria_compare_best_robust_with_non_robust() -> None:
    doc = summarise(_cfg(), _raw())
    (c,) = doc["criteria"]
    assert c["robust_best"] == "tv" and c["rho"] == 0.1
    assert c["ood_ok"] and c["id_ok"]
    assert abs(c["id_drop"] - (1.01 - 0.99) / 1.01) < 1e-9  # seed means 1.01 vs 0.99
    assert "vdn: best robust = tv" in format_table({"study": "x", **doc})
