"""Run folders hold everything needed to reproduce and inspect a run."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from _example_models import ExampleConfig

from robocoord.config import KINDS
from robocoord.runs import RunDir, read_metrics


def test_run_folder_layout_and_contents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(KINDS, "example", "_example_models:ExampleConfig")
    config = ExampleConfig(name="a", robots=3)
    now = dt.datetime(2026, 11, 25, 13, 0, 5, tzinfo=dt.UTC)
    with RunDir.create("unit", config, seed=7, root=tmp_path, argv=["robocoord", "train"], now=now) as run:
        run.log(0, loss=1.5, reward=2.0)
        run.log(1, loss=0.5)
    assert run.path.name == "20261125T130005Z-unit"
    for name in ("config.yaml", "run.json", "metrics.csv", "tb", "artifacts", "plots"):
        assert (run.path / name).exists(), name
    saved = yaml.safe_load((run.path / "config.yaml").read_text())
    assert saved["kind"] == "example" and saved["robots"] == 3
    info = json.loads((run.path / "run.json").read_text())
    assert info["seed"] == 7 and info["command_line"] == ["robocoord", "train"]
    assert "numpy" in info["versions"] and "git_sha" in info
    assert read_metrics(run.path / "metrics.csv") == {"loss": [(0, 1.5), (1, 0.5)], "reward": [(0, 2.0)]}
    assert any(run.tb_dir.iterdir()), "TensorBoard event file written"


def test_two_runs_in_the_same_second_get_distinct_folders(tmp_path: Path) -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    first = RunDir.create("same", None, seed=None, root=tmp_path, now=now, tensorboard=False)
    second = RunDir.create("same", None, seed=None, root=tmp_path, now=now, tensorboard=False)
    assert first.path != second.path
    first.close()
    second.close()
