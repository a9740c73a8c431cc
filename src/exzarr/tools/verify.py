"""Integrity check of stored data: decode every stored chunk (checksums included) of an
array or of every array in a hierarchy; report missing and corrupt chunks by key."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import executor
from ..hierarchy.group import Group

__all__ = ["ArrayReport", "verify_array", "verify"]


@dataclass
class ArrayReport:
    path: str
    total: int
    stored: int = 0
    missing: int = 0
    missing_keys: list[str] = field(default_factory=list)
    corrupt: list[tuple[str, str]] = field(default_factory=list)  # (key, what failed)

    @property
    def ok(self) -> bool:
        return not self.corrupt


def verify_array(arr, *, max_missing_keys: int | None = 100) -> ArrayReport:
    """Decode every stored chunk (shard) of ``arr``; chunks absent from the store are
    "missing" (they read as the fill value, which is not an error)."""
    state = arr._state
    meta = arr.metadata
    grid = tuple(-(-s // c) for s, c in zip(meta.shape, meta.chunks))
    report = ArrayReport(path="/" + arr.path, total=int(np.prod(grid, dtype=np.int64)))
    stored = list(arr.stored_chunks())
    report.stored = len(stored)

    def check(coords):
        key = state.chunk_key(coords)
        try:
            arr.read_chunk(coords)
        except Exception as e:  # any failure to decode is corruption of that chunk
            return key, f"{type(e).__name__}: {e}"
        return None

    for bad in executor.imap(check, stored, ordered=False):
        if bad is not None:
            report.corrupt.append(bad)
    report.corrupt.sort()
    if report.stored < report.total:
        have = set(stored)
        for coords in np.ndindex(*grid):
            if coords not in have:
                report.missing += 1
                if max_missing_keys is None or len(report.missing_keys) < max_missing_keys:
                    report.missing_keys.append(state.chunk_key(coords))
    return report


def verify(node, *, max_missing_keys: int | None = 100) -> list[ArrayReport]:
    """Reports for ``node`` (a ZArray) or every array below ``node`` (a Group)."""
    if isinstance(node, Group):
        return [verify_array(a, max_missing_keys=max_missing_keys)
                for _, a in node.members(max_depth=None) if not isinstance(a, Group)]
    return [verify_array(node, max_missing_keys=max_missing_keys)]
