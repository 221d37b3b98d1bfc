"""Jobmon's benchmarks: `python -m bench [--quick] [--only NAME ...]`."""
