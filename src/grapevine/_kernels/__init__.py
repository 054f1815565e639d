"""Private numba kernels: arrays and scalars in, arrays out (compiled on first use, cached)."""
