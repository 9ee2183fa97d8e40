"""`robocoord eval` turns an evaluator's refusal into exit 2 with the reason, never a traceback."""

from __future__ import annotations

from typer.testing import CliRunner

from robocoord.cli.main import app
from robocoord.training.export import ExportedPolicy

runner = CliRunner()


def test_eval_refuses_a_task_the_family_does_not_run_on(small_artifact: ExportedPolicy) -> None:
    result = runner.invoke(app, ["eval", str(small_artifact.path), "--task", "team_push", "--episodes", "1"])
    assert result.exit_code == 2, result.output
    assert "gmfs artifacts run on 'warehouse', got 'team_push'" in result.stderr
    assert "Traceback" not in result.output


def test_eval_refuses_an_artifact_without_its_family_parameters(small_artifact: ExportedPolicy) -> None:
    """The spine's fixture is a gmfs-family MLP without a graphon: the evaluator must say so."""
    result = runner.invoke(app, ["eval", str(small_artifact.path), "--episodes", "1"])
    assert result.exit_code == 2, result.output
    assert result.stderr.count(str(small_artifact.path)) == 1
    assert "family_params.graphon missing" in result.stderr
