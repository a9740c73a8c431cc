"""The exzarr exception tree.

Every exception derives from :class:`ExzarrError` and from the builtin that matches
its meaning, so ``except KeyError`` / ``except ValueError`` / ``except OSError`` keep
working.  Messages say what failed, where (store URL and key) and what to do.
"""

from __future__ import annotations

__all__ = [
    "ExzarrError",
    "NodeNotFoundError",
    "ArrayNotFoundError",
    "GroupNotFoundError",
    "NodeExistsError",
    "InvalidMetadataError",
    "MetadataNestingError",
    "UnsupportedExtensionError",
    "CodecError",
    "UnknownCodecError",
    "CodecNotAvailableError",
    "DecompressionError",
    "UnsafeDataError",
    "ChecksumMismatchError",
    "ShapeMismatchError",
    "UnsafeCastError",
    "BoundsError",
    "InvalidIndexError",
    "InvalidSliceError",
    "InvalidArgumentError",
    "InvalidNameError",
    "ViewOperationError",
    "ChunkTooLargeError",
    "StorageError",
    "AccessDeniedError",
    "ThrottledError",
    "TransientStorageError",
    "InvalidKeyError",
    "ReadOnlyError",
    "WriteConflictError",
    "MemoryBudgetError",
    "StoreNotSharedError",
    "LazyArrayError",
    "where",
]


def where(store: object = None, key: str | None = None) -> str:
    """Format a location as ``'<store url>' key '<key>'`` for error messages."""
    url = getattr(store, "url", None) if store is not None and not isinstance(store, str) else store
    parts: list[str] = []
    if url:
        parts.append(f"store {url!r}")
    if key is not None:
        parts.append(f"key {key!r}")
    return ", ".join(parts) if parts else "<unknown location>"


class ExzarrError(Exception):
    """Root of every error raised by exzarr."""

    def __init__(self, message: str = "", *, store: object = None, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.store_url = getattr(store, "url", store) if store is not None else None
        self.key = key

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.message


class NodeNotFoundError(ExzarrError, KeyError):
    """No array or group at the given path."""


class ArrayNotFoundError(NodeNotFoundError):
    """No array at the given path."""


class GroupNotFoundError(NodeNotFoundError):
    """No group at the given path."""


class NodeExistsError(ExzarrError, FileExistsError):
    """A node already exists where one was to be created (pass overwrite=True)."""


class InvalidMetadataError(ExzarrError, ValueError):
    """Metadata JSON that is malformed or violates the spec."""


class MetadataNestingError(InvalidMetadataError):
    """A metadata document (or attributes) nested deeper than ``exzarr.config``
    ``max_metadata_depth`` allows: refused before it can exhaust the interpreter's stack."""


class UnsupportedExtensionError(InvalidMetadataError):
    """A v3 extension marked ``must_understand: true`` that exzarr does not know."""


class CodecError(ExzarrError, ValueError):
    """Base for codec problems."""


class UnknownCodecError(CodecError):
    """A codec name/id that no registered codec handles."""


class CodecNotAvailableError(ExzarrError, ImportError):
    """A codec is known but the library it needs is not installed."""


class DecompressionError(CodecError):
    """A stored chunk could not be decoded (corrupt, truncated or wrong codec)."""


class UnsafeDataError(DecompressionError):
    """A stored chunk asks for something exzarr will not do while decoding it: a pickle
    that names a global outside the allow-list (it could run arbitrary code)."""


class ChecksumMismatchError(DecompressionError):
    """A crc32c (or other) checksum did not match the stored data."""


class ShapeMismatchError(ExzarrError, ValueError):
    """Data whose shape cannot be broadcast to the selection it is written to."""


class UnsafeCastError(ExzarrError, TypeError):
    """Data whose dtype cannot be cast safely to the array's dtype."""


class BoundsError(ExzarrError, IndexError):
    """An index outside the array's bounds."""


class InvalidIndexError(ExzarrError, IndexError):
    """An index key NumPy would refuse too (wrong type, two ellipses, too many indices,
    ragged lists, arrays that cannot broadcast); ``except IndexError`` still catches it."""


class InvalidSliceError(InvalidIndexError, ValueError):
    """A slice NumPy refuses with ValueError (step 0); an IndexError and a ValueError."""


class InvalidArgumentError(ExzarrError, ValueError):
    """An argument value exzarr cannot use (a mode, a shard shape, a setting)."""


class ViewOperationError(ExzarrError, TypeError):
    """An operation on a whole stored array (resize, append, ...) asked of a view of it;
    apply it to the array itself."""


class ChunkTooLargeError(ExzarrError, MemoryError):
    """A chunk whose shape and data type need more memory than can be allocated (often
    hostile or corrupt metadata); nothing was read or written."""


class StorageError(ExzarrError, OSError):
    """A store operation failed."""


class AccessDeniedError(StorageError, PermissionError):
    """The store refused access (credentials, permissions, region)."""


class ThrottledError(StorageError):
    """The store asked us to slow down (and retries were exhausted)."""


class TransientStorageError(StorageError):
    """A failure that may go away when the request is repeated (5xx, timeout, dropped connection)."""


class InvalidKeyError(ExzarrError, ValueError):
    """A key that is not a valid store key (empty, absolute, ``..``, ``//``, NUL)."""


class InvalidNameError(InvalidKeyError, TypeError):
    """A group member name that is empty, not a str, or uses a reserved part (``.``,
    ``..``, a metadata file name).  A ValueError, and a TypeError for names that are not str."""


class ReadOnlyError(ExzarrError, PermissionError):
    """A write to an array, group or store opened read-only."""


class WriteConflictError(ExzarrError, RuntimeError):
    """A concurrent writer changed data underneath a read-modify-write."""


class MemoryBudgetError(ExzarrError, MemoryError):
    """A computation whose working set cannot fit ``exzarr.config`` ``memory_limit``;
    raised while planning, before anything is read."""


class LazyArrayError(ExzarrError, AttributeError, TypeError):
    """An operation that needs a stored array (a store, a path, assignment) was asked of a
    lazy expression; store it first with ``to_zarr()``.  An AttributeError too, so duck
    typing (``hasattr(e, "store")``, ``getattr(e, "attrs", None)``) sees no such attribute."""


class StoreNotSharedError(StorageError):
    """A process-local store (``memory://``) reached from another process, where its data
    is not: reading would show an empty array and writes would be lost."""
