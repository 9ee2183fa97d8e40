"""Learners for the three policy families (GMFS, DrIGM, RCMDP) and ONNX export. No rclpy."""
