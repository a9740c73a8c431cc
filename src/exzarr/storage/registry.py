"""Open a store from a path, a URL or a Store instance; a registry of URL schemes.

Built in:

==========================  ======================================================
``Store`` instance          returned as is (a read-only view for ``mode="r"``)
path / ``file://path``      :class:`LocalStore` (a path ending in ``.zip``: :class:`ZipStore`)
``memory://name``           :class:`MemoryStore` (same name, same data, in one process)
``zip://path.zip``          :class:`ZipStore`
``sqlite:///abs/path.db``   :class:`SQLiteStore`
any other fsspec protocol   :class:`FsspecStore` (``s3://``, ``gs://``, ``az://``, ``http://``...)
==========================  ======================================================

Plugging in a scheme::

    from exzarr.storage import register_scheme, open_store

    def open_redis(url, *, mode, storage_options):
        # url is the full URL ("redis://host:6379/0/prefix"), mode one of r, r+, a, w, w-;
        # return a Store; make it read-only when mode == "r"
        return RedisStore(url, read_only=(mode == "r"), **(storage_options or {}))

    register_scheme("redis", open_redis)
    store = open_store("redis://localhost:6379/0/data.zarr", mode="a")

A registered scheme takes precedence over fsspec's protocol of the same name.  Factories
receive ``mode`` so they can create or truncate resources (``ZipStore`` truncates the
archive for ``"w"``); exzarr itself decides what ``"w"``/``"w-"`` mean for arrays and groups.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import InvalidArgumentError, StorageError
from .base import Store
from .local import LocalStore
from .memory import MemoryStore

__all__ = ["register_scheme", "unregister_scheme", "registered_schemes", "open_store",
           "resolve_store", "MODES", "StoreFactory"]

MODES = ("r", "r+", "a", "w", "w-")

#: ``factory(url, *, mode, storage_options) -> Store``
StoreFactory = Callable[..., Store]

_lock = threading.Lock()
_schemes: dict[str, StoreFactory] = {}


def register_scheme(scheme: str, factory: StoreFactory, *, overwrite: bool = False) -> None:
    """Make ``open_store("<scheme>://...")`` call ``factory(url, mode=..., storage_options=...)``.

    ``scheme`` is case-insensitive, without ``://``.  Registering a scheme that is already
    registered raises ``ValueError`` unless ``overwrite=True``.
    """
    if not isinstance(scheme, str) or not scheme or "://" in scheme or ":" in scheme:
        raise InvalidArgumentError(f"a scheme is a name such as 's3' or 'redis' (no '://'), got {scheme!r}")
    if not callable(factory):
        raise TypeError(f"the factory for scheme {scheme!r} must be callable, got {factory!r}")
    scheme = scheme.lower()
    with _lock:
        if scheme in _schemes and not overwrite and _schemes[scheme] is not factory:
            raise InvalidArgumentError(f"scheme {scheme!r} is already registered (to {_schemes[scheme]!r}); "
                             "pass overwrite=True to replace it")
        _schemes[scheme] = factory


def unregister_scheme(scheme: str) -> None:
    """Remove a registered scheme (missing schemes are ignored)."""
    with _lock:
        _schemes.pop(scheme.lower(), None)


def registered_schemes() -> list[str]:
    with _lock:
        return sorted(_schemes)


def _no_options(kind: str, storage_options: Mapping[str, Any] | None) -> None:
    if storage_options:
        raise InvalidArgumentError(f"storage_options={storage_options!r} were given for a {kind} store, "
                         "which takes none; they apply to fsspec URLs (s3://, gs://, ...)")


def _writable(mode: str) -> bool:
    return mode != "r"


def _open_path(path: str, mode: str, storage_options: Mapping[str, Any] | None) -> Store:
    _no_options("local", storage_options)
    if path.lower().endswith(".zip"):
        from .zip import ZipStore
        return ZipStore(path, mode="r" if mode == "r" else "w" if mode == "w" else "a")
    return LocalStore(path, read_only=not _writable(mode))


def _open_file(url: str, *, mode: str,
               storage_options: Mapping[str, Any] | None = None) -> Store:
    from urllib.parse import unquote, urlsplit
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise InvalidArgumentError(f"file URLs name a local path (file:///abs/path), got {url!r}")
    return _open_path(unquote(parts.path) or "/", mode, storage_options)


def _open_memory(url: str, *, mode: str,
                 storage_options: Mapping[str, Any] | None = None) -> Store:
    _no_options("memory", storage_options)
    name = url.split("://", 1)[1].strip("/")
    return MemoryStore(name or None, read_only=not _writable(mode))


def _open_zip(url: str, *, mode: str,
              storage_options: Mapping[str, Any] | None = None) -> Store:
    if "::" in url:  # fsspec chained URL (zip://member::s3://bucket/archive.zip)
        return _open_fsspec(url, mode=mode, storage_options=storage_options)
    _no_options("zip", storage_options)
    from .zip import ZipStore  # the other stores are imported when first opened
    return ZipStore(url.split("://", 1)[1], mode="r" if mode == "r" else "w" if mode == "w" else "a")


def _open_sqlite(url: str, *, mode: str,
                 storage_options: Mapping[str, Any] | None = None) -> Store:
    _no_options("sqlite", storage_options)
    path = url.split("://", 1)[1]
    if not path:
        raise InvalidArgumentError(f"an SQLite URL names a database file (sqlite:///abs/path.db), got {url!r}")
    from .sqlite import SQLiteStore
    return SQLiteStore(path, read_only=not _writable(mode))


#: ``storage_options["backend"]`` values: who serves cloud URLs. "auto" (the default):
#: obstore for s3:// URLs whose options it takes whole (see
#: :func:`~exzarr.storage.obstore_store.serves_by_default`), fsspec for everything else
BACKENDS = ("auto", "fsspec", "obstore")


def _open_fsspec(url: str, *, mode: str,
                 storage_options: Mapping[str, Any] | None = None) -> Store:
    options = dict(storage_options or {})
    backend = options.pop("backend", "auto")
    if backend == "auto":
        from .obstore_store import serves_by_default
        backend = "obstore" if serves_by_default(url, options) else "fsspec"
    if backend == "obstore":
        from .obstore_store import ObstoreStore
        return ObstoreStore(url, storage_options=options, read_only=not _writable(mode))
    if backend != "fsspec":
        raise InvalidArgumentError(
            f"storage_options['backend'] must be one of {', '.join(map(repr, BACKENDS))}, got "
            f"{backend!r}: 'auto' (the default) takes s3:// URLs to obstore when it is "
            "installed and their options say where the bucket is (endpoint_url or region), "
            "everything else to fsspec; 'fsspec' serves every fsspec protocol, 'obstore' "
            "serves s3:// through the obstore package")
    from .fsspec_store import FsspecStore
    return FsspecStore(url, storage_options=options, read_only=not _writable(mode))


for _s, _f in (("file", _open_file), ("memory", _open_memory), ("zip", _open_zip),
               ("sqlite", _open_sqlite)):
    register_scheme(_s, _f)


def open_store(obj: Store | str | os.PathLike[str] | Any, *, mode: str = "r",
               storage_options: Mapping[str, Any] | None = None) -> Store:
    """A :class:`Store` for ``obj``: a Store, a path, or a URL (see the module docs).

    ``mode`` is one of ``r`` (read only: writes raise :class:`~exzarr.errors.ReadOnlyError`),
    ``r+``, ``a``, ``w``, ``w-`` (writable).  ``storage_options`` go to fsspec (or to a
    registered factory); local, memory, zip and sqlite stores refuse them.
    """
    if mode not in MODES:
        raise InvalidArgumentError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    if isinstance(obj, Store):
        if storage_options:
            _no_options("Store instance", storage_options)
        return obj.with_read_only(True) if mode == "r" and not obj.read_only else obj
    if not isinstance(obj, (str, os.PathLike)):
        from .foreign import foreign_store, is_foreign_store
        if is_foreign_store(obj):  # zarr-python stores, a dict (see .foreign)
            if storage_options:
                _no_options(type(obj).__name__, storage_options)
            found = foreign_store(obj, mode)
            return found.with_read_only(True) if mode == "r" and not found.read_only else found
    if isinstance(obj, os.PathLike):
        obj = os.fspath(obj)
    if not isinstance(obj, str):
        raise TypeError(f"open_store takes a path, a URL, a Store, a zarr-python store or a dict, not {type(obj).__name__} "
                        f"({obj!r})")
    if not obj:
        raise InvalidArgumentError("open_store got an empty path; pass a path, a URL or a Store")
    scheme, sep, _ = obj.partition("://")
    if not sep:
        return _open_path(obj, mode, storage_options)
    factory: StoreFactory | None
    if "::" in scheme:  # fsspec chained URL (simplecache::s3://...)
        factory = _open_fsspec
    else:
        with _lock:
            factory = _schemes.get(scheme.lower())
        if factory is None:
            factory = _fsspec_factory(scheme)
    store = factory(obj, mode=mode, storage_options=storage_options)
    if mode == "r" and not store.read_only:
        store = store.with_read_only(True)
    return store


def resolve_store(store: Store | str | os.PathLike[str] | Any, mode: str,
                  storage_options: Mapping[str, Any] | None = None) -> Store:
    """:func:`open_store` for the module functions: ``None`` is a new in-memory store."""
    return open_store("memory://" if store is None else store, mode=mode,
                      storage_options=storage_options)


def _fsspec_factory(scheme: str) -> StoreFactory:
    from fsspec.registry import available_protocols
    if scheme.lower() in available_protocols():
        return _open_fsspec
    with _lock:
        mine = sorted(_schemes)
    raise StorageError(
        f"no store handles the URL scheme {scheme!r}: exzarr knows {', '.join(mine)} and every "
        "fsspec protocol (s3, gs, az, http, ...); install the fsspec package for it or "
        "register a factory with exzarr.storage.register_scheme", store=f"{scheme}://")
