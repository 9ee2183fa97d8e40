"""``robocoord doctor``: is this machine able to train, deploy and run HIL?

Each check says what it found and, when it fails, the command that fixes it.
Exit code 1 when a required part is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from importlib import metadata

import typer

INSTALL = "pip install -e '.[train,robot,ros,dev]'  (or: make bootstrap)"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


# (distribution, import name, extra that provides it, required for a full install)
DEPENDENCIES = (
    ("numpy", "numpy", "robot", True),
    ("pydantic", "pydantic", "robot", True),
    ("onnx", "onnx", "robot", True),
    ("onnxruntime", "onnxruntime", "robot", True),
    ("pyserial", "serial", "robot", True),
    ("cobs", "cobs", "robot", True),
    ("typer", "typer", "core", True),
    ("pyyaml", "yaml", "core", True),
    ("torch", "torch", "train", True),
    ("pybullet", "pybullet", "train", True),
    ("onnxscript", "onnxscript", "train", True),
    ("gymnasium", "gymnasium", "train", True),
    ("pettingzoo", "pettingzoo", "train", True),
    ("matplotlib", "matplotlib", "train", True),
    ("tensorboard", "tensorboard", "train", True),
    ("scipy", "scipy", "train", True),
    ("ros-rclpy", "rclpy", "ros", True),
    ("mcap-ros2-support", "mcap_ros2", "ros", True),
    ("pytest", "pytest", "dev", False),
    ("hypothesis", "hypothesis", "dev", False),
    ("pymavlink", "pymavlink", "dev", False),
)

# Runs in a child process: rclpy init/shutdown and DDS discovery must not leak into the CLI process.
_PUBSUB_PROBE = textwrap.dedent(
    """
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from std_msgs.msg import String
    rclpy.init()
    pub_node = rclpy.create_node("robocoord_doctor_pub")
    sub_node = rclpy.create_node("robocoord_doctor_sub")
    got = []
    sub_node.create_subscription(String, "robocoord_doctor", lambda m: got.append(m.data), 10)
    pub = pub_node.create_publisher(String, "robocoord_doctor", 10)
    ex = SingleThreadedExecutor()
    ex.add_node(pub_node); ex.add_node(sub_node)
    for _ in range(200):
        pub.publish(String(data="ping"))
        ex.spin_once(timeout_sec=0.05)
        if got:
            break
    ex.shutdown(); rclpy.shutdown()
    print("ok" if got else "no message")
    """
)


def _dependency_checks() -> list[Check]:
    checks = []
    for dist, module, extra, required in DEPENDENCIES:
        try:
            version = metadata.version(dist)
            checks.append(Check(f"{dist}", True, version, required=required))
        except metadata.PackageNotFoundError:
            fix = f"pip install -e '.[{extra}]'" if extra != "core" else INSTALL
            checks.append(Check(f"{dist}", False, f"not installed (import {module})", fix, required))
    return checks


def _rclpy_check(timeout_s: float) -> Check:
    env = dict(os.environ)
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env.setdefault("ROS_DOMAIN_ID", str(50 + os.getpid() % 40))
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _PUBSUB_PROBE], capture_output=True, text=True, timeout=timeout_s, env=env
        )
    except subprocess.TimeoutExpired:
        return Check(
            "rclpy loopback pub/sub", False, f"timed out after {timeout_s:g} s", "check RMW / shared memory"
        )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
        return Check("rclpy loopback pub/sub", False, last, "pip install -e '.[ros]'")
    if proc.stdout.strip().endswith("ok"):
        return Check(
            "rclpy loopback pub/sub", True, f"message received (domain {env['ROS_DOMAIN_ID']}, localhost)"
        )
    return Check(
        "rclpy loopback pub/sub", False, "published but nothing arrived", "check ROS_DOMAIN_ID / firewall"
    )


def _gcc_check() -> Check:
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        return Check(
            "gcc", False, "not found", "apt-get install gcc make (needed for the C firmware and virtual MCU)"
        )
    out = subprocess.run([gcc, "--version"], capture_output=True, text=True, check=False).stdout.splitlines()
    return Check("gcc", True, out[0] if out else gcc)


def _pty_check() -> Check:
    try:
        controller, device = os.openpty()
    except OSError as err:
        return Check(
            "pseudo-terminal", False, str(err), "mount devpts (/dev/pts) or run outside a restricted sandbox"
        )
    name = os.ttyname(device)
    os.close(controller)
    os.close(device)
    return Check("pseudo-terminal", True, f"opened {name}")


def run_checks(ros_timeout_s: float = 30.0) -> list[Check]:
    checks = [Check("python", sys.version_info >= (3, 11), sys.version.split()[0], "install Python >= 3.11")]
    checks += _dependency_checks()
    if any(c.name == "ros-rclpy" and c.ok for c in checks):
        checks.append(_rclpy_check(ros_timeout_s))
    checks.append(_gcc_check())
    checks.append(_pty_check())
    return checks


def doctor(
    ros_timeout: float = typer.Option(30.0, help="seconds to wait for the loopback pub/sub probe"),
) -> None:
    """Check dependencies, ROS 2 loopback pub/sub, gcc and pseudo-terminals; name the fix for anything missing."""
    checks = run_checks(ros_timeout)
    for c in checks:
        mark = "ok  " if c.ok else ("FAIL" if c.required else "warn")
        line = f"[{mark}] {c.name:<24} {c.detail}"
        if not c.ok and c.fix:
            line += f"\n        fix: {c.fix}"
        typer.echo(line)
    missing = [c for c in checks if c.required and not c.ok]
    if missing:
        typer.echo(f"{len(missing)} required part(s) missing: {', '.join(c.name for c in missing)}", err=True)
        raise typer.Exit(1)
    typer.echo("all required parts present")
