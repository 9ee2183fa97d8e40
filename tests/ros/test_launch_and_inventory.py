"""The launch file, the ament package files and the inventories: they compile, name only things
that exist, and describe the same node set the tests run.

``launch``/``launch_ros`` are not installable here, so the launch file is compiled and its
imports and calls are checked by reading its syntax tree; the node set is checked by
calling the same ``build_graph`` it calls.
"""

from __future__ import annotations

import ast
import glob
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import yaml

from robocoord.config import ConfigError
from robocoord_ros.graph import EXECUTABLES, build_graph, node_class, ros_params_document, write_ros_params
from robocoord_ros.inventory import FleetInventory, load_inventory

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "ros2_ws" / "src" / "robocoord_ros"
LAUNCH = ROOT / "launch"


def setup_py_call() -> ast.Call:
    tree = ast.parse((PKG / "setup.py").read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "setup"]
    assert len(calls) == 1
    return calls[0]


def setup_keyword(name: str):
    call = setup_py_call()
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    raise KeyError(name)


def console_scripts() -> dict[str, str]:
    entry = ast.literal_eval(setup_keyword("entry_points"))
    return {k.strip(): v.strip() for k, v in (line.split("=") for line in entry["console_scripts"])}


def test_launch_file_compiles_and_uses_the_shared_graph_builder():
    source = (LAUNCH / "fleet.launch.py").read_text()
    tree = ast.parse(source)
    compile(source, "fleet.launch.py", "exec")
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "generate_launch_description" in functions
    imported = {(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert ("launch_ros.actions", "Node") in imported and ("launch_ros.actions", "LifecycleNode") in imported
    assert ("robocoord_ros.fleet", "prepare_fleet") in imported
    declared = {
        n.args[0].value
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "DeclareLaunchArgument"
    }
    assert {"backend", "inventory"} <= declared


def test_every_executable_has_an_entry_point_and_a_node_class():
    scripts = console_scripts()
    for executable, target in EXECUTABLES.items():
        module, _, _ = target.partition(":")
        assert scripts[executable] == f"{module}:main"
        assert isinstance(node_class(executable), type)
    assert set(scripts) == set(EXECUTABLES)


def test_ament_package_files():
    root = ET.parse(PKG / "package.xml").getroot()
    assert root.tag == "package" and root.get("format") == "3"
    assert root.findtext("name") == "robocoord_ros"
    assert root.find("export/build_type").text == "ament_python"
    assert (PKG / "resource" / "robocoord_ros").is_file()
    cfg = (PKG / "setup.cfg").read_text()
    assert "script_dir=$base/lib/robocoord_ros" in cfg and "install_scripts=$base/lib/robocoord_ros" in cfg
    data_files = ast.unparse(setup_keyword("data_files"))
    for needle in (
        "resource/",
        "package.xml",
        "launch/*.launch.py",
        "launch/inventories/*.yaml",
        "launch/params/*.yaml",
    ):
        assert needle in data_files
    # the globs of data_files, evaluated from the package folder, find the real files
    for pattern in ("launch/*.launch.py", "launch/inventories/*.yaml", "launch/params/*.yaml"):
        assert glob.glob(str(PKG / pattern)), pattern


@pytest.mark.parametrize("name", ["hil_8", "sim_8", "hardware_example", "hil_safe_nav", "hil_team_push"])
def test_shipped_inventories_build_graphs_whose_files_and_executables_exist(name: str):
    inventory = load_inventory(LAUNCH / "inventories" / f"{name}.yaml")
    ports = {r.id: f"/dev/pts/{100 + r.id}" for r in inventory.robots}
    graph = build_graph(
        inventory, ports=ports, artifact="/tmp/policy.onnx", recording="/tmp/r.mcap", mocap_port=45_000
    )
    for spec in graph.nodes:
        assert spec.executable in EXECUTABLES
        for path in spec.param_files:
            assert path.is_file(), path
    executables = [n.executable for n in graph.nodes]
    robots = len(inventory.robots)
    if inventory.backend == "sim":
        assert executables.count("sim_world") == 1 and "serial_bridge" not in executables
    else:
        assert executables.count("serial_bridge") == robots
    assert executables.count("policy_controller") == robots
    assert executables.count("fleet_supervisor") == 1 and executables.count("fleet_recorder") == 1
    source = inventory.localisation.source if inventory.backend != "sim" else "odom"
    assert executables.count("mocap_bridge") == int(source == "mocap")
    sources = {n.parameters["pose_source"] for n in graph.by_executable("policy_controller")}
    assert sources == {"odom" if source == "odom" else "pose_topic"}


def test_backend_argument_switches_the_whole_fleet():
    inventory = load_inventory(LAUNCH / "inventories" / "hil_8.yaml")
    sim = build_graph(inventory, "sim")
    assert [n.executable for n in sim.nodes] == ["sim_world", "fleet_supervisor"]  # no artifact: no policies
    # hil_8 localises by mocap; on the sim backend sim_world's odom is the ground truth, so no mocap_bridge
    sim_policies = build_graph(inventory, "sim", artifact="/tmp/policy.onnx").by_executable(
        "policy_controller"
    )
    assert {n.parameters["pose_source"] for n in sim_policies} == {"odom"}
    with pytest.raises(ValueError, match="robot 0: port is 'auto'"):
        build_graph(inventory, "hil")
    ports = {r.id: f"/dev/pts/{r.id}" for r in inventory.robots}
    with pytest.raises(ValueError, match="localisation.mocap_port is 0 and no port was assigned"):
        build_graph(inventory, "hil", ports=ports)
    (bridge,) = build_graph(inventory, "hil", ports=ports, mocap_port=45_001).by_executable("mocap_bridge")
    assert bridge.parameters["listen_port"] == 45_001 and bridge.parameters["robot_ids"] == list(range(8))


def test_params_in_ros_form_load_through_rcl(tmp_path: Path):
    inventory = load_inventory(LAUNCH / "inventories" / "hil_8.yaml")
    graph = build_graph(
        inventory, ports={r.id: f"/dev/pts/{r.id}" for r in inventory.robots}, mocap_port=45_002
    )
    path = write_ros_params(graph, tmp_path / "fleet.yaml")
    doc = yaml.safe_load(path.read_text())
    assert doc == ros_params_document(graph)
    assert doc["/robot_3/serial_bridge"]["ros__parameters"]["port"] == "/dev/pts/3"
    defaults = yaml.safe_load((LAUNCH / "params" / "fleet_defaults.yaml").read_text())
    for key, section in defaults.items():
        assert key.startswith("/**/") and set(section) == {"ros__parameters"}
    # rcl's own parser accepts both files
    import rclpy
    from rclpy.context import Context

    context = Context()
    rclpy.init(
        context=context,
        args=[
            "--ros-args",
            "--params-file",
            str(path),
            "--params-file",
            str(LAUNCH / "params" / "fleet_defaults.yaml"),
        ],
    )
    rclpy.try_shutdown(context=context)


def test_bad_inventory_errors_name_the_field(tmp_path: Path):
    data = yaml.safe_load((LAUNCH / "inventories" / "hil_8.yaml").read_text())
    data["robots"][1]["id"] = 0
    data["link"]["watchdog_ms"] = 5
    data["robots"][2]["colour"] = "red"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_inventory(bad)
    text = "\n".join(err.value.lines)
    assert "link.watchdog_ms" in text
    assert "robots[2].colour: unknown key 'colour'" in text.replace("robots.[2]", "robots[2]")
    data = yaml.safe_load((LAUNCH / "inventories" / "hardware_example.yaml").read_text())
    data["robots"][0]["port"] = "auto"
    with pytest.raises(ValueError, match=r"robots\[0\].port: a hardware robot needs a real port"):
        FleetInventory.model_validate({k: v for k, v in data.items() if k != "kind"})
    data = yaml.safe_load((LAUNCH / "inventories" / "hardware_example.yaml").read_text())
    data["localisation"] = {"source": "mocap"}  # real robots cannot have the port picked for them
    with pytest.raises(ValueError, match="localisation.mocap_port: hardware robots need the UDP port"):
        FleetInventory.model_validate({k: v for k, v in data.items() if k != "kind"})
    data["localisation"] = {"source": "external"}  # a localiser of the user's publishes the poses
    external = build_graph(
        FleetInventory.model_validate({k: v for k, v in data.items() if k != "kind"}), artifact="/tmp/p.onnx"
    )
    assert "mocap_bridge" not in [n.executable for n in external.nodes]
    assert {n.parameters["pose_source"] for n in external.by_executable("policy_controller")} == {
        "pose_topic"
    }
    data["localisation"] = {"source": "gps"}
    with pytest.raises(ValueError, match="localisation.source"):
        FleetInventory.model_validate({k: v for k, v in data.items() if k != "kind"})


def test_duplicate_robot_ids_are_refused(tmp_path: Path):
    data = yaml.safe_load((LAUNCH / "inventories" / "sim_8.yaml").read_text())
    data["robots"][1]["id"] = 0
    bad = tmp_path / "dup.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="robot id 0 appears twice"):
        load_inventory(bad)


def test_hil_8_inventory_is_the_sim_warehouse_layout():
    from robocoord.sim.config import WarehouseParams
    from robocoord.sim.tasks.warehouse import WarehouseLayout

    inventory = load_inventory(LAUNCH / "inventories" / "hil_8.yaml")
    layout = WarehouseLayout.build(WarehouseParams(n_robots=len(inventory.robots)))
    for k, robot in enumerate(inventory.robots):
        assert (robot.home.x_m, robot.home.y_m) == pytest.approx(tuple(layout.home_world_m[k]))
        station = inventory.work_station_of(robot)
        assert (station.x_m, station.y_m) == pytest.approx(tuple(layout.work_station_world_m[k]))
        assert robot.latent == pytest.approx(list(layout.latent_positions[k]), abs=1e-6)
    wh = inventory.policy.warehouse
    assert (wh.home_radius_m, wh.work_radius_m) == (
        WarehouseParams().home_radius_m,
        WarehouseParams().work_radius_m,
    )


def test_hil_team_push_inventory_is_the_sim_task():
    from robocoord.sim.config import TeamPushParams
    from robocoord.sim.tasks.team_push import nominal_starts

    inventory = load_inventory(LAUNCH / "inventories" / "hil_team_push.yaml")
    tp = inventory.policy.team_push
    params = TeamPushParams(n_robots=len(inventory.robots))
    for key, value in tp.model_dump().items():
        assert value == getattr(params, key), key
    homes = [(r.home.x_m, r.home.y_m, r.home.yaw_rad) for r in inventory.robots]  # robot order = agent index
    assert np.allclose(homes, nominal_starts(params), atol=1e-9)
    assert inventory.arena() == "team_push" and inventory.arena_params() == tp.model_dump()
    assert inventory.localisation.objects == {"box": 200}


def test_team_push_inventory_errors_name_the_field():
    data = yaml.safe_load((LAUNCH / "inventories" / "hil_team_push.yaml").read_text())
    data.pop("kind")

    def check(change: dict, match: str) -> None:
        bad = yaml.safe_load(yaml.safe_dump(data))
        for section, values in change.items():
            bad[section] = {**bad.get(section, {}), **values} if isinstance(values, dict) else values
        with pytest.raises(ValueError, match=match):
            FleetInventory.model_validate(bad)

    check({"localisation": {"source": "odom"}}, "localisation.source: team_push needs the box pose")
    check(
        {"localisation": {"objects": {}}}, r"localisation.objects: team_push on mocap needs the box's body id"
    )
    check({"localisation": {"objects": {"box": 1}}}, r"mocap body ids \[1\] are also robot ids")
    check({"localisation": {"objects": {"box": 200, "crate": 200}}}, "two objects share a mocap body id")
    check({"localisation": {"objects": {"my box": 200}}}, "object name 'my box'")
    check({"plant_body": "disc"}, "plant_body: team_push is trained on the wheeled body")
    check({"policy": {"task": "team_push", "team_push": {"goal_distance_m": -1.0}}}, "goal_distance_m")


def test_layer_rule_no_torch_or_pybullet_in_robocoord_ros():
    """Importing every robocoord_ros module but sim_world and hil_mcu (the sim-extra ones) loads neither."""
    import subprocess
    import sys

    modules = [
        "robocoord_ros.cli", "robocoord_ros.fleet", "robocoord_ros.session", "robocoord_ros.demo",
        "robocoord_ros.bench", "robocoord_ros.scoring", "robocoord_ros.recording", "robocoord_ros.hil",
        "robocoord_ros.nodes.serial_bridge", "robocoord_ros.nodes.policy_controller",
        "robocoord_ros.nodes.fleet_supervisor", "robocoord_ros.nodes.fleet_recorder", "robocoord_ros.nodes.sim_world",
    ]  # fmt: skip
    code = "import importlib, sys\n"
    code += "".join(f"importlib.import_module({m!r})\n" for m in modules)
    code += "print(sorted(m for m in ('torch', 'pybullet') if m in sys.modules))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
