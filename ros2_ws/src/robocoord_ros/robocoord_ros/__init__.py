"""robocoord_ros: the ROS 2 face of robocoord.

Thin rclpy nodes (``nodes/``) around logic that never touches rclpy (``control_loop``,
``health``, ``inventory``, ``graph``) and the robocoord layers (controllers, firmware bridge).
Never imports torch; only the ``sim_world`` node imports pybullet (lazily, sim extra).
"""
