"""Strict YAML configs through the real CLI: exit 2, one line per field, file and key named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from robocoord.cli.main import app
from robocoord.config import KINDS, ConfigError, load_config

runner = CliRunner()


@pytest.fixture(autouse=True)
def example_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(KINDS, "example", "_example_models:ExampleConfig")


def write(tmp_path: Path, data: dict, name: str = "run.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_valid_config_validates_and_shows_resolved_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, {"kind": "example", "name": "a", "robots": 4})
    assert runner.invoke(app, ["config", "validate", str(path)]).exit_code == 0
    shown = runner.invoke(app, ["config", "show", str(path)])
    assert shown.exit_code == 0
    resolved = yaml.safe_load(shown.stdout)
    assert resolved["kind"] == "example"
    assert resolved["optimiser"] == {"lr": 1e-3, "kind": "adam"}


def test_unknown_key_exits_2_naming_key_and_file(tmp_path: Path) -> None:
    path = write(tmp_path, {"kind": "example", "name": "a", "robots": 4, "robotz": 5})
    result = runner.invoke(app, ["config", "validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}: robotz: unknown key 'robotz'" in result.stderr
    assert "Traceback" not in result.output


def test_wrong_type_names_the_nested_field(tmp_path: Path) -> None:
    path = write(tmp_path, {"kind": "example", "name": "a", "robots": 4, "optimiser": {"lr": "fast"}})
    result = runner.invoke(app, ["config", "validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}: optimiser.lr:" in result.stderr


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path, {"kind": "example", "robots": 0, "gamma": 1.5, "extra": 1, "optimiser": {"kind": "sgd"}}
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    joined = "\n".join(err.value.lines)
    for key in ("name", "robots", "gamma", "extra", "optimiser.kind"):
        assert f": {key}:" in joined, key
    assert len(err.value.lines) == 5


def test_missing_and_unknown_kind_list_the_valid_kinds(tmp_path: Path) -> None:
    for data, message in (({"name": "a"}, "kind: missing"), ({"kind": "nope"}, "unknown kind 'nope'")):
        result = runner.invoke(app, ["config", "validate", str(write(tmp_path, data))])
        assert result.exit_code == 2
        assert message in result.stderr
        assert "gmfs-study" in result.stderr and "example" in result.stderr


def test_set_overrides_nested_keys_and_parses_yaml_values(tmp_path: Path) -> None:
    path = write(tmp_path, {"kind": "example", "name": "a", "robots": 4})
    config = load_config(path, ["optimiser.lr=5e-4", "seeds=[1, 2, 3]", "robots=8"])
    assert config.optimiser.lr == 5e-4  # type: ignore[attr-defined]
    assert config.seeds == [1, 2, 3]  # type: ignore[attr-defined]
    result = runner.invoke(app, ["config", "show", str(path), "--set", "robots=-1"])
    assert result.exit_code == 2 and f"{path}: robots:" in result.stderr


def test_unreadable_inputs_are_clear_errors(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["config", "validate", str(tmp_path / "nothing.yaml")])
    assert missing.exit_code == 2 and "file not found" in missing.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: example\nname: [unclosed\n")
    result = runner.invoke(app, ["config", "validate", str(broken)])
    assert result.exit_code == 2 and "not valid YAML" in result.stderr


def test_bad_override_syntax_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, {"kind": "example", "name": "a", "robots": 4})
    result = runner.invoke(app, ["config", "validate", str(path), "--set", "robots"])
    assert result.exit_code == 2 and "key.path=value" in result.stderr


REPO = Path(__file__).resolve().parents[2]


def shipped_configs() -> list[Path]:
    files = []
    for path in sorted(REPO.glob("**/configs/**/*.yaml")) + sorted(REPO.glob("launch/inventories/*.yaml")):
        if ".venv" in path.parts or "runs" in path.parts:
            continue
        data = yaml.safe_load(path.read_text())
        if isinstance(data, dict) and "kind" in data:
            files.append(path)
    return files


@pytest.mark.parametrize("path", shipped_configs(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_shipped_config_validates(path: Path) -> None:
    load_config(path)


def test_every_kind_has_a_shipped_example() -> None:
    kinds_shipped = {yaml.safe_load(p.read_text())["kind"] for p in shipped_configs()}
    missing = sorted(set(KINDS) - {"example"} - kinds_shipped)
    assert not missing, f"kinds without an example config: {missing}"
