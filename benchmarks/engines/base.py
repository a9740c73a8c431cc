"""The adapter contract every engine implements (one small class per engine module).

A *handle* is whatever the engine uses to address an open array.  ``loc`` is a local
directory path for ``layout.store == "local"`` and a bare name for ``"memory"``.  Methods
must do the work synchronously: when they return, data is in the store (writes) or in the
returned NumPy array (reads).  The runner times these calls and checks every result.
"""

from __future__ import annotations

import numpy as np


class Unavailable(Exception):
    """The engine cannot run this workload (not installed, unsupported store/layout)."""


class Engine:
    name = "?"
    label = "?"            # column label in the table

    def __init__(self, threads: int):
        self.threads = threads

    def versions(self) -> dict[str, str]:
        raise NotImplementedError

    def create(self, layout, loc: str):
        """Create (replacing anything at ``loc``) an empty array with ``layout``; return a handle."""
        raise NotImplementedError

    def open(self, layout, loc: str):
        """Open the existing array at ``loc`` for reading and writing."""
        raise NotImplementedError

    def write_full(self, h, data: np.ndarray) -> None:
        raise NotImplementedError

    def read_full(self, h) -> np.ndarray:
        raise NotImplementedError

    def read_region(self, h, region) -> np.ndarray:
        """``region`` is ((r0, r1), (c0, c1))."""
        raise NotImplementedError

    def read_points(self, h, points: np.ndarray) -> np.ndarray:
        """One separate single-element read per row of ``points`` (n, 2)."""
        raise NotImplementedError

    def read_strided(self, h, steps) -> np.ndarray:
        raise NotImplementedError

    def write_blocks(self, h, blocks) -> None:
        """One separate write per (r, c, values) in ``blocks``, in order."""
        raise NotImplementedError
