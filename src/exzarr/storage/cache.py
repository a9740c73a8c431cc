"""``CachingStore``: an in-memory LRU cache of whole values in front of any store.

Meant for remote stores read many times (metadata, shard indexes, hot chunks): a hit
costs no round trip.  Writes and deletes made *through this wrapper* update or drop the
cached entry first, so it never serves a value it has itself overwritten; changes made
by other processes directly in the underlying store are seen once the entry is evicted
or :meth:`CachingStore.invalidate` is called.  Byte-range reads are served from a
cached whole value when there is one, and go to the inner store otherwise (they are not
cached: a range is usually a shard piece read once).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from .base import ByteRange, Store, slice_range
from .wrapper import WrapperStore

__all__ = ["CachingStore"]


class CachingStore(WrapperStore):
    """Wrap ``inner`` with an LRU cache of at most ``max_bytes`` of values.

    ``cache_stats`` counts ``hits`` and ``misses``.  Capability flags, ``url`` and
    ``close`` are those of ``inner``.
    """

    def __init__(self, inner: Store, max_bytes: int = 256 << 20, *, cache_misses: bool = True):
        super().__init__(inner)
        self.max_bytes = int(max_bytes)
        self.cache_misses = cache_misses  # also remember that a key is absent
        self._lru: OrderedDict[str, bytes | None] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.cache_stats = {"hits": 0, "misses": 0}

    def __getstate__(self) -> dict[str, Any]:  # the cache and its lock stay behind; the wrapper travels
        state = dict(self.__dict__)
        state.update(_lru=OrderedDict(), _size=0, _lock=None,
                     cache_stats={"hits": 0, "misses": 0})
        return state

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # -- cache bookkeeping -------------------------------------------------------------
    def _lookup(self, key: str) -> tuple[bool, bytes | None]:
        with self._lock:
            if key in self._lru:
                self._lru.move_to_end(key)
                self.cache_stats["hits"] += 1
                return True, self._lru[key]
            self.cache_stats["misses"] += 1
            return False, None

    def _remember(self, key: str, value: bytes | None) -> None:
        if value is None and not self.cache_misses:
            return
        n = len(value) if value is not None else 0
        if n > self.max_bytes:
            return
        with self._lock:
            old = self._lru.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._lru[key] = value
            self._size += n
            while self._size > self.max_bytes and self._lru:
                _, v = self._lru.popitem(last=False)
                self._size -= len(v) if v is not None else 0

    def invalidate(self, key: str | None = None) -> None:
        """Forget ``key`` (or everything) so the next read goes to the inner store."""
        with self._lock:
            if key is None:
                self._lru.clear()
                self._size = 0
            else:
                v = self._lru.pop(key, None)
                self._size -= len(v) if v is not None else 0

    # -- reads ---------------------------------------------------------------------------
    def get(self, key: str, byte_range: ByteRange | None = None) -> bytes | None:
        found, value = self._lookup(key)
        if found:
            return value if value is None or byte_range is None else slice_range(value, byte_range)
        if byte_range is not None:
            return self.inner.get(key, byte_range)
        value = self.inner.get(key)
        self._remember(key, value)
        return value

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        out: dict[str, bytes | None] = {}
        todo: list[str] = []
        for k in keys:
            found, value = self._lookup(k)
            if found:
                out[k] = value
            else:
                todo.append(k)
        if todo:
            fetched = self.inner.get_many(todo)
            for k in todo:
                v = fetched.get(k)
                self._remember(k, v)
                out[k] = v
        return out

    def get_ranges(self, requests: Iterable[tuple[str, ByteRange | None]]) -> list[bytes | None]:
        requests = list(requests)
        results: list[bytes | None] = [None] * len(requests)
        todo: list[int] = []
        for i, (k, r) in enumerate(requests):
            found, value = self._lookup(k)
            if found:
                results[i] = value if value is None or r is None else slice_range(value, r)
            else:
                todo.append(i)
        if todo:
            fetched = self.inner.get_ranges([requests[i] for i in todo])
            for i, v in zip(todo, fetched):
                results[i] = v
        return results

    def exists(self, key: str) -> bool:
        found, value = self._lookup(key)
        return value is not None if found else self.inner.exists(key)

    def getsize(self, key: str) -> int | None:
        found, value = self._lookup(key)
        if found:
            return None if value is None else len(value)
        return self.inner.getsize(key)

    # -- writes (write-through, cache updated first) ---------------------------------------
    def _set(self, key: str, value: bytes) -> None:
        self.invalidate(key)
        self.inner.set(key, value)
        self._remember(key, bytes(value))

    def set_many(self, items: Mapping[str, bytes]) -> None:
        self.check_writable()
        items = dict(items)
        for k in items:
            self.invalidate(k)
        self.inner.set_many(items)

    def _delete(self, key: str) -> None:
        self.invalidate(key)
        self.inner.delete(key)

    def delete_prefix(self, prefix: str) -> None:
        self.check_writable(prefix)
        with self._lock:
            for k in [k for k in self._lru if k.startswith(prefix)]:
                v = self._lru.pop(k)
                self._size -= len(v) if v is not None else 0
        self.inner.delete_prefix(prefix)

    # -- listing goes to the inner store (WrapperStore) -----------------------------------------
    def close(self) -> None:
        self.invalidate()
        super().close()
