"""Per-chunk locks for read-modify-write (striped: a fixed table of locks).

Two threads updating disjoint parts of the same chunk serialise on that chunk's lock so
neither update is lost.  A task holds one chunk lock at a time, or several taken at once
with :func:`chunk_locks` (in the table's order, each once), so striping cannot deadlock.
"""

from __future__ import annotations

import contextlib
import threading
import zlib
from collections.abc import Iterator

__all__ = ["chunk_lock", "chunk_locks"]

_N = 1024
_locks = [threading.Lock() for _ in range(_N)]


def _index(store_url: str, key: str) -> int:
    return zlib.crc32(f"{store_url}\0{key}".encode()) % _N


def chunk_lock(store_url: str, key: str) -> threading.Lock:
    return _locks[_index(store_url, key)]


@contextlib.contextmanager
def chunk_locks(store_url: str, keys: list[str]) -> Iterator[None]:
    """Hold the locks of all ``keys`` (a group of chunks written in one call)."""
    taken: list[threading.Lock] = []
    try:
        for i in sorted({_index(store_url, key) for key in keys}):
            lock = _locks[i]
            lock.acquire()
            taken.append(lock)
        yield
    finally:
        for lock in reversed(taken):
            lock.release()
