"""In-process memory store: ``memory://name``.

Named stores live in a module-level registry, so every ``MemoryStore("x")`` (and every
``open_store("memory://x")``) in one process reaches the same data until
:meth:`MemoryStore.discard` drops it.  A store created without a name gets a unique one
and its data is freed when the last store object using it goes away.
"""

from __future__ import annotations

import itertools
import os
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Self

from ..errors import StoreNotSharedError
from .base import ByteRange, Store
from .keys import validate_key, validate_prefix

__all__ = ["MemoryStore"]


class _Bucket(dict[str, bytes]):
    """The data behind one name (a dict subclass so the anonymous registry can weak-ref it)."""

    __slots__ = ("lock", "__weakref__")

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.RLock()


#: this process's id, kept by a fork hook instead of asked of the kernel on every call
_pid = os.getpid()


def _after_fork_in_child() -> None:
    global _pid
    _pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

_registry_lock = threading.Lock()
_named: dict[str, _Bucket] = {}
_anonymous: "weakref.WeakValueDictionary[str, _Bucket]" = weakref.WeakValueDictionary()
_counter = itertools.count(1)


def _bucket_for(name: str | None) -> tuple[str, _Bucket]:
    with _registry_lock:
        if name is None:
            name = f"anonymous-{next(_counter)}"
            while name in _named or name in _anonymous:
                name = f"anonymous-{next(_counter)}"
            bucket = _anonymous[name] = _Bucket()
            return name, bucket
        found = _named.get(name)
        if found is None:
            found = _anonymous.get(name)
        if found is None:
            found = _named[name] = _Bucket()
        return name, found


class MemoryStore(Store):
    """A thread-safe dict of ``key -> bytes`` shared by name within the process.

    ``MemoryStore("x")`` and ``open_store("memory://x")`` reach the same data.
    """

    keeps_values = True  # ``set`` stores the bytes object it is given

    def __init__(self, name: str | None = None, *, read_only: bool = False) -> None:
        super().__init__(read_only=read_only)
        if name is not None and (not isinstance(name, str) or not name.strip("/")):
            raise ValueError(f"a memory store name is a non-empty str, got {name!r}")
        if name is not None:
            name = name.strip("/")
        self.name, self._data = _bucket_for(name)
        self._pid = os.getpid()

    def _check_process(self) -> None:
        if _pid != self._pid:
            raise StoreNotSharedError(
                f"{self.url} is an in-memory store of process {self._pid}; this is process "
                f"{os.getpid()}, where its data is not (a forked or pickled copy would read "
                f"an empty or stale array and lose its writes). Use a store every process "
                f"reaches (a local path, zip, sqlite://, s3://...) for process pools, "
                f"dask.distributed or multiprocessing", store=self.url)

    @classmethod
    def discard(cls, name: str) -> None:
        """Forget the named store's data (stores already open keep theirs)."""
        with _registry_lock:
            _named.pop(name, None)

    @property
    def url(self) -> str:
        return f"memory://{self.name}"

    def __copy__(self) -> Self:  # views (with_read_only) share the open resources
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def __getstate__(self) -> dict[str, Any]:
        # the data is reached by name, in the process that made it: unpickled in another
        # process the store refuses every use (StoreNotSharedError) instead of reading empty
        return {"name": self.name, "read_only": self.read_only, "pid": self._pid}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self.read_only = state["read_only"]
        self.name = state["name"]
        self._pid = state.get("pid", os.getpid())
        if self._pid == os.getpid():
            self.name, self._data = _bucket_for(self.name)
        else:  # another process: every use raises StoreNotSharedError (see _check_process)
            self._data = _Bucket()

    def get(self, key: str, byte_range: ByteRange | None = None) -> bytes | None:
        self._check_process()
        v = self._data.get(key)
        if v is None or byte_range is None:
            return v
        start, stop = byte_range
        return v[start:stop]

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        self._check_process()
        d = self._data
        return {k: d.get(k) for k in keys}

    def exists(self, key: str) -> bool:
        self._check_process()
        return key in self._data

    def getsize(self, key: str) -> int | None:
        self._check_process()
        v = self._data.get(key)
        return None if v is None else len(v)

    def _set(self, key: str, value: bytes) -> None:
        self._check_process()
        validate_key(key, self)
        with self._data.lock:
            self._data[key] = value

    def set_many(self, items: Mapping[str, bytes]) -> None:
        self.check_writable()
        self._check_process()
        items = {validate_key(k, self): bytes(v) for k, v in items.items()}
        with self._data.lock:
            self._data.update(items)

    def _delete(self, key: str) -> None:
        self._check_process()
        with self._data.lock:
            self._data.pop(key, None)

    def delete_prefix(self, prefix: str) -> None:
        self.check_writable(prefix)
        validate_prefix(prefix, self)
        self._check_process()
        with self._data.lock:
            for k in [k for k in self._data if k.startswith(prefix)]:
                del self._data[k]

    def list(self) -> Iterator[str]:
        self._check_process()
        with self._data.lock:
            keys = list(self._data)
        return iter(keys)

    def list_prefix(self, prefix: str) -> Iterator[str]:
        self._check_process()
        with self._data.lock:
            keys = [k for k in self._data if k.startswith(prefix)]
        return iter(keys)
