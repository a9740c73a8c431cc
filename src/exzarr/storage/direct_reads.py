"""Files read by compiled code: the paths of a list of keys.

:meth:`~exzarr.storage.LocalStore.direct_reads` names each key's file, and
:class:`DirectReads` hands the names to a compiled kernel as one byte array of
NUL-terminated paths (:mod:`exzarr.kernels.file_read` opens, reads and closes each file
there, without the GIL).  The kernel reports a file it could not read instead of raising;
the caller then reads that key through the store, which says what is wrong.
"""

from __future__ import annotations

import itertools
import os

import numpy as np

from ..kernels import jit

__all__ = ["DirectReads", "functions"]


@jit.when_enabled
def functions() -> np.ndarray | None:
    """The C library's file functions for the kernels, or None: compiled kernels are
    off (``config.jit``, no Numba) or the functions are not available here.  The first
    call with kernels on imports Numba."""
    from ..kernels.file_read import functions as found
    return found()


class DirectReads:
    """The files of a list of keys: ``fs`` (the C functions), ``names`` (the paths, each
    NUL-terminated, side by side in a uint8 array) and ``paths`` (where each key's path
    starts in ``names``), in the order of the keys."""

    __slots__ = ("fs", "names", "paths")

    def __init__(self, fs: np.ndarray, files: list[str]) -> None:
        encoded = [os.fsencode(f) + b"\0" for f in files]
        self.fs = fs
        self.names = np.frombuffer(bytearray(b"".join(encoded) or b"\0"), dtype=np.uint8)
        # (made once per shard of a read, before its threads start: no NumPy on lists)
        self.paths = np.array([0, *itertools.accumulate(len(e) for e in encoded[:-1])]
                              if encoded else [], dtype=np.int64)
