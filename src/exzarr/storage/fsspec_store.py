"""A store over any fsspec filesystem: ``s3://``, ``gs://``, ``az://``, ``http(s)://``, ...

``get_many``/``get_ranges`` send their requests concurrently in batches (fsspec's
``cat_ranges``; async back ends run them in parallel) and retry, under the store's
:class:`~exzarr.storage.retry.RetryPolicy`, only the items that were throttled or failed
transiently.  Missing keys read as ``None``; denied access raises
:class:`~exzarr.errors.AccessDeniedError`; anything else a
:class:`~exzarr.errors.StorageError` naming the store URL and key.

Byte ranges are checked: a server that ignores ``Range`` (Python's ``http.server`` does)
answers with the whole object, which fsspec passes on silently.  For protocols whose
servers are not known to honour ranges (see :data:`PROTOCOL_TRAITS`) the store compares
the first ranged answers with the object's size; once it has seen the server ignore a
range it fetches whole objects and slices them (``supports_byte_ranges`` becomes False),
once it has seen it honour one it trusts it.  An answer that fits neither raises.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import AccessDeniedError, ExzarrError, StorageError, ThrottledError, where
from .base import ByteRange, Store
from .failures import classify, to_storage_error
from .keys import resolve_range, validate_key, validate_prefix
from .retry import RetryPolicy, RetryStats, call_with_retry, retry_batch

if TYPE_CHECKING:
    from fsspec.spec import AbstractFileSystem

__all__ = ["FsspecStore", "ProtocolTraits", "PROTOCOL_TRAITS"]


@dataclass(frozen=True)
class ProtocolTraits:
    """What exzarr may assume about an fsspec protocol's back end."""

    writable: bool = True        #: accepts writes and deletes
    listing: bool = True         #: can enumerate keys
    trusted_ranges: bool = False  #: its servers always honour Range requests
    suffix_ranges: bool = False   #: ``cat_file(start=-n)`` reads the last n bytes
    buckets: bool = False         #: top-level names are buckets/containers, never created here


_OBJECT = ProtocolTraits(trusted_ranges=True, suffix_ranges=True, buckets=True)
_FILES = ProtocolTraits(trusted_ranges=True, suffix_ranges=True)
#: traits by protocol name; unknown protocols get ``ProtocolTraits()`` (ranges verified)
PROTOCOL_TRAITS: dict[str, ProtocolTraits] = {
    **dict.fromkeys(("s3", "s3a", "gs", "gcs"), _OBJECT),
    **dict.fromkeys(("memory", "file", "local"), _FILES),
    # adlfs turns a negative start into a bad offset: resolve suffixes with the size
    **dict.fromkeys(("az", "abfs", "abfss", "adl"), ProtocolTraits(trusted_ranges=True,
                                                                        buckets=True)),
    **dict.fromkeys(("http", "https"), ProtocolTraits(writable=False, listing=False,
                                                      suffix_ranges=True)),
}

_MISSING = object()  # a batch item whose object does not exist
_GONE = object()     # an operation that hit a missing object


def _protocols(fs: AbstractFileSystem) -> tuple[str, ...]:
    p = fs.protocol
    return (p,) if isinstance(p, str) else tuple(p)


def _whole_read_kwargs(fs: AbstractFileSystem) -> dict[str, Any]:
    """Arguments that make a whole-value read one GET.  s3fs (2025.x and later) sends a
    HEAD before every whole-object GET, to choose a concurrent multi-part download for
    objects over its block size (50 MiB), unless ``max_concurrency`` is 1: that doubles
    the requests of every chunk read, for objects far smaller than that."""
    fn = getattr(fs, "_cat_file", None) or fs.cat_file
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    return {"max_concurrency": 1} if "max_concurrency" in params else {}


