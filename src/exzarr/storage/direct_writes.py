"""Files written by compiled code: the paths, and what is left to do after the call.

:meth:`~exzarr.storage.LocalStore.direct_writes` names, for a group of keys, each one's
target file, its folder and a new temporary file (in the writing thread's folder during
a write batch, as :meth:`~exzarr.storage.LocalStore.set_parts` would), and hands them to
a compiled kernel as one byte array of NUL-terminated paths
(:mod:`exzarr.kernels.file_write` writes, closes and renames or links each file there,
without the GIL).  :meth:`DirectWrites.finish` then does what the Python path does after
each write: the files the writes replaced are released on the reaper's thread and each
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

#: per thread: the store of the last group, and whether its files replaced existing ones
#: (the kernel's hint, carried from one group of a store to the next: see
#: :mod:`exzarr.kernels.file_write`)
_last = threading.local()


@jit.when_enabled
def functions() -> np.ndarray | None:
    """The C library's functions that write files from compiled code
    (:mod:`exzarr.kernels.file_write`), or None: kernels off, or not available here."""
    from ..kernels.file_write import functions as found
    return found()


class DirectWrites:
    """One group's files: ``args`` is the kernel's ``files`` argument; call
    :meth:`finish` once after the call, whatever it did.  ``unnamed``: new files may be
    made unnamed and linked into place (:mod:`exzarr.storage.unnamed`); ``scope``: the
    store (its root), whose last group's hint this thread carries into the next."""

    __slots__ = ("args", "_held", "_parents", "_status", "_scope")

    def __init__(self, fs: np.ndarray, temps: list[str], targets: list[str],
                 unnamed: bool = False, scope: str = "") -> None:
        encoded: list[bytes] = []
        at: list[int] = []
        pos = 0
        folders: dict[str, int] = {}  # each folder's path once
        for temp, target in zip(temps, targets):
            for path in (temp, target):
                b = os.fsencode(path) + b"\0"
                at.append(pos)
                pos += len(b)
                encoded.append(b)
            parent = target.rsplit("/", 1)[0]
            if parent not in folders:
                b = os.fsencode(parent) + b"\0"
                folders[parent] = pos
                pos += len(b)
                encoded.append(b)
            at.append(folders[parent])
        names = np.frombuffer(bytearray(b"".join(encoded)), dtype=np.uint8)
        self._held = np.full(len(targets), -1, dtype=np.int64)
        from ..kernels.file_write import REPLACING, STATUS, UNNAMED
        status = np.zeros(STATUS, dtype=np.int64)
        last = getattr(_last, "replacing", None)  # this thread's last group's
        status[REPLACING] = last is not None and last[0] == scope and last[1]
        self._scope = scope
        status[UNNAMED] = unnamed
        self._status = status
        self.args = (fs, names, np.array(at, dtype=np.int64), self._held, status)
        self._parents = folders.keys()

    def finish(self) -> None:
        """Release the replaced files (off this thread) and sweep the folders."""
        from ..kernels.file_write import REPLACING
        _last.replacing = (self._scope, int(self._status[REPLACING]))
        for fd in self._held.tolist():
            if fd >= 0:
                reaper.close_later(fd)
        self._held[:] = -1
        for parent in self._parents:
            sweep_if_due(parent)
