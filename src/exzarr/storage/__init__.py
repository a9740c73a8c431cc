"""Key/value stores: the :class:`Store` contract and its implementations.

``open_store(obj, mode=..., storage_options=...)`` turns a path, a URL or a Store into a
store; ``register_scheme(scheme, factory)`` plugs in new URL schemes (see
:mod:`exzarr.storage.registry`).  Importing this package stays light: fsspec and its
back ends are imported when an fsspec store is first created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy_names import lazy_names

if TYPE_CHECKING:
    from .base import ByteRange, Store, slice_range
    from .cache import CachingStore
    from .failures import TransientStorageError, classify
    from .fsspec_store import PROTOCOL_TRAITS, FsspecStore, ProtocolTraits
    from .keys import InvalidKeyError, join_key, norm_path, validate_key
    from .local import LocalStore
    from .memory import MemoryStore
    from .obstore_store import ObstoreStore
    from .registry import (open_store, register_scheme, registered_schemes, resolve_store,
                           unregister_scheme)
    from .retry import NO_RETRY, RetryingStore, RetryPolicy, RetryStats
    from .sqlite import SQLiteStore
    from .zip import ZipStore

#: public name -> the module of this package that defines it, imported on first use
#: (PEP 562): opening a local array does not load the SQLite, zip or cloud stores
_MODULES = {
    **dict.fromkeys(["ByteRange", "Store", "slice_range"], "base"),
    "CachingStore": "cache",
    **dict.fromkeys(["TransientStorageError", "classify"], "failures"),
    **dict.fromkeys(["PROTOCOL_TRAITS", "FsspecStore", "ProtocolTraits"], "fsspec_store"),
    **dict.fromkeys(["InvalidKeyError", "join_key", "norm_path", "validate_key"], "keys"),
    "LocalStore": "local",
    "MemoryStore": "memory",
    "ObstoreStore": "obstore_store",
    **dict.fromkeys(["open_store", "register_scheme", "registered_schemes", "resolve_store",
                     "unregister_scheme"], "registry"),
    **dict.fromkeys(["NO_RETRY", "RetryingStore", "RetryPolicy", "RetryStats"], "retry"),
    "SQLiteStore": "sqlite",
    "ZipStore": "zip",
}

__all__ = [
    "Store", "ByteRange", "slice_range",
    "MemoryStore", "LocalStore", "ZipStore", "SQLiteStore", "FsspecStore",
    "ObstoreStore",
    "RetryingStore", "CachingStore", "RetryPolicy", "RetryStats", "NO_RETRY",
    "ProtocolTraits", "PROTOCOL_TRAITS",
    "open_store", "resolve_store", "register_scheme", "unregister_scheme", "registered_schemes",
    "InvalidKeyError", "TransientStorageError", "classify", "validate_key", "join_key", "norm_path",
]


__getattr__, __dir__ = lazy_names(__name__, _MODULES, globals(), __all__)
