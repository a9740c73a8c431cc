"""Integrity check of stored data: decode every stored chunk (checksums included) of an
array or of every array in a hierarchy; report missing and corrupt chunks by key, and the
temporary files that killed writers left in the store (:func:`leftover_temp_files`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import executor
from ..hierarchy.group import Group
from ..metadata.chunk_grid import grid_shape
from ..storage import LocalStore, ZipStore
from ..storage.tempfiles import TempFile
from ..storage.wrapper import WrapperStore

__all__ = ["ArrayReport", "verify_array", "verify", "leftover_temp_files", "TempFile"]


@dataclass(frozen=True)
class ArrayReport:
    path: str
    total: int
    stored: int = 0
    missing: int = 0
    missing_keys: tuple[str, ...] = ()
    corrupt: tuple[tuple[str, str], ...] = ()  # (key, what failed), sorted by key

    @property
    def ok(self) -> bool:
        return not self.corrupt


def verify_array(arr, *, max_missing_keys: int | None = 100) -> ArrayReport:
    """Decode every stored chunk (shard) of ``arr``; chunks absent from the store are
    "missing" (they read as the fill value, which is not an error)."""
    state = arr._state
    meta = arr.metadata
    grid = grid_shape(meta.shape, meta.chunks)
    stored = list(arr.stored_chunks())

    def check(coords):
        key = state.chunk_key(coords)
        try:
            arr.read_chunk(coords)
        except Exception as e:  # any failure to decode is corruption of that chunk
            return key, f"{type(e).__name__}: {e}"
        return None

    corrupt = sorted(bad for bad in executor.imap(check, stored, ordered=False) if bad is not None)
    total = int(np.prod(grid, dtype=np.int64))
    missing = 0
    missing_keys: list[str] = []
    if len(stored) < total:
        have = set(stored)
        for coords in np.ndindex(*grid):
            if coords not in have:
                missing += 1
                if max_missing_keys is None or len(missing_keys) < max_missing_keys:
                    missing_keys.append(state.chunk_key(coords))
    return ArrayReport(path="/" + arr.path, total=total, stored=len(stored), missing=missing,
                       missing_keys=tuple(missing_keys), corrupt=tuple(corrupt))


def verify(node, *, max_missing_keys: int | None = 100) -> list[ArrayReport]:
    """Reports for ``node`` (a ZArray) or every array below ``node`` (a Group)."""
    if isinstance(node, Group):
        return [verify_array(a, max_missing_keys=max_missing_keys)
                for _, a in node.members(max_depth=None) if not isinstance(a, Group)]
    return [verify_array(node, max_missing_keys=max_missing_keys)]


def leftover_temp_files(node) -> list[TempFile]:
    """Temporary files in the store of ``node`` (an array or group): under the node's
    folder of a local store, or working copies next to a zip archive.  Each is a write in
    progress or the leftover of a writer that was killed (``stale``: untouched for an
    hour; the next write to its folder removes it).  Other stores leave none."""
    store = node.store
    while isinstance(store, WrapperStore):
        store = store.inner
    if isinstance(store, LocalStore):
        return store.temp_files(node.path + "/" if node.path else "")
    if isinstance(store, ZipStore):
        return store.temp_files()
    return []
