"""Numba kernels: pure functions of arrays and scalars, grouped by what they update."""
