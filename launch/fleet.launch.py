"""Bring up a robocoord fleet: ``ros2 launch robocoord_ros fleet.launch.py backend:=hil inventory:=FILE``.

Arguments:
  backend    sim | hil | hardware   (default: the inventory's)
  inventory  fleet inventory YAML   (default: inventories/hil_8.yaml of this package)
  artifact   policy .onnx           (default: the inventory's policy.artifact; none: no policy nodes)
  record     MCAP output file       (default: on in hil, under the inventory's recording.directory)

The node set comes from ``robocoord_ros.graph.build_graph`` — the same function the tests and
``robocoord fleet up`` call — so this file holds no node list of its own. In ``hil`` it first
starts the virtual MCUs (reference firmware on ptys) through ``robocoord_ros.fleet.start_virtual_mcus``.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, RegisterEventHandler
from launch.event_handlers import OnShutdown
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node


def _nodes(context, *args, **kwargs):
    from robocoord_ros.fleet import prepare_fleet
    from robocoord_ros.graph import launch_dir

    inventory = LaunchConfiguration("inventory").perform(context) or str(
        launch_dir() / "inventories" / "hil_8.yaml"
    )
    backend = LaunchConfiguration("backend").perform(context) or None
    artifact = LaunchConfiguration("artifact").perform(context) or None
    record = LaunchConfiguration("record").perform(context) or None
    prepared = prepare_fleet(inventory, backend=backend, artifact=artifact, record=record)
    # the virtual MCUs (hil) are a child process of this launch: stop them with it
    actions = [RegisterEventHandler(OnShutdown(on_shutdown=lambda event, ctx: prepared.stop_mcus()))]
    for spec in prepared.graph.nodes:
        node_kwargs = dict(
            package=spec.package,
            executable=spec.executable,
            name=spec.name,
            namespace=spec.namespace,
            parameters=[str(path) for path in spec.param_files] + [dict(spec.parameters)],
            output="screen",
        )
        if spec.lifecycle:
            actions.append(LifecycleNode(autostart=True, **node_kwargs))
        else:
            actions.append(Node(**node_kwargs))
    return actions


def generate_launch_description():
    return LaunchDescription(
        [
            DeclareLaunchArgument("backend", default_value="", description="sim | hil | hardware"),
            DeclareLaunchArgument("inventory", default_value="", description="fleet inventory YAML"),
            DeclareLaunchArgument("artifact", default_value="", description="policy .onnx artifact"),
            DeclareLaunchArgument("record", default_value="", description="MCAP output file"),
            OpaqueFunction(function=_nodes),
        ]
    )
