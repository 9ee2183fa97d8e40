"""Package mapping for the robocoord distribution.

The design keeps each layer as a top-level folder (``sim/``, ``training/`` ...);
this maps every folder onto ``robocoord.<layer>`` so the repository layout and the
import paths both stay as documented. Sub-packages are discovered, so adding a
folder with an ``__init__.py`` needs no edit here.
"""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
LAYERS = {
    "robocoord": "robocoord",
    "robocoord.sim": "sim",
    "robocoord.training": "training",
    "robocoord.controllers": "controllers",
    "robocoord.firmware_bridge": "firmware_bridge",
    # The ament_python package doubles as a plain Python package of this
    # distribution, so tests and `robocoord fleet` import the same nodes colcon builds.
    "robocoord_ros": "ros2_ws/src/robocoord_ros/robocoord_ros",
}

package_dir: dict[str, str] = {}
packages: list[str] = []
for name, folder in LAYERS.items():
    if not (HERE / folder / "__init__.py").exists():
        continue
    package_dir[name] = folder
    packages.append(name)
    packages += [f"{name}.{sub}" for sub in find_packages(str(HERE / folder))]

DATA_GLOBS = [
    "*.yaml",
    "*.yml",
    "*.urdf",
    "*.md",
    "*.json",
    "*.c",
    "*.h",
    "*.ino",
    "Makefile",
    "*.npz",
    "*.toml",
]

setup(
    package_dir=package_dir,
    packages=packages,
    package_data={name: DATA_GLOBS + [f"**/{g}" for g in DATA_GLOBS] for name in packages},
)