class FsspecStore(Store):
    """Keys under ``path`` on an fsspec filesystem given by URL or instance.

    ``FsspecStore("s3://bucket/data.zarr", storage_options={"anon": True})`` or
    ``FsspecStore(fs, path="bucket/data.zarr")``.  ``retry`` sets the retry policy for
    throttled/transient failures (``retry_stats`` counts them).
    """

    high_latency = True

    def __init__(self, url_or_fs: str | AbstractFileSystem, path: str | None = None,
                 storage_options: Mapping[str, Any] | None = None, read_only: bool = False, *,
                 retry: RetryPolicy | None = None) -> None:
        super().__init__(read_only=read_only)
        if isinstance(url_or_fs, str):
            from fsspec.core import url_to_fs
            try:
                fs, root = url_to_fs(url_or_fs, **(storage_options or {}))
            except (ImportError, ValueError) as exc:
                raise StorageError(f"cannot open {url_or_fs!r} with fsspec ({exc}); install the "
                                   "package for this protocol (s3fs, gcsfs, adlfs, aiohttp) or "
                                   "check the URL and storage_options", store=url_or_fs) from exc
            url = url_or_fs.rstrip("/")
            if path:
                root, url = f"{root.rstrip('/')}/{path.strip('/')}", f"{url}/{path.strip('/')}"
        else:
            if storage_options:
                raise ValueError("storage_options apply to a URL; configure the filesystem "
                                 "instance instead when passing one")
            fs = url_or_fs
            root = fs._strip_protocol(path or "")
            url = fs.unstrip_protocol(root).rstrip("/")
        self.fs = fs
        self.root = root.rstrip("/")
        self._url = url
        self.retry_policy = retry if retry is not None else RetryPolicy()
        self.retry_stats = RetryStats()
        protos = _protocols(fs)
        self.traits = next((PROTOCOL_TRAITS[p] for p in protos if p in PROTOCOL_TRAITS),
                           ProtocolTraits())
        self.supports_writes = self.supports_deletes = self.traits.writable
        self.supports_listing = self.traits.listing
        #: None: not known yet; True: the server honours ranges; False: it ignores them
        self._ranges: bool | None = True if self.traits.trusted_ranges else None
        self._suffix_ok = self.traits.suffix_ranges
        self._whole_kw = _whole_read_kwargs(fs)

    @property
    def url(self) -> str:
        return self._url

    def _path(self, key: str) -> str:
        validate_key(key, self)
        return f"{self.root}/{key}" if self.root else key

    # -- calling the filesystem ---------------------------------------------------
    def _run(self, fn: Callable[[], Any], key: str | None, action: str,
             missing: object = _MISSING) -> Any:
        """``fn()`` under the retry policy; a missing object returns ``missing`` if given."""
        try:
            return call_with_retry(fn, policy=self.retry_policy, stats=self.retry_stats,
                                   store=self, key=key, action=action)
        except ExzarrError:
            raise
        except Exception as exc:
            if missing is not _MISSING and classify(exc) == "missing":
                return missing
            raise to_storage_error(exc, self, key, action) from exc

    def _size(self, key: str, path: str) -> int | None:
        info = self._run(lambda: self.fs.info(path), key, "stat", missing=None)
        if info is None or info.get("type", "file") != "file":
            return None
        return info.get("size")

    def _batch(self, paths: list[str], starts: list[int | None], ends: list[int | None],
               keys: list[str]) -> list[Any]:
        """``cat_ranges`` with per-item retries; items are bytes, ``_MISSING`` or an exception."""
        def run(pending: list[int]) -> list[Any]:
            try:
                return list(self.fs.cat_ranges(
                    [paths[i] for i in pending], [starts[i] for i in pending],
                    [ends[i] for i in pending], on_error="return", **self._whole_kw))
            except Exception as exc:  # the whole batch failed (e.g. connection refused)
                return [exc] * len(pending)

        def judge(i: int, r: BaseException) -> tuple[Any, BaseException | None]:
            kind = classify(r)
            if kind == "missing":
                return _MISSING, None
            retryable = kind in ("throttled", "transient")
            return r, to_storage_error(r, self, keys[i], "read") if retryable else None

        return retry_batch(len(paths), run, judge, policy=self.retry_policy,
                           stats=self.retry_stats, store=self, keys=keys, action="read")

    # -- reads ----------------------------------------------------------------------
    def _cat_whole(self, path: str) -> bytes:
        return self.fs.cat_file(path, **self._whole_kw)

    def get(self, key: str, byte_range: ByteRange | None = None) -> bytes | None:
        path = self._path(key)
        if byte_range is None or (byte_range[0] == 0 and byte_range[1] is None):
            return self._run(lambda: self._cat_whole(path), key, "read", missing=None)
        return self._get_range(key, path, byte_range[0], byte_range[1])

    def _get_range(self, key: str, path: str, start: int, stop: int | None) -> bytes | None:
        if self._ranges is False:
            whole = self._run(lambda: self._cat_whole(path), key, "read", missing=None)
            return None if whole is None else whole[start:stop]
        size = None
        if (stop is not None and (stop < 0 or start < 0)) or (start < 0 and not self._suffix_ok):
            size = self._size(key, path)
            if size is None:
                return None
            start, stop = resolve_range(start, stop, size)
        if stop is not None and stop <= start:
            return b"" if size is not None or self._size(key, path) is not None else None
        try:
            body = self._run(lambda: self.fs.cat_file(path, start=start, end=stop), key, "read",
                             missing=None)
        except (AccessDeniedError, ThrottledError):
            raise
        except StorageError:
            size = self._size(key, path)  # e.g. HTTP 416 for a range past the end
            if size is None:
                return None
            if start < 0:  # the server refused a suffix range: use offsets from now on
                self._suffix_ok = False
                return self._get_range(key, path, start, stop)
            if start >= size:
                return b""
            if self.traits.trusted_ranges:
                raise
            # a server that cannot serve this range: read the whole value and slice it
            whole = self._run(lambda: self._cat_whole(path), key, "read", missing=None)
            return None if whole is None else whole[start:stop]
        if body is None:
            return None
        return self._checked(key, path, start, stop, body, size)

    def _checked(self, key: str, path: str, start: int, stop: int | None, body: bytes,
                 size: int | None) -> bytes | None:
        """Verify that ``body`` is exactly ``value[start:stop]``; slice or raise if not."""
        n = len(body)
        if start < 0:  # suffix (stop is None): self-verifying
            if n <= -start:
                return body
            size = size if size is not None else self._size(key, path)
            if size is None:
                return None
            if n == size:
                return self._ignored(key, path, body, start, stop, size)
            # a server that miscounts suffix ranges (s3rver sends n+1 bytes): use offsets
            self._suffix_ok = False
            return self._get_range(key, path, start, stop)
        if stop is not None and n > stop - start:
            return self._ignored(key, path, body, start, stop)
        if self._ranges:
            return body
        size = size if size is not None else self._size(key, path)
        if size is None:
            return None
        a, b = resolve_range(start, stop, size)
        if n == b - a:
            if b - a != size:
                self._ranges = True  # seen the server honour a range: trust it from now on
            return body
        if n == size:
            return self._ignored(key, path, body, start, stop, size)
        raise self._bad_range(key, start, stop, n, size)

    def _ignored(self, key: str, path: str, body: bytes, start: int, stop: int | None,
                 size: int | None = None) -> bytes | None:
        """The server answered a range request with more bytes: accept only the whole value."""
        size = size if size is not None else self._size(key, path)
        if size is None:
            return None
        if len(body) != size:
            raise self._bad_range(key, start, stop, len(body), size)
        if self._ranges is None:  # first decisive answer: the server ignores ranges
            self._ranges = False
            self.supports_byte_ranges = False
        return body[start:stop]

    def _bad_range(self, key: str, start: int, stop: int | None, n: int,
                   size: int) -> StorageError:
        return StorageError(
            f"the server answered the byte range [{start}:{stop}] of {where(self, key)} "
            f"({size} bytes) with {n} bytes, which is neither the range nor the whole value; "
            "the server (or a proxy) mishandles Range requests: fix it or read whole values",
            store=self, key=key)

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        keys = list(dict.fromkeys(keys))
        paths = [self._path(k) for k in keys]
        res = self._batch(paths, [None] * len(keys), [None] * len(keys), keys)
        out: dict[str, bytes | None] = {}
        for k, r in zip(keys, res):
            if isinstance(r, BaseException):
                raise to_storage_error(r, self, k, "read") from r
            out[k] = None if r is _MISSING else r
        return out

    def get_ranges(self, requests: Iterable[tuple[str, ByteRange | None]]) -> list[bytes | None]:
        reqs = [(k, None if r is None or (r[0] == 0 and r[1] is None) else r) for k, r in requests]
        out: list[bytes | None] = [None] * len(reqs)
        todo: list[int] = []  # indices sent in one batch
        for i, (k, r) in enumerate(reqs):
            if r is None:
                todo.append(i)
                continue
            start, stop = r
            simple = (stop is None and (start >= 0 or self._suffix_ok)) or \
                     (stop is not None and 0 <= start < stop)
            if not simple or self._ranges is None:
                # needs the size, is empty, or settles whether the server honours ranges
                out[i] = self.get(k, r)
            else:
                todo.append(i)
        if not todo:
            return out
        if self._ranges is False:
            whole = self.get_many([reqs[i][0] for i in todo])
            for i in todo:
                v, r = whole[reqs[i][0]], reqs[i][1]
                out[i] = v if v is None or r is None else v[r[0]:r[1]]
            return out
        keys = [reqs[i][0] for i in todo]
        ranges = [reqs[i][1] for i in todo]
        res = self._batch([self._path(k) for k in keys],
                          [None if r is None else r[0] for r in ranges],
                          [None if r is None else r[1] for r in ranges], keys)
        for i, k, r in zip(todo, keys, res):
            rng = reqs[i][1]
            if r is _MISSING:
                out[i] = None
            elif isinstance(r, BaseException):
                out[i] = self.get(k, rng)  # past-the-end ranges and the like: the careful path
            elif rng is None:
                out[i] = r
            else:
                out[i] = self._checked(k, self._path(k), rng[0], rng[1], r, None)
        return out

    def exists(self, key: str) -> bool:
        return self._size(key, self._path(key)) is not None

    def getsize(self, key: str) -> int | None:
        return self._size(key, self._path(key))

    # -- writes ---------------------------------------------------------------------
    def _pipe(self, path: str, value: bytes) -> None:
        try:
            self.fs.pipe_file(path, value)
        except FileNotFoundError:
            if self.traits.buckets:  # never create a bucket because of a typo in a URL
                bucket = path.split("/", 1)[0]
                raise StorageError(
                    f"cannot write {where(self)}: the bucket/container {bucket!r} does not "
                    f"exist (or is not visible with these credentials); create it first — "
                    f"exzarr never creates buckets", store=self) from None
            # file-like back ends need the parent directory
            self.fs.makedirs(self.fs._parent(path), exist_ok=True)
            self.fs.pipe_file(path, value)

    def _set(self, key: str, value: bytes) -> None:
        path = self._path(key)
        self._run(lambda: self._pipe(path, value), key, "write")

    def set_many(self, items: Mapping[str, bytes]) -> None:
        self.check_writable()
        data = {self._path(k): bytes(v) for k, v in items.items()}
        if not data:
            return
        if self._run(lambda: self.fs.pipe(data), None, "write", missing=False) is False:
            for k, v in items.items():  # a back end that needs parent directories
                self.set(k, v)

    def _delete(self, key: str) -> None:
        path = self._path(key)
        self._run(lambda: self.fs.rm_file(path), key, "delete", missing=None)

    def delete_many(self, keys: Iterable[str]) -> None:
        self.check_writable()
        keys = list(keys)
        if not keys:
            return
        paths = [self._path(k) for k in keys]
        if self._run(lambda: self.fs.rm(paths), None, "delete", missing=_GONE) is _GONE:
            for k in keys:  # some were missing: delete the rest one by one
                self._delete(k)

    def delete_prefix(self, prefix: str) -> None:
        self.check_writable(prefix)
        keys = list(self.list_prefix(prefix))
        if keys:
            self.delete_many(keys)

    # -- listing --------------------------------------------------------------------
    def _check_listing(self) -> None:
        if not self.supports_listing:
            raise StorageError(f"{where(self)} cannot list its keys ({'/'.join(_protocols(self.fs))} "
                               "has no listing); use consolidated metadata or a store that "
                               "can list", store=self)

    def _find(self, sub: str) -> list[str]:
        self._check_listing()
        top = f"{self.root}/{sub}" if sub else self.root
        self.fs.invalidate_cache(top)
        found = self._run(lambda: self.fs.find(top), sub or None, "list", missing=[])
        root = self.fs._strip_protocol(self.root) if self.root else ""
        keys = []
        for p in found:
            p = self.fs._strip_protocol(p)
            if root and not p.startswith(root + "/"):
                continue
            keys.append(p[len(root) + 1:] if root else p.lstrip("/"))
        return keys

    def list(self) -> Iterator[str]:
        return iter(self._find(""))

    def list_prefix(self, prefix: str) -> Iterator[str]:
        validate_prefix(prefix, self)
        head = prefix.rpartition("/")[0]
        return iter([k for k in self._find(head) if k.startswith(prefix)])

    def list_dir(self, prefix: str) -> Iterator[str]:
        validate_prefix(prefix, self)
        self._check_listing()
        sub = prefix.rstrip("/")
        top = f"{self.root}/{sub}" if sub and self.root else (sub or self.root)
        self.fs.invalidate_cache(top)
        names = self._run(lambda: self.fs.ls(top, detail=False), sub or None, "list", missing=[])
        base = self.fs._strip_protocol(top).rstrip("/")
        out = []
        for p in names:
            p = self.fs._strip_protocol(p).rstrip("/")
            if p != base and p.startswith(base + "/" if base else ""):
                out.append(p[len(base) + 1:] if base else p.lstrip("/"))
        return iter(out)
