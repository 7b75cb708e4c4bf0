"""A realistic synthetic region for demos, screenshots and benchmarks."""
