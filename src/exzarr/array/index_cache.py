"""``ShardIndexCache``: the shard indexes an array handle has read, each with the version
tag (ETag) of the shard it came from.

Only stores that can make a read conditional on a version
(:attr:`~exzarr.storage.base.Store.supports_tagged_reads`) use it: a later read of the same
shard asks for its inner chunks *if the shard is still that version*, in one request
instead of two, and a shard rewritten meanwhile (by this process or any other) fails that
condition, so its index is read again.  A cached index is never trusted unchecked.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

__all__ = ["ShardIndexCache"]

#: bytes of decoded indexes kept per array handle (at 16 bytes per inner chunk, 4096 shards
#: of 256 inner chunks)
MAX_BYTES = 16 << 20


class ShardIndexCache:
    """An LRU map ``shard key -> (index, tag)`` holding at most ``max_bytes`` of indexes."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[np.ndarray, str]] = OrderedDict()
        self._nbytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> tuple[np.ndarray, str] | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
            return hit

    def put(self, key: str, index: np.ndarray, tag: str) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._nbytes -= old[0].nbytes
            if index.nbytes > self.max_bytes:
                return
            self._entries[key] = (index, tag)
            self._nbytes += index.nbytes
            while self._nbytes > self.max_bytes:
                _, (dropped, _) = self._entries.popitem(last=False)
                self._nbytes -= dropped.nbytes

    def discard(self, key: str, tag: str | None = None) -> None:
        """Forget ``key`` (only if its entry still has ``tag``, when one is given)."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and (tag is None or hit[1] == tag):
                del self._entries[key]
                self._nbytes -= hit[0].nbytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._nbytes = 0
