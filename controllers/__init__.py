"""Robot-side policy runtime: artifact contract and loader, GMFS neighbour sampling, safety shield.

numpy, pydantic and onnxruntime only: never torch, pybullet or rclpy.
"""
