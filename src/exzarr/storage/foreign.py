"""Stores from elsewhere: zarr-python's store objects and plain dicts, as exzarr stores.

zarr-python is never imported unless the user passes one of its objects; they are
recognised by duck typing (the class's module starts with ``zarr.``) and turned into the
exzarr store over the same data:

=====================================  ==============================================
``zarr.storage.LocalStore(root)``      :class:`~exzarr.storage.LocalStore` on ``root``
``zarr.storage.MemoryStore()``         a :class:`DictStore` on its dict (zarr-python
                                       sees what exzarr writes and the reverse)
``zarr.storage.ZipStore(path)``        :class:`~exzarr.storage.ZipStore` on ``path``
                                       (close zarr-python's store before writing)
``zarr.storage.FsspecStore``           :class:`~exzarr.storage.FsspecStore` on its
                                       filesystem and path
a plain ``dict``                       a :class:`DictStore` on it (keys -> bytes)
=====================================  ==============================================
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from .base import ByteRange, Store
from .fsspec_store import FsspecStore
from .keys import validate_key
from .local import LocalStore
from .zip import ZipStore

__all__ = ["DictStore", "is_foreign_store", "foreign_store"]


def _is_zarr(obj: Any) -> bool:
    mod = type(obj).__module__ or ""
    return mod == "zarr" or mod.startswith("zarr.")


def _as_bytes(v: Any) -> bytes:
    """A stored value as bytes (zarr-python keeps ``Buffer`` objects in its dicts)."""
    if isinstance(v, bytes):
        return v
    to_bytes = getattr(v, "to_bytes", None)
    return to_bytes() if callable(to_bytes) else bytes(v)


class DictStore(Store):
    """A store over a mutable mapping the caller owns (``{key: bytes}``).

    ``wrap`` turns the bytes exzarr writes into what the mapping holds (zarr-python's
    ``MemoryStore`` keeps ``Buffer`` objects); values read are converted back to bytes."""

    def __init__(self, mapping: MutableMapping[str, Any], *, read_only: bool = False,
                 wrap: Callable[[bytes], Any] | None = None, name: str = "dict") -> None:
        super().__init__(read_only=read_only)
        self.mapping = mapping
        self._wrap = wrap
        self._name = name
        self._lock = threading.RLock()

    @property
    def url(self) -> str:
        return f"memory://<{self._name} {id(self.mapping):#x}>"

    def get(self, key: str, byte_range: ByteRange | None = None) -> bytes | None:
        v = self.mapping.get(key)
        if v is None:
            return None
        b = _as_bytes(v)
        if byte_range is None:
            return b
        start, stop = byte_range
        return b[start:stop]

    def exists(self, key: str) -> bool:
        return key in self.mapping

    def _set(self, key: str, value: bytes) -> None:
        validate_key(key, self)
        with self._lock:
            self.mapping[key] = self._wrap(value) if self._wrap is not None else value

    def _delete(self, key: str) -> None:
        with self._lock:
            self.mapping.pop(key, None)

    def list(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self.mapping))

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("a store over an in-memory dict cannot travel to another process; "
                        "use a store every process reaches (a local path, zip, sqlite://, s3://)")


def is_foreign_store(obj: Any) -> bool:
    """Whether ``obj`` is a zarr-python store or a mutable mapping used as a store."""
    if isinstance(obj, Store):
        return False
    return (_is_zarr(obj) and hasattr(obj, "read_only")) or isinstance(obj, MutableMapping)


def _zarr_buffer() -> Callable[[bytes], Any]:
    from zarr.core.buffer import cpu  # the user passed a zarr-python store: zarr is there

    return cpu.Buffer.from_bytes


def foreign_store(obj: Any, mode: str) -> Store:
    """The exzarr store over the same data as ``obj`` (see the module docs)."""
    read_only = mode == "r" or bool(getattr(obj, "read_only", False))
    if isinstance(obj, MutableMapping) and not _is_zarr(obj):
        return DictStore(obj, read_only=mode == "r")
    kind = type(obj).__name__
    if kind == "LocalStore" and hasattr(obj, "root"):
        return LocalStore(obj.root, read_only=read_only)
    if kind == "MemoryStore" and isinstance(getattr(obj, "_store_dict", None), MutableMapping):
        return DictStore(obj._store_dict, read_only=read_only, wrap=_zarr_buffer(),
                         name="zarr.storage.MemoryStore")
    if kind == "ZipStore" and hasattr(obj, "path"):
        zmode = getattr(obj, "_zmode", "r")
        if not read_only and getattr(obj, "_is_open", False) and zmode != "r":
            raise ValueError(f"the zarr-python ZipStore on {obj.path} is open for writing; "
                             f"close it (store.close()) before exzarr writes to the same file")
        if read_only:
            return ZipStore(obj.path, mode="r")
        return ZipStore(obj.path, mode="w" if mode == "w" or zmode == "w" else "a")
    if kind == "FsspecStore" and hasattr(obj, "fs"):
        fs = getattr(obj.fs, "sync_fs", obj.fs)  # zarr wraps sync filesystems for asyncio
        if getattr(fs, "asynchronous", False):  # a filesystem made for asyncio: a sync twin
            fs = type(fs)(**{**getattr(fs, "storage_options", {}), "asynchronous": False})
        return FsspecStore(fs, getattr(obj, "path", ""), read_only=read_only)
    if kind == "StorePath" and hasattr(obj, "store"):
        raise TypeError("pass the zarr-python store (store_path.store) and path= "
                        "(store_path.path) instead of a StorePath")
    raise TypeError(f"exzarr does not know the zarr-python store {type(obj).__module__}."
                    f"{kind}; pass a path, a URL or an exzarr store (exzarr.storage)")
