"""Per-chunk locks for read-modify-write (striped: a fixed table of locks).

Two threads updating disjoint parts of the same chunk serialise on that chunk's lock so
neither update is lost.  A task holds one chunk lock at a time, so striping cannot
deadlock.
"""

from __future__ import annotations

import threading
import zlib

__all__ = ["chunk_lock"]

_N = 1024
_locks = [threading.Lock() for _ in range(_N)]


def chunk_lock(store_url: str, key: str) -> threading.Lock:
    return _locks[zlib.crc32(f"{store_url}\0{key}".encode()) % _N]
