"""PyBullet worlds, robots, tasks and sim-to-real disruptions. No torch, no rclpy."""
