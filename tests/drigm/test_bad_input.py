"""Bad input gets a clear error naming the problem: mixer, robust kind, ρ, team size, missing global state."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from robocoord.config import ConfigError, load_config
from robocoord.training.drigm.config import LearnerSpec
from robocoord.training.drigm.learner import DrigmLearner, TeamDims

NO_STATE = TeamDims(n_agents=2, n_actions=2, obs_dim=2, state_dim=0)
WITH_STATE = TeamDims(n_agents=2, n_actions=2, obs_dim=2, state_dim=3)


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "train.yaml"
    path.write_text("kind: drigm-train\n" + body)
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("algo: qplex\n", "algo: Input should be 'vdn', 'qmix' or 'qtran'"),
        ("robust: wasserstein\n", "robust: Input should be 'none', 'dr', 'groupdr', 'contamination' or 'tv'"),
        ("robust: tv\nrho: 1.0\n", "rho: Value error, rho must lie in [0, 1), got 1.0"),
        ("robust: contamination\nrho: -0.1\n", "rho: Value error, rho must lie in [0, 1), got -0.1"),
        (
            "env: {task: tiny, n_agents: 4}\n",
            "env: Value error, n_agents: task 'tiny' takes 2 or 3 agents, got 4",
        ),
        ("env: {task: team_push, n_agents: 5}\n", "takes 2 or 3 or 4 agents, got 5"),
        ("robust: dr\n", "robust: dr needs a non-empty dr_shifts list"),
    ],
)
def test_config_errors_name_the_field(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, body))
    assert any(message in line for line in err.value.lines), err.value.lines


def test_study_rho_grid_outside_unit_interval_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text(
        "kind: drigm-study\nvariants: [{robust: tv, rho_grid: [0.1, 1.5]}]\n"
        "validation_shifts: [{name: v, params: {hazard: 0.1}}]\ntest_shifts: [{name: t, params: {hazard: 0.2}}]\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert any("variants[0].rho_grid" in line and "got 1.5" in line for line in err.value.lines)


def test_learner_rejects_unknown_mixer_and_robust_kind() -> None:
    with pytest.raises(ValueError, match="unknown mixer 'qplex'"):
        DrigmLearner(mixer="qplex", robust="none", rho=0.0, dims=WITH_STATE, spec=LearnerSpec())
    with pytest.raises(ValueError, match="unknown robust kind 'kl'"):
        DrigmLearner(mixer="vdn", robust="kl", rho=0.0, dims=WITH_STATE, spec=LearnerSpec())
    with pytest.raises(ValueError, match="rho must lie in"):
        DrigmLearner(mixer="vdn", robust="tv", rho=1.0, dims=WITH_STATE, spec=LearnerSpec())


@pytest.mark.parametrize("mixer", ["qmix", "qtran"])
def test_state_based_mixers_without_a_global_state_are_refused(mixer: str) -> None:
    with pytest.raises(ValueError, match="needs a global state"):
        DrigmLearner(mixer=mixer, robust="none", rho=0.0, dims=NO_STATE, spec=LearnerSpec())
    # VDN needs none
    DrigmLearner(mixer="vdn", robust="none", rho=0.0, dims=NO_STATE, spec=LearnerSpec())


def test_cli_reports_a_bad_config_with_exit_code_2(tmp_path: Path) -> None:
    path = _write(tmp_path, "algo: qplex\nrho: 2.0\n")
    proc = subprocess.run(
        [sys.executable, "-m", "robocoord.cli.main", "train", "drigm", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "algo: Input should be" in proc.stderr
    assert "rho: Value error, rho must lie in [0, 1), got 2.0" in proc.stderr
    assert "Traceback" not in proc.stderr
