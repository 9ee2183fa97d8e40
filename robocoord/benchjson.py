"""The one machine-readable output format of every ``robocoord bench …`` and ``… study``.

With ``--json``, stdout carries exactly one JSON object. C libraries (pybullet's
banner, ROS loggers) write to the process's file descriptor 1 behind Python's
back, so :func:`json_stdout` points fd 1 at stderr for the whole run and keeps a
private handle on the real stdout for the final object.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from robocoord.runs import package_versions


@dataclass(frozen=True)
class Result:
    name: str
    value: float | int | None
    unit: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "unit": self.unit}


def machine_info() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {k: v for k, v in package_versions().items() if v is not None},
    }


def bench_document(bench: str, results: list[Result]) -> dict[str, Any]:
    return {"bench": bench, "machine": machine_info(), "results": [r.as_dict() for r in results]}


@contextlib.contextmanager
def json_stdout(enabled: bool = True) -> Iterator[TextIO]:
    """Redirect fd 1 to stderr while the body runs; yield a writer bound to the real stdout."""
    if not enabled:
        yield sys.stdout
        return
    sys.stdout.flush()
    saved_fd = os.dup(1)
    os.dup2(2, 1)
    real_stdout = os.fdopen(os.dup(saved_fd), "w")
    try:
        yield real_stdout
    finally:
        sys.stdout.flush()
        os.dup2(saved_fd, 1)
        os.close(saved_fd)
        real_stdout.flush()
        real_stdout.close()


def emit(document: dict[str, Any], out: TextIO) -> None:
    out.write(json.dumps(document) + "\n")
    out.flush()


def print_table(document: dict[str, Any], out: TextIO | None = None) -> None:
    """Human-readable form of a bench document (the default without --json)."""
    out = out or sys.stdout
    out.write(f"bench: {document['bench']}\n")
    for r in document["results"]:
        value = r["value"]
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        out.write(f"  {r['name']:<45} {shown:>12} {r['unit']}\n")
