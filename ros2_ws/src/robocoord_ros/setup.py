"""ament_python build of robocoord_ros (colcon build --packages-select robocoord_ros).

``launch`` is a symlink to the repository's top-level ``launch/`` folder, so the launch
file, the inventories and the ROS-form parameter files installed here are the very
files the tests read. The nodes' logic comes from the ``robocoord`` distribution
(``pip install 'robocoord[robot,ros]'``), which colcon does not build.
"""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "robocoord_ros"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/launch/inventories", glob("launch/inventories/*.yaml")),
        (f"share/{PACKAGE}/launch/params", glob("launch/params/*.yaml")),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="robocoord maintainers",
    maintainer_email="maintainers@robocoord.invalid",
    description="ROS 2 nodes of robocoord: serial bridge, policy controller, fleet supervisor, sim world",
    license="Apache-2.0",
    entry_points={
        # keep in sync with robocoord_ros.graph.EXECUTABLES (a test checks it)
        "console_scripts": [
            "serial_bridge = robocoord_ros.nodes.serial_bridge:main",
            "policy_controller = robocoord_ros.nodes.policy_controller:main",
            "fleet_supervisor = robocoord_ros.nodes.fleet_supervisor:main",
            "sim_world = robocoord_ros.nodes.sim_world:main",
            "fleet_recorder = robocoord_ros.nodes.fleet_recorder:main",
            "mocap_bridge = robocoord_ros.nodes.mocap_bridge:main",
        ],
    },
)
