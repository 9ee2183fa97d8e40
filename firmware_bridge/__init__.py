"""Wire protocol, host serial link, reference C firmware and virtual MCU. No torch, no rclpy."""
