"""robocoord: train multi-robot policies in PyBullet, ship them as ONNX, run them over ROS 2 and serial.

This root package holds only what every layer shares (CLI, configs, run folders,
benchmark output). It must stay importable without torch, pybullet or rclpy,
because robot-side code imports it.
"""

__version__ = "0.1.0"
