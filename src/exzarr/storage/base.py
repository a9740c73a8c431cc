"""The Store contract every storage backend implements.

A store maps string keys (``"a/b/zarr.json"``, ``"a/b/c/0/1"``) to bytes.  Keys never
start or end with ``/``.  All methods are synchronous; batch methods (``get_many``,
``get_ranges``, ``set_many``) exist so remote stores can fetch many keys per round trip.

Byte ranges are ``(start, stop)`` pairs with Python slice meaning on the stored value:
``(10, 20)`` -> bytes 10..19, ``(10, None)`` -> from 10 to the end, ``(-16, None)`` -> the
last 16 bytes.  A store must return exactly the bytes requested (clamped at the end of
the value, as slicing would) and must never return more: a backend whose server ignores
``Range`` has to detect it and slice or raise.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Optional, Self, Tuple, Union

from ..errors import ReadOnlyError, StorageError, where

if TYPE_CHECKING:  # any object with the buffer protocol (collections.abc.Buffer from 3.12)
    from typing_extensions import Buffer as BytesLike

    from .direct_reads import DirectReads
    from .direct_writes import DirectWrites

ByteRange = Tuple[int, Optional[int]]
#: what :meth:`Store.get_buffer` returns: bytes, or a read-only view (e.g. of a memory map)
Buffer = Union[bytes, memoryview]

__all__ = ["Store", "ByteRange", "Buffer", "slice_range"]


def slice_range(value: bytes, byte_range: ByteRange | None) -> bytes:
    """Apply a ByteRange to an in-memory value (helper for simple stores)."""
    if byte_range is None:
        return value
    start, stop = byte_range
    return bytes(value[start:stop]) if stop is not None or start != 0 else value


class Store(abc.ABC):
    """Abstract key/value store.

    Capability flags tell callers what the backend can do; subclasses override them.
    """

    #: the store accepts ``set``/``set_many``
    supports_writes: bool = True
    #: the store accepts ``delete``
    supports_deletes: bool = True
    #: the store can enumerate keys (``list``, ``list_prefix``, ``list_dir``)
    supports_listing: bool = True
    #: ``get(key, byte_range)`` reads only the requested bytes (not the whole value)
    supports_byte_ranges: bool = True
    #: each request waits on a network round trip (object stores): writers keep more
    #: requests in flight than there are CPU threads
    high_latency: bool = False
    #: on a high-latency store, how many requests to keep in flight at once: a write of
    #: many chunks keeps up to this many uploads going (a request mostly waits on the
    #: network), as many as the connection pool of an object store takes
    requests_in_flight: int = 32
    #: many ``get`` calls at once from threads are this store's fastest way to read many
    #: keys (each blocks its thread on one request with the GIL released, e.g. obstore's):
    #: array reads fetch one key per task, ``requests_in_flight`` at once, each decoded on
    #: the thread that received it, where other high-latency stores get batches
    #: (:meth:`get_many`)
    threaded_gets: bool = False
    #: ``read_into`` reads straight into the caller's buffer (no bytes object between):
    #: readers that reuse a buffer call it instead of ``get``
    reads_into: bool = False
    #: ``set`` keeps the bytes object it is given (in memory, no copy): writers may build a
    #: value in a new bytes object for it rather than hand over a buffer to copy
    keeps_values: bool = False
    #: :meth:`get_tagged` names the version of the value it read (an ETag) and
    #: :meth:`get_ranges_tagged` reads only while the value is still that version: readers
    #: may keep what they derived from a value (a shard's index) and check it in the request
    #: that relies on it
    supports_tagged_reads: bool = False
    #: :meth:`get_unless` asks the server for the value only if it changed, and an answer
    #: that it did not (HTTP 304) costs the server and the wire less than the value: small
    #: values read again and again (metadata documents) are best read that way
    revalidates: bool = False
    #: :meth:`direct_writes` may name files that compiled code writes itself (local files)
    writes_directly: bool = False

    def __init__(self, *, read_only: bool = False) -> None:
        self.read_only = read_only

    # -- identity -----------------------------------------------------------------
    @property
    @abc.abstractmethod
    def url(self) -> str:
        """A URL naming this store, used in error messages (``file:///..``, ``memory://x``)."""

    @property
    def tag_scope(self) -> str:
        """Where this store's version tags (:meth:`get_tagged`) are comparable: a tag read
        through a store of the same scope, for the same key, names the same value.  The
        default is :attr:`url`; stores whose URL does not name the server add it."""
        return self.url

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r}{', read_only=True' if self.read_only else ''})"

    # -- reads --------------------------------------------------------------------
    @abc.abstractmethod
    def get(self, key: str, byte_range: ByteRange | None = None) -> bytes | None:
        """The value (or the requested byte range of it) at ``key``; ``None`` if missing."""

    def get_buffer(self, key: str) -> Buffer | None:
        """The whole value at ``key`` as a read-only bytes-like object (``None`` if
        missing).  Stores may return a zero-copy view (e.g. a memory map of a large file)
        that stays valid as long as it is referenced; the default is :meth:`get`."""
        return self.get(key)

    def get_buffer_tagged(self, key: str) -> tuple[Buffer | None, str | None]:
        """:meth:`get_buffer` and the version tag of the value read (see
        :meth:`get_tagged`), ``None`` where the store cannot name it."""
        return self.get_buffer(key), None

    def read_into(self, key: str, start: int, out: memoryview) -> int | None:
        """Read the value at ``key`` from byte ``start`` (>= 0) into ``out`` (a writable
        byte memoryview), at most ``len(out)`` bytes: how many were read (fewer only at the
        value's end), or ``None`` if the key is missing.  The default copies the bytes
        of a ranged :meth:`get`; stores with :attr:`reads_into` read without the copy."""
        if start < 0:
            raise ValueError(f"read_into starts at byte {start}: it takes offsets >= 0")
        data = self.get(key, (start, start + len(out)))
        if data is None:
            return None
        n = min(len(data), len(out))
        out[:n] = memoryview(data).cast("B")[:n]
        return n

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        """Values for many keys at once (missing keys map to ``None``)."""
        return {k: self.get(k) for k in keys}

    def get_ranges(self, requests: Iterable[tuple[str, ByteRange | None]]) -> list[bytes | None]:
        """Byte ranges of many keys at once, in request order (``None`` for missing keys)."""
        return [self.get(k, r) for k, r in requests]

    def get_tagged(self, key: str,
                   byte_range: ByteRange | None = None) -> tuple[bytes | None, str | None]:
        """:meth:`get` and the version tag of the value read, ``None`` where the store cannot
        name it (then nothing read from it can be checked later)."""
        return self.get(key, byte_range), None

    def get_unless(self, key: str, tag: str) -> tuple[bytes | None, str | None] | None:
        """``None`` if the value at ``key`` is still the version ``tag`` (from
        :meth:`get_tagged`: the caller holds it), else :meth:`get_tagged` of the whole value
        (``(None, None)`` when it is gone).  Stores that cannot ask conditionally
        (:attr:`revalidates` False) read the value again and compare the tags."""
        value, new = self.get_tagged(key)
        return None if value is not None and new is not None and new == tag else (value, new)

    def get_ranges_tagged(self, key: str, ranges: list[tuple[int, int]],
                          tag: str) -> list[bytes] | None:
        """The byte ranges ``[start, stop)`` of the value at ``key``, read only if it is still
        the version ``tag`` (from :meth:`get_tagged`): ``None`` when it changed or is gone."""
        raise StorageError(f"{where(self, key)}: this store cannot make reads conditional on "
                           "a version (supports_tagged_reads is False); read the value and "
                           "its ranges with get()", store=self, key=key)

    def exists(self, key: str) -> bool:
        return self.get(key) is not None

    def getsize(self, key: str) -> int | None:
        """Size in bytes of the value at ``key`` (``None`` if missing)."""
        v = self.get(key)
        return None if v is None else len(v)

    # -- writes -------------------------------------------------------------------
    @abc.abstractmethod
    def _set(self, key: str, value: bytes) -> None:
        """Store ``value`` at ``key`` atomically (readers see old or new, never torn)."""

    @abc.abstractmethod
    def _delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""

    def check_writable(self, key: str | None = None) -> None:
        if not self.supports_writes:
            raise ReadOnlyError(
                f"cannot write to {where(self, key)}: {type(self).__name__} stores of this kind "
                "are read-only (e.g. http(s)://); copy the data to a writable store "
                "(local path, s3://, gs://, az://...) to change it", store=self, key=key)
        if self.read_only:
            raise ReadOnlyError(
                f"cannot write to {where(self, key)}: it was opened read-only (mode='r'); "
                "open it with mode='r+' or 'a' to write", store=self, key=key)

    def serial_now(self) -> bool:
        """True while operations must stay on the calling thread (e.g. inside a SQLite
        transaction); exzarr then does a read or write without worker threads."""
        return False

    def set(self, key: str, value: bytes) -> None:
        self.check_writable(key)
        self._set(key, bytes(value) if not isinstance(value, bytes) else value)

    def set_parts(self, key: str, parts: Iterable[BytesLike]) -> None:
        """Store the concatenation of the buffers ``parts`` at ``key`` (atomically, like
        :meth:`set`); stores that can write the pieces without joining them override it."""
        self.set(key, b"".join(parts))

    def direct_writes(self, keys: list[str]) -> DirectWrites | None:
        """The files that writing ``keys`` atomically means, for compiled code to write
        itself (:class:`~exzarr.storage.direct_writes.DirectWrites`), or None: write them
        with :meth:`set_parts` (always, where not :attr:`writes_directly`)."""
        return None

    def direct_reads(self, keys: list[str]) -> DirectReads | None:
        """The files of ``keys``, for compiled code to read itself
        (:class:`~exzarr.storage.direct_reads.DirectReads`), or None: read them with
        :meth:`get` or :meth:`read_into`."""
        return None

    def set_many(self, items: Mapping[str, bytes]) -> None:
        for k, v in items.items():
            self.set(k, v)

    def write_batch(self, prefix: str = "") -> contextlib.AbstractContextManager[None]:
        """A context around one operation that writes many keys under ``prefix`` (a key
        prefix without trailing ``/``, e.g. an array's path; ``""``: anywhere), possibly
        from several threads at once (a write of many chunks): the store may hold
        per-thread resources for its duration (:class:`~exzarr.storage.LocalStore`: a
        temporary folder per thread).  Writes inside behave and fail exactly as
        outside, under ``prefix`` or not; batches may nest and overlap.  This one does
        nothing."""
        return contextlib.nullcontext()

    def delete(self, key: str) -> None:
        self.check_writable(key)
        self._delete(key)

    def delete_many(self, keys: Iterable[str]) -> None:
        for k in keys:
            self.delete(k)

    def delete_prefix(self, prefix: str) -> None:
        """Delete every key under ``prefix`` (``prefix`` ends with ``/`` or is ``""``)."""
        self.check_writable(prefix)
        for k in list(self.list_prefix(prefix)):
            self._delete(k)

    # -- listing ------------------------------------------------------------------
    @abc.abstractmethod
    def list(self) -> Iterator[str]:
        """Every key in the store."""

    def list_prefix(self, prefix: str) -> Iterator[str]:
        """Every key that starts with ``prefix`` (full keys)."""
        for k in self.list():
            if k.startswith(prefix):
                yield k

    def list_dir(self, prefix: str) -> Iterator[str]:
        """Names of the immediate children under ``prefix`` (keys and "directories").

        ``prefix`` is ``""`` for the root or ends with ``/``; names carry no slashes.
        """
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        seen: set[str] = set()
        for k in self.list_prefix(prefix):
            name = k[len(prefix):].split("/", 1)[0]
            if name not in seen:
                seen.add(name)
                yield name

    # -- lifecycle ----------------------------------------------------------------
    def close(self) -> None:
        """Release resources (files, connections).  Idempotent."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def with_read_only(self, read_only: bool = True) -> Self:
        """A view of this store with the given read-only flag (shares the data)."""
        import copy
        s = copy.copy(self)
        s.read_only = read_only
        return s
