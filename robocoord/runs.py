"""Run folders: ``runs/<UTC-stamp>-<name>/`` with config, provenance, metrics and artifacts.

Layout (every run, every family)::

    config.yaml    the resolved config, kind first
    run.json       git sha, package versions, seed, command line, start time
    metrics.csv    long format: step,name,value (new metrics need no schema change)
    tb/            TensorBoard event files
    artifacts/     policy.onnx and friends
    plots/         PNG figures
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

import yaml
from pydantic import BaseModel

from robocoord.config import dump_config

TRACKED_PACKAGES = (
    "robocoord",
    "numpy",
    "pydantic",
    "torch",
    "pybullet",
    "onnx",
    "onnxruntime",
    "gymnasium",
    "pettingzoo",
    "pyserial",
    "cobs",
    "ros-rclpy",
)


def package_versions(names: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_sha(cwd: Path | None = None) -> str | None:
    """The checkout's commit, with ``-dirty`` when the tree has uncommitted changes."""
    here = cwd or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("-dirty" if dirty else "")


def utc_stamp(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    return now.strftime("%Y%m%dT%H%M%SZ")


class _TensorBoard:
    """Scalar logging to TensorBoard when the package is installed (train extra); silent no-op otherwise."""

    def __init__(self, logdir: Path):
        self._writer: Any = None
        try:
            from torch.utils.tensorboard import SummaryWriter  # train-side only; imported lazily

            self._writer = SummaryWriter(log_dir=str(logdir))
        except ImportError:
            self._writer = None

    def scalar(self, name: str, value: float, step: int) -> None:
        if self._writer is not None:
            self._writer.add_scalar(name, value, step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.flush()
            self._writer.close()


class RunDir:
    """One run's folder. Create with :meth:`create`; log with :meth:`log`; close at the end."""

    def __init__(self, path: Path, tensorboard: bool = True):
        self.path = path
        self.artifacts = path / "artifacts"
        self.plots = path / "plots"
        self.tb_dir = path / "tb"
        for folder in (self.artifacts, self.plots, self.tb_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self._metrics_file: TextIO = open(path / "metrics.csv", "a", newline="")  # noqa: SIM115
        self._metrics = csv.writer(self._metrics_file)
        if self._metrics_file.tell() == 0:
            self._metrics.writerow(["step", "name", "value"])
        self._tb = _TensorBoard(self.tb_dir) if tensorboard else None

    @classmethod
    def create(
        cls,
        name: str,
        config: BaseModel | None,
        seed: int | None,
        root: Path | str = "runs",
        argv: list[str] | None = None,
        tensorboard: bool = True,
        now: dt.datetime | None = None,
    ) -> RunDir:
        root = Path(root)
        base = root / f"{utc_stamp(now)}-{name}"
        path = base
        suffix = 1
        while path.exists():  # two runs in the same second must not share a folder
            suffix += 1
            path = Path(f"{base}-{suffix}")
        path.mkdir(parents=True)
        if config is not None:
            (path / "config.yaml").write_text(yaml.safe_dump(dump_config(config), sort_keys=False))
        run_info = {
            "name": name,
            "started_utc": (now or dt.datetime.now(dt.UTC)).isoformat(),
            "git_sha": git_sha(),
            "seed": seed,
            "command_line": argv if argv is not None else sys.argv,
            "python": sys.version.split()[0],
            "versions": package_versions(),
        }
        (path / "run.json").write_text(json.dumps(run_info, indent=2))
        return cls(path, tensorboard=tensorboard)

    def log(self, step: int, **metrics: float) -> None:
        for name, value in metrics.items():
            self._metrics.writerow([step, name, repr(float(value))])
            if self._tb is not None:
                self._tb.scalar(name, float(value), step)
        self._metrics_file.flush()

    def write_json(self, relative: str, data: Any) -> Path:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(data, indent=2))
        return target

    def close(self) -> None:
        self._metrics_file.close()
        if self._tb is not None:
            self._tb.close()

    def __enter__(self) -> RunDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_metrics(path: Path) -> dict[str, list[tuple[int, float]]]:
    """metrics.csv back as name -> [(step, value)]."""
    series: dict[str, list[tuple[int, float]]] = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            series.setdefault(row["name"], []).append((int(row["step"]), float(row["value"])))
    return series
