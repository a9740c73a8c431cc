"""Helpers shared by the tests of the compiled read routes."""

import numpy as np

from exzarr import config


def read_both(z, key=Ellipsis) -> np.ndarray:
    """``z[key].read()`` with Numba on (the compiled routes) and off (the Python route):
    both must give the same array, which is returned."""
    fast = z[key].read()
    with config.set(jit=False):
        slow = z[key].read()
    np.testing.assert_array_equal(fast, slow)
    return fast
