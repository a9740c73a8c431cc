"""A store on obstore (Python bindings of the Rust ``object_store`` crate): ``s3://``.

``ObstoreStore("s3://bucket/data.zarr", storage_options={...})`` or, through any URL
function, ``storage_options={"backend": "obstore", ...}``; the default back end
(``"auto"``) takes an ``s3://`` URL here by itself when its options fit
(:func:`serves_by_default`).  The options are those
FsspecStore (s3fs) takes for S3 — ``key``/``secret``/``token``, ``anon``,
``endpoint_url``, ``region``/``region_name`` (also inside ``client_kwargs``),
``requester_pays`` — mapped onto obstore's ``S3Store`` configuration; ``config`` and
``client_options`` pass obstore's own settings through and ``concurrency`` bounds the
requests in flight per batch or stream, and the uploads a write of many chunks keeps
going.  Options obstore has no equivalent for (``profile``, ...) are refused with a typed
error: use the fsspec back end for them.

Guarantees, as :class:`~exzarr.storage.fsspec_store.FsspecStore`: batched reads and writes
run concurrently, ``concurrency`` requests at a time (obstore's blocking calls, on a
process-wide pool of I/O threads: :mod:`exzarr.storage.io_threads`); single reads go
straight through obstore's blocking calls on the caller's thread.  Retries follow the store's
:class:`~exzarr.storage.retry.RetryPolicy` (obstore's own retries are switched off so that
attempts are not multiplied) and only the throttled or failed items of a batch are
repeated; ``retry_stats`` counts them.  Missing objects read as ``None``; denied access
raises :class:`~exzarr.errors.AccessDeniedError`, exhausted retries
:class:`~exzarr.errors.ThrottledError` or :class:`~exzarr.errors.StorageError`, naming the
store and key.  Every ranged answer is checked against the ``Content-Range`` the server
sent and the object's size: a server that ignores ``Range`` yields the right bytes (the
store slices the whole object and stops asking for ranges) or an error, never wrong bytes.
Reads can be tied to an object's version (``get_tagged`` / ``get_ranges_tagged``: the
ETag, sent back as ``If-Match`` and compared with the answer's), which sharded arrays use
to keep shard indexes.
Writes never create a bucket.  The store pickles by its URL and options and builds a new
client where it is unpickled.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

from ..errors import (AccessDeniedError, ExzarrError, InvalidArgumentError, StorageError,
                      ThrottledError, TransientStorageError, where)
from .base import ByteRange, Store
from .failures import classify
from .io_threads import run_all
from .keys import resolve_range, validate_key, validate_prefix
from .retry import RetryPolicy, RetryStats, call_with_retry, retry_batch

if TYPE_CHECKING:
    from obstore import GetOptions
    from obstore.store import ClientConfig, S3Config, S3Store

__all__ = ["ObstoreStore", "SCHEMES", "s3_config", "serves_by_default"]

#: URL schemes ObstoreStore serves
SCHEMES = ("s3", "s3a")
#: requests in flight per batch unless ``concurrency`` says otherwise
DEFAULT_CONCURRENCY = 32

_MISSING = object()   # an object that does not exist
_RAISE = object()     # _call: no value for a missing object, raise instead
_STALE = object()     # a conditional read of a value that is no longer that version
_SAME = object()      # a read unless changed (If-None-Match) of a value that did not


# -- options ---------------------------------------------------------------------------------
_RENAMED = {"key": "access_key_id", "secret": "secret_access_key", "token": "session_token",
            "region": "region", "region_name": "region", "endpoint_url": "endpoint"}


def s3_config(options: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], int]:
    """obstore ``S3Store`` config, client options and batch concurrency for FsspecStore-style
    S3 ``storage_options``; unknown options raise :class:`InvalidArgumentError`."""
    cfg: dict[str, Any] = {}
    client: dict[str, Any] = {}
    concurrency = DEFAULT_CONCURRENCY
    bad = []
    for name, value in options.items():
        if name in _RENAMED:
            cfg[_RENAMED[name]] = value
        elif name == "anon":
            if value:
                cfg["skip_signature"] = True
        elif name == "requester_pays":
            if value:
                cfg["request_payer"] = True
        elif name == "client_kwargs" and isinstance(value, Mapping):
            for k, v in value.items():
                if k in ("endpoint_url", "region_name"):
                    cfg[_RENAMED[k]] = v
                else:
                    bad.append(f"client_kwargs[{k!r}]")
        elif name == "config" and isinstance(value, Mapping):
            cfg.update(value)
        elif name == "client_options" and isinstance(value, Mapping):
            client.update(value)
        elif name == "concurrency" and isinstance(value, int) and value >= 1:
            concurrency = value
        elif name == "backend" and value == "obstore":
            pass
        else:
            bad.append(repr(name))
    if bad:
        raise InvalidArgumentError(
            f"storage_options {', '.join(bad)} have no equivalent in the obstore back end; it "
            "takes key, secret, token, anon, endpoint_url, region (or region_name, also in "
            "client_kwargs), requester_pays, config (obstore S3Config), client_options "
            "(obstore ClientConfig) and concurrency. Leave out backend='obstore' to use "
            "s3fs (backend='fsspec'), which takes every s3fs option")
    endpoint = str(cfg.get("endpoint", ""))
    if endpoint.startswith("http://"):
        client.setdefault("allow_http", True)
    return cfg, client, concurrency


def _split_s3(url: str) -> tuple[str, str] | None:
    """(scheme, the rest after ``://``) of a URL ObstoreStore serves, else None."""
    scheme, sep, rest = url.partition("://")
    return (scheme, rest) if sep and scheme.lower() in SCHEMES else None


#: storage_options that say where the bucket is: with one of them obstore needs no region
#: discovery (which s3fs does and obstore does not)
_PLACES = ("endpoint", "region")


def serves_by_default(url: str, options: Mapping[str, Any]) -> bool:
    """Whether the default back end (``backend="auto"``) takes ``url`` with ``options``
    to obstore: an ``s3://`` URL, obstore installed, every option one it has (see
    :func:`s3_config`), and nothing s3fs would find that obstore would not, namely

    - where the bucket is: ``endpoint_url`` or ``region`` in the options (s3fs follows a
      bucket to its region, obstore does not);
    - the credentials: given in the options (``key`` and ``secret``, or ``anon``), or
      in ``AWS_ACCESS_KEY_ID``, or no AWS profile (``AWS_PROFILE``, ``~/.aws/credentials``,
      ``~/.aws/config``) that s3fs would read and obstore would not (both then ask the
      same cloud roles).

    Otherwise the fsspec back end (s3fs) serves it, as before."""
    if _split_s3(url) is None:
        return False
    import importlib.util
    if importlib.util.find_spec("obstore") is None:
        return False
    try:
        cfg, _, _ = s3_config(options)
    except InvalidArgumentError:
        return False
    keys = {str(k).lower() for k in cfg}
    if not any(place in k for k in keys for place in _PLACES):
        return False
    if keys & {"access_key_id", "aws_access_key_id", "skip_signature", "aws_skip_signature"} \
            or os.environ.get("AWS_ACCESS_KEY_ID"):
        return True
    return not _aws_profile_in_use()


def _aws_profile_in_use() -> bool:
    """Whether botocore (s3fs) would take credentials from an AWS profile."""
    if os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE"):
        return True
    files = (os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
             os.environ.get("AWS_CONFIG_FILE", "~/.aws/config"))
    return any(os.path.exists(os.path.expanduser(f)) for f in files)


# -- the clients ---------------------------------------------------------------------------
_clients_lock = threading.Lock()
_clients: dict[tuple[int, str, str, str], S3Store] = {}


# -- errors ---------------------------------------------------------------------------------
_OTHER_RANGE = re.compile(r"Requested \d+\.\.\d+, got \d+\.\.\d+")
_STATUS = re.compile(r"status(?: code)?:\s*(\d{3})\b")
_DENIED = ("accessdenied", "invalidaccesskeyid", "signaturedoesnotmatch", "expiredtoken",
           "invalidtoken", "allaccessdisabled")
_THROTTLED = ("slowdown", "slow down", "too many requests", "toomanyrequests", "throttl",
              "requestlimitexceeded", "serverbusy")
_TRANSIENT = ("error sending request", "connection", "timed out", "timeout", "reset by peer",
              "broken pipe", "incomplete", "unexpected eof", "dns error", "body error",
              "error decoding response body")


def _kind(exc: BaseException) -> str:
    """What a failure from obstore means: one of failures.KINDS.  obstore's messages are a
    summary line (with the server's answer), then a debug dump of the Rust error that
    holds the HTTP ``status: NNN`` (and words such as ``retry_timeout`` that mean nothing)."""
    if isinstance(exc, (FileNotFoundError, NotADirectoryError, IsADirectoryError)):
        return "missing"
    if isinstance(exc, ExzarrError):
        return classify(exc)
    name = type(exc).__name__
    if name == "NotFoundError":
        return "missing"
    if name in ("PermissionDeniedError", "UnauthenticatedError"):
        return "denied"
    text = str(exc)
    head = text.split("\n\nDebug source:", 1)[0].lower()
    m = _STATUS.search(text)
    status = int(m.group(1)) if m else None
    if status in (401, 403) or any(c in head for c in _DENIED):
        return "denied"
    if status in (429, 503) or any(w in head for w in _THROTTLED):
        return "throttled"
    if status == 404:
        return "missing"
    if status is not None:
        return "transient" if status >= 500 or status == 408 else "other"
    if any(w in head for w in _TRANSIENT):  # no answer at all: connection, timeout
        return "transient"
    return classify(exc)


def _answered(exc: BaseException, error: str, status: int) -> bool:
    """Whether obstore's ``exc`` is the server's ``status`` answer: obstore's exception
    class named ``error``, or that status in the message."""
    if type(exc).__name__ == error:
        return True
    m = _STATUS.search(str(exc))
    return m is not None and int(m.group(1)) == status


def _precondition_failed(exc: BaseException) -> bool:
    """Whether obstore's ``exc`` is the server's 412 answer to an ``If-Match`` read."""
    return _answered(exc, "PreconditionError", 412)


def _not_modified(exc: BaseException) -> bool:
    """Whether obstore's ``exc`` is the server's 304 answer to an ``If-None-Match`` read."""
    return _answered(exc, "NotModifiedError", 304)


class ObstoreStore(Store):
    """Keys under ``s3://bucket/path`` through obstore.

    ``retry`` sets the retry policy for throttled/transient failures (``retry_stats`` counts
    them); ``storage_options`` are described in the module documentation.
    """

    high_latency = True
    threaded_gets = True
    supports_tagged_reads = True
    revalidates = True

    def __init__(self, url: str, path: str | None = None,
                 storage_options: Mapping[str, Any] | None = None, read_only: bool = False, *,
                 retry: RetryPolicy | None = None) -> None:
        super().__init__(read_only=read_only)
        split = _split_s3(url)
        if split is None:
            raise InvalidArgumentError(
                f"the obstore back end serves {', '.join(s + '://' for s in SCHEMES)} URLs, not "
                f"{url!r}; leave out backend='obstore' for other URLs", store=url)
        scheme, rest = split
        bucket, _, root = rest.strip("/").partition("/")
        if not bucket:
            raise InvalidArgumentError(f"{url!r} names no bucket (s3://bucket/path)", store=url)
        root = "/".join(p for p in f"{root}/{path or ''}".split("/") if p)
        self.bucket, self.root = bucket, root
        self._url = f"{scheme}://{bucket}" + (f"/{root}" if root else "")
        self._options = dict(storage_options or {})
        self._config, self._client_options, self.concurrency = s3_config(self._options)
        self.requests_in_flight = self.concurrency
        self.retry_policy = retry if retry is not None else RetryPolicy()
        self.retry_stats = RetryStats()
        #: None: not known yet; True: the server honours ranges; False: it ignores them
        self._ranges: bool | None = None
        self._suffix_ok = True
        self._client = self._make_client()

    def _make_client(self) -> S3Store:
        try:
            from obstore.store import S3Store
        except ImportError as exc:
            raise StorageError(
                f"cannot open {self._url!r} with the obstore back end: the obstore package is "
                f"not installed ({exc}); pip install obstore (or exzarr[cloud]), or leave out "
                "backend='obstore' to use s3fs", store=self._url) from exc
        # one client (connection pool) per bucket and configuration in a process, as
        # fsspec caches filesystems: building one takes milliseconds (TLS roots)
        ident = (os.getpid(), self.bucket, repr(sorted(self._config.items())),
                 repr(sorted(self._client_options.items())))
        with _clients_lock:
            client = _clients.get(ident)
            if client is None:
                try:
                    client = S3Store(self.bucket, config=cast("S3Config", self._config),
                                     client_options=cast("ClientConfig", self._client_options),
                                     retry_config={"max_retries": 0})
                except Exception as exc:  # unknown config keys, bad values
                    raise InvalidArgumentError(
                        f"obstore refused the configuration of {self._url!r} "
                        f"({type(exc).__name__}: {exc}); check storage_options",
                        store=self._url) from exc
                _clients[ident] = client
        return client

    def __copy__(self) -> ObstoreStore:  # views (with_read_only) share the client
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_client"]
        return state

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self.__dict__.update(state)
        self._client = self._make_client()

    @property
    def url(self) -> str:
        return self._url

    @property
    def tag_scope(self) -> str:
        # the bucket's URL and the server: two endpoints may serve one bucket name
        return f"{self._url} at {self._config.get('endpoint', '')} {self._config.get('region', '')}"

    def _path(self, key: str) -> str:
        validate_key(key, self)
        return f"{self.root}/{key}" if self.root else key

    # -- calling obstore ------------------------------------------------------------------
    def _error(self, exc: BaseException, key: str | None, action: str) -> BaseException:
        """The exzarr exception for a failure (a missing object stays FileNotFoundError)."""
        if isinstance(exc, ExzarrError):
            return exc
        kind = _kind(exc)
        loc = where(self, key)
        first = str(exc).split("\n\nDebug source:", 1)[0].strip()  # obstore appends a dump
        detail = f"{type(exc).__name__}: {first}"
        detail = detail if len(detail) <= 400 else detail[:400] + "..."
        if kind == "missing":
            return exc if isinstance(exc, FileNotFoundError) else FileNotFoundError(detail)
        if kind == "denied":
            return AccessDeniedError(
                f"access denied to {action} {loc} ({detail}); check the credentials, the region "
                "and the permissions of the account, and pass them with storage_options= (key/"
                "secret or token, or the AWS_* environment variables)", store=self, key=key)
        if kind == "throttled":
            return ThrottledError(
                f"the server throttled the {action} of {loc} ({detail}); retry later, lower "
                "the request concurrency or raise RetryPolicy.max_attempts", store=self, key=key)
        if kind == "transient":
            return TransientStorageError(
                f"transient failure during {action} of {loc} ({detail}); the request may "
                "succeed if repeated: check the network/endpoint_url or raise "
                "RetryPolicy.max_attempts", store=self, key=key)
        hint = ("the bucket is in another region: pass storage_options={'region': ...}"
                if "region" in detail.lower() else
                "check that the store URL, bucket and storage_options are right and that the "
                "server is reachable")
        return StorageError(f"failed to {action} {loc} ({detail}); {hint}", store=self, key=key)

    def _mapped(self, exc: BaseException, key: str | None, action: str) -> BaseException:
        """:meth:`_error` of ``exc``, caused by it where it is another exception."""
        err = self._error(exc, key, action)
        if err is not exc:
            err.__cause__ = exc
        return err

    def _call(self, fn: Callable[[], Any], key: str | None, action: str,
              missing: object = _RAISE) -> Any:
        """``fn()`` under the retry policy; a missing object returns ``missing`` if given.
        The first attempt is made straight (a chunk read on one of many threads pays each
        Python step with cold caches); a failed one goes on under the policy, as its first
        attempt."""
        try:
            return fn()
        except Exception as exc:
            failed = self._mapped(exc, key, action)

        def attempt() -> Any:
            try:
                return fn()
            except Exception as exc:
                raise self._mapped(exc, key, action)
        try:
            return call_with_retry(attempt, policy=self.retry_policy, stats=self.retry_stats,
                                   store=self, key=key, action=action, failed=failed)
        except FileNotFoundError as exc:
            if missing is _RAISE:
                raise StorageError(f"nothing found to {action} at {where(self, key)} ({exc})",
                                   store=self, key=key) from exc
            return missing

    def _batch(self, calls: list[Callable[[], Any]], keys: list[str], action: str) -> list[Any]:
        """Run the blocking calls side by side (``concurrency`` at a time); retry
        throttled/transient items under the policy.  Items are results, ``_MISSING`` or
        (other failures) exzarr exceptions."""
        def run(pending: list[int]) -> list[Any]:
            return run_all([calls[i] for i in pending], self.concurrency)

        def judge(i: int, r: BaseException) -> tuple[Any, BaseException | None]:
            err = self._error(r, keys[i], action)
            if isinstance(err, FileNotFoundError):
                return _MISSING, None
            return err, err

        return retry_batch(len(calls), run, judge, policy=self.retry_policy,
                           stats=self.retry_stats, store=self, keys=keys, action=action)

    # -- reads ------------------------------------------------------------------------------
    def _get_sync(self, path: str, opts: GetOptions | None) -> tuple[tuple[int, int], int, Any]:
        rng, size, body, _ = self._get_sync_tagged(path, opts)
        return rng, size, body

    def _getter(self, path: str, opts: GetOptions | None) -> Callable[[], Any]:
        return lambda: self._get_sync(path, opts)

    def _size(self, key: str, path: str) -> int | None:
        import obstore as obs
        meta = self._call(lambda: obs.head(self._client, path), key, "stat", missing=None)
        return None if meta is None else int(meta["size"])

    def _body(self, key: str, path: str) -> Any:
        """The whole value in obstore's buffer, or None where there is none."""
        import obstore as obs
        # the body alone: no range, size or metadata dict (with its datetime) to build
        return self._call(lambda: obs.get(self._client, path).bytes(), key, "read", missing=None)

    def _whole(self, key: str, path: str) -> bytes | None:
        got = self._body(key, path)
        return None if got is None else bytes(got)

    def get(self, key: str, byte_range: ByteRange | None = None) -> bytes | None:
        path = self._path(key)
        if byte_range is None or (byte_range[0] == 0 and byte_range[1] is None):
            return self._whole(key, path)
        return self._get_range(key, path, byte_range[0], byte_range[1])

    def get_buffer(self, key: str) -> memoryview | None:
        """The whole value as a read-only view of obstore's buffer (no copy)."""
        got = self._body(key, self._path(key))
        return None if got is None else memoryview(got)

    def get_buffer_tagged(self, key: str) -> tuple[memoryview | None, str | None]:
        """:meth:`get_buffer` and the object's ETag (one request)."""
        path = self._path(key)
        got = self._call(lambda: self._get_sync_tagged(path, None), key, "read", missing=None)
        return (None, None) if got is None else (memoryview(got[2]), got[3])

    def _range_option(self, start: int, stop: int | None) -> GetOptions | None:
        """The request for ``[start:stop]`` when it needs no size first (else None)."""
        if stop is None:
            if start >= 0:
                return {"range": {"offset": start}}
            return {"range": {"suffix": -start}} if self._suffix_ok else None
        if 0 <= start < stop:
            return {"range": (start, stop)}
        return None

    def _get_range(self, key: str, path: str, start: int, stop: int | None) -> bytes | None:
        if self._ranges is False:
            whole = self._whole(key, path)
            return None if whole is None else whole[start:stop]
        if stop is not None and 0 <= stop <= start:  # empty: only existence matters
            return None if self._size(key, path) is None else b""
        opts = self._range_option(start, stop)
        if opts is None:  # negative offsets: resolve them with the size
            size = self._size(key, path)
            if size is None:
                return None
            start, stop = resolve_range(start, stop, size)
            if stop <= start:
                return b""
            opts = {"range": (start, stop)}
        try:
            got = self._call(lambda: self._get_sync(path, opts), key, "read", missing=_MISSING)
        except (AccessDeniedError, ThrottledError):
            raise
        except StorageError as err:
            return self._range_failed(key, path, start, stop, err)
        if got is _MISSING:
            return None
        return self._checked(key, path, start, stop, *got)

    def _range_failed(self, key: str, path: str, start: int, stop: int | None,
                      err: StorageError) -> bytes | None:
        """A ranged GET failed: past the end or an empty object (416), a server that ignores
        ranges (object_store refuses its whole-object answer), or a real failure."""
        if _kind(err.__cause__ or err) in ("throttled", "transient"):
            raise err  # retries exhausted
        size = self._size(key, path)
        if size is None:
            return None
        a, b = resolve_range(start, stop, size)
        if b <= a:
            return b""
        text = str(err)
        if "non-partial" in text or _OTHER_RANGE.search(text):
            # object_store refused an answer that is not the range asked for: the whole
            # object (the server ignores ranges: stop asking) or other bytes (s3rver answers
            # bytes=0-0 with everything): read the whole value and slice it here
            if "non-partial" in text:
                self._ignored_ranges()
            whole = self._whole(key, path)
            return None if whole is None else whole[a:b]
        if start < 0:  # a suffix the server refused: ask again with offsets
            if -start < size:  # (a suffix longer than the value is an odd request, not a
                self._suffix_ok = False  # sign that the server cannot do suffixes)
            return self._get_range(key, path, a, b)
        raise err

    def _ignored_ranges(self) -> None:
        self._ranges = False
        self.supports_byte_ranges = False

    def _checked(self, key: str, path: str, start: int, stop: int | None,
                 got: tuple[int, int], size: int, body: Any) -> bytes | None:
        """``value[start:stop]`` from an answer covering bytes ``got`` of ``size``; an answer
        that is inconsistent or does not cover the request raises (or, for a miscounted
        suffix, is asked again with offsets)."""
        a, b = resolve_range(start, stop, size)
        g0, g1 = got
        n = len(body)
        if n == g1 - g0 and g0 <= a and b <= g1:
            if (g0, g1) == (a, b):
                if self._ranges is None and b - a != size:
                    self._ranges = True
                return bytes(body)
            if (g0, g1) == (0, size) and self._ranges is None:
                self._ignored_ranges()
            return bytes(memoryview(body)[a - g0:b - g0])
        if start < 0 and self._suffix_ok:  # e.g. s3rver answers bytes=-N with N+1 bytes
            self._suffix_ok = False
            return self._get_range(key, path, a, b)
        raise StorageError(
            f"the server answered the byte range [{start}:{stop}] of {where(self, key)} "
            f"({size} bytes) with {n} bytes said to be [{g0}:{g1}], which does not hold the "
            "range; the server (or a proxy) mishandles Range requests: fix it or read whole "
            "values", store=self, key=key)

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        keys = list(dict.fromkeys(keys))
        if len(keys) <= 1:
            return {k: self.get(k) for k in keys}
        calls = [self._getter(self._path(k), None) for k in keys]
        out: dict[str, bytes | None] = {}
        for k, r in zip(keys, self._batch(calls, keys, "read")):
            if isinstance(r, BaseException):
                raise r
            out[k] = None if r is _MISSING else bytes(r[2])
        return out

    def get_ranges(self, requests: Iterable[tuple[str, ByteRange | None]]) -> list[bytes | None]:
        reqs = [(k, None if r is None or (r[0] == 0 and r[1] is None) else r)
                for k, r in requests]
        if len(reqs) <= 1:
            return [self.get(k, r) for k, r in reqs]
        if self._ranges is False:  # the server ignores ranges: whole values, sliced here
            whole = self.get_many([k for k, _ in reqs])
            sliced: list[bytes | None] = []
            for k, r in reqs:
                v = whole[k]
                sliced.append(v if v is None or r is None else v[r[0]:r[1]])
            return sliced
        out: list[bytes | None] = [None] * len(reqs)
        todo: list[tuple[int, GetOptions | None]] = []
        for i, (k, r) in enumerate(reqs):
            opts = None if r is None else self._range_option(*r)
            if r is not None and opts is None:
                out[i] = self.get(k, r)  # needs the size first, or is empty
            else:
                todo.append((i, opts))
        keys = [reqs[i][0] for i, _ in todo]
        calls = [self._getter(self._path(k), o) for k, (_, o) in zip(keys, todo)]
        for (i, _), k, res in zip(todo, keys, self._batch(calls, keys, "read")):
            rng = reqs[i][1]
            if res is _MISSING:
                out[i] = None
            elif isinstance(res, (AccessDeniedError, ThrottledError)):
                raise res
            elif isinstance(res, BaseException):
                out[i] = self.get(k, rng)  # past the end, empty object: the careful path
            elif rng is None:
                out[i] = bytes(res[2])
            else:
                out[i] = self._checked(k, self._path(k), rng[0], rng[1], *res)
        return out

    # -- reads tied to a version (ETag) ----------------------------------------------
    def get_tagged(self, key: str,
                   byte_range: ByteRange | None = None) -> tuple[bytes | None, str | None]:
        path = self._path(key)
        opts = None if byte_range is None else self._range_option(*byte_range)
        if byte_range is not None and (opts is None or self._ranges is False):
            return self.get(key, byte_range), None
        try:
            got = self._call(lambda: self._get_sync_tagged(path, opts), key, "read",
                             missing=_MISSING)
        except (AccessDeniedError, ThrottledError):
            raise
        except StorageError:
            return self.get(key, byte_range), None  # the careful path tells what went wrong
        if got is _MISSING:
            return None, None
        rng, size, body, tag = got
        if byte_range is None:
            return bytes(body), tag
        start, stop = byte_range
        a, b = resolve_range(start, stop, size)
        exact = tuple(rng) == (a, b) and len(body) == b - a
        value = self._checked(key, path, start, stop, rng, size, body)
        return value, tag if exact else None  # (an inexact answer may be asked again, untagged)

    def get_ranges_tagged(self, key: str, ranges: list[tuple[int, int]],
                          tag: str) -> list[bytes] | None:
        if any(not 0 <= a < b for a, b in ranges):
            raise InvalidArgumentError(f"get_ranges_tagged({key!r}) takes ranges [start, stop) "
                                       f"with 0 <= start < stop, not {ranges}")
        path = self._path(key)
        options: list[GetOptions] = [{"range": r, "if_match": tag} for r in ranges]
        if len(options) == 1:
            results = [self._call(lambda: self._if_current_sync(path, options[0], tag), key,
                                  "read", missing=_MISSING)]
        else:
            calls = [self._if_current(path, o, tag) for o in options]
            results = self._batch(calls, [key] * len(calls), "read")
        out = []
        for (a, b), res in zip(ranges, results):
            if res is _MISSING or res is _STALE:
                return None
            if isinstance(res, BaseException):
                raise res
            value = self._checked(key, path, a, b, *res)
            assert value is not None
            out.append(value)
        return out

    def _get_sync_tagged(self, path: str,
                         opts: GetOptions | None) -> tuple[tuple[int, int], int, Any, str | None]:
        import obstore as obs
        r = obs.get(self._client, path, options=opts)
        meta = r.meta  # (a new dict at every access)
        return r.range, meta["size"], r.bytes(), meta.get("e_tag")

    def _if_current_sync(self, path: str, opts: GetOptions, tag: str) -> Any:
        try:
            rng, size, body, etag = self._get_sync_tagged(path, opts)
        except Exception as exc:
            if _precondition_failed(exc):
                return _STALE
            raise
        if etag != tag:  # a server that ignores If-Match
            return _STALE
        return rng, size, body

    def _if_current(self, path: str, opts: GetOptions, tag: str) -> Callable[[], Any]:
        return lambda: self._if_current_sync(path, opts, tag)

    def get_unless(self, key: str, tag: str) -> tuple[bytes | None, str | None] | None:
        path = self._path(key)
        got = self._call(lambda: self._unless_sync(path, tag), key, "read", missing=_MISSING)
        if got is _SAME:
            return None
        if got is _MISSING:
            return None, None
        body, new = got
        return bytes(body), new

    def _unless_sync(self, path: str, tag: str) -> Any:
        try:
            _, _, body, new = self._get_sync_tagged(path, {"if_none_match": tag})
        except Exception as exc:
            if _not_modified(exc):
                return _SAME
            raise
        return body, new

    def exists(self, key: str) -> bool:
        return self._size(key, self._path(key)) is not None

    def getsize(self, key: str) -> int | None:
        return self._size(key, self._path(key))

    # -- writes -----------------------------------------------------------------------------
    def _no_bucket(self, exc: BaseException) -> StorageError:
        return StorageError(
            f"cannot write {where(self)}: the bucket {self.bucket!r} does not exist (or is not "
            "visible with these credentials); create it first — exzarr never creates buckets",
            store=self)

    def _set(self, key: str, value: bytes) -> None:
        import obstore as obs
        path = self._path(key)
        try:
            self._call(lambda: obs.put(self._client, path, value), key, "write")
        except StorageError as err:
            if isinstance(err.__cause__, FileNotFoundError):
                raise self._no_bucket(err) from err
            raise

    def set_many(self, items: Mapping[str, bytes]) -> None:
        import obstore as obs
        self.check_writable()
        keys = list(items)
        if len(keys) <= 1:
            for k in keys:
                self.set(k, items[k])
            return
        client = self._client

        def put(path: str, value: bytes) -> Callable[[], Any]:
            return lambda: obs.put(client, path, value)
        calls = [put(self._path(k), bytes(items[k])) for k in keys]
        for r in self._batch(calls, keys, "write"):
            if r is _MISSING:
                raise self._no_bucket(FileNotFoundError())
            if isinstance(r, BaseException):
                raise r

    def _delete(self, key: str) -> None:
        import obstore as obs
        path = self._path(key)
        self._call(lambda: obs.delete(self._client, path), key, "delete", missing=None)

    def delete_many(self, keys: Iterable[str]) -> None:
        import obstore as obs
        self.check_writable()
        paths = [self._path(k) for k in keys]
        if not paths:
            return
        if self._call(lambda: obs.delete(self._client, paths), None, "delete",
                      missing=_MISSING) is _MISSING:
            for k in paths:  # a back end that refuses missing keys in a bulk delete
                self._delete(k)

    def delete_prefix(self, prefix: str) -> None:
        self.check_writable(prefix)
        keys = list(self.list_prefix(prefix))
        if keys:
            self.delete_many(keys)

    # -- listing ----------------------------------------------------------------------------
    def _find(self, sub: str) -> list[str]:
        import obstore as obs

        top = "/".join(p for p in (self.root, sub) if p)
        cut = len(self.root) + 1 if self.root else 0

        def run() -> list[str]:
            return [m["path"][cut:] for m in obs.list(self._client, top or None).collect()]
        return self._call(run, sub or None, "list", missing=[])

    def list(self) -> Iterator[str]:
        return iter(self._find(""))

    def list_prefix(self, prefix: str) -> Iterator[str]:
        validate_prefix(prefix, self)
        head = prefix.rpartition("/")[0]  # obstore lists whole path segments
        return iter([k for k in self._find(head) if k.startswith(prefix)])

    def list_dir(self, prefix: str) -> Iterator[str]:
        import obstore as obs
        validate_prefix(prefix, self)
        sub = prefix.rstrip("/")
        top = "/".join(p for p in (self.root, sub) if p)
        res = self._call(lambda: obs.list_with_delimiter(self._client, top or None),
                         sub or None, "list", missing=None)
        if res is None:
            return iter([])
        paths = list(res["common_prefixes"]) + [m["path"] for m in res["objects"]]
        return iter([p.rstrip("/").rpartition("/")[2] for p in paths])
