"""Files written by compiled code: the paths, and what is left to do after the call.

:meth:`~exzarr.storage.LocalStore.direct_writes` names, for a group of keys, each one's
target file and a new temporary file (in the writing thread's folder during a write
batch, as :meth:`~exzarr.storage.LocalStore.set_parts` would), and hands them to a
compiled kernel as one byte array of NUL-terminated paths
(:mod:`exzarr.kernels.file_write` writes, closes and renames each file there, without the
GIL).  :meth:`DirectWrites.finish` then does what the Python path does after each
write: the files the writes replaced are released on the reaper's thread and each
folder written to is swept of dead writers' leftovers (at most hourly).
"""

from __future__ import annotations

import os
import threading

import numpy as np

from ..kernels import jit
from . import reaper
from .tempfiles import sweep_if_due

__all__ = ["DirectWrites", "functions"]

#: per thread: whether the last group's files replaced existing ones (the kernel's hint,
#: carried from one group to the next: see :mod:`exzarr.kernels.file_write`)
_last = threading.local()


@jit.when_enabled
def functions() -> np.ndarray | None:
    """The C library's functions that write files from compiled code
    (:mod:`exzarr.kernels.file_write`), or None: kernels off, or not available here."""
    from ..kernels.file_write import functions as found
    return found()


class DirectWrites:
    """One group's files: ``args`` is the kernel's ``files`` argument; call
    :meth:`finish` once after the call, whatever it did."""

    __slots__ = ("args", "_held", "_parents", "_status")

    def __init__(self, fs: np.ndarray, temps: list[str], targets: list[str]) -> None:
        encoded = []
        at = []
        pos = 0
        for temp, target in zip(temps, targets):
            for path in (temp, target):
                b = os.fsencode(path) + b"\0"
                at.append(pos)
                pos += len(b)
                encoded.append(b)
        names = np.frombuffer(bytearray(b"".join(encoded)), dtype=np.uint8)
        self._held = np.full(len(targets), -1, dtype=np.int64)
        from ..kernels.file_write import REPLACING, STATUS
        status = np.zeros(STATUS, dtype=np.int64)
        status[REPLACING] = getattr(_last, "replacing", 0)  # this thread's last group's
        self._status = status
        self.args = (fs, names, np.array(at, dtype=np.int64), self._held, status)
        self._parents = {t.rsplit("/", 1)[0] for t in targets}

    def finish(self) -> None:
        """Release the replaced files (off this thread) and sweep the folders."""
        from ..kernels.file_write import REPLACING
        _last.replacing = int(self._status[REPLACING])
        for fd in self._held.tolist():
            if fd >= 0:
                reaper.close_later(fd)
        self._held[:] = -1
        for parent in self._parents:
            sweep_if_due(parent)
