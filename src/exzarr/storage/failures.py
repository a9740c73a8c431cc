"""Classify the exceptions raised by storage back ends and map them onto exzarr errors.

Client libraries disagree on how they report the same condition: s3fs raises
``OSError(errno.EBUSY)`` for ``SlowDown``, aiohttp a ``ClientResponseError`` with
``.status == 429``, azure-core an ``HttpResponseError`` with ``.status_code``, gcsfs an
``HttpError`` with ``.code``, botocore a ``ClientError`` with a ``response`` dict.
:func:`classify` looks at an exception (and its ``__cause__``/``__context__`` chain)
without importing any of those libraries and answers one of :data:`KINDS`;
:func:`to_storage_error` turns it into the matching exzarr exception, whose message says
what failed, where and what to do.
"""

from __future__ import annotations

import errno

from ..errors import (AccessDeniedError, ExzarrError, StorageError, ThrottledError,
                      TransientStorageError, where)

__all__ = ["TransientStorageError", "classify", "to_storage_error", "KINDS"]

#: what :func:`classify` can answer
KINDS = ("missing", "denied", "throttled", "transient", "other")


_THROTTLE_WORDS = ("slowdown", "slow down", "throttl", "toomanyrequests", "too many requests",
                   "requestlimitexceeded", "rate limit", "ratelimit", "serverbusy")
_DENIED_CODES = ("accessdenied", "invalidaccesskeyid", "signaturedoesnotmatch", "forbidden",
                 "authorizationfailure", "authenticationfailed", "expiredtoken",
                 "invalidtoken", "allaccessdisabled", "authorizationpermissionmismatch")
_TRANSIENT_NAMES = ("timeout", "connection", "disconnected", "serverdisconnected",
                    "incompleteread", "protocolerror", "readerror", "endpointconnection")


def _status_of(exc: BaseException) -> int | None:
    for attr in ("status", "status_code", "code", "http_status"):
        v = getattr(exc, attr, None)
        if isinstance(v, int) and 100 <= v <= 599:
            return v
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):  # botocore ClientError
        v = resp.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if isinstance(v, int):
            return v
    return None


def _code_of(exc: BaseException) -> str:
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return str(resp.get("Error", {}).get("Code", "")).lower()
    v = getattr(exc, "error_code", None)  # azure-core
    return str(v).lower() if v else ""


def _classify_one(exc: BaseException) -> str | None:
    if isinstance(exc, (FileNotFoundError, IsADirectoryError, NotADirectoryError)):
        return "missing"
    if isinstance(exc, ThrottledError):
        return "throttled"
    if isinstance(exc, TransientStorageError):
        return "transient"
    if isinstance(exc, AccessDeniedError):
        return "denied"
    if isinstance(exc, ExzarrError):
        return "other"
    status = _status_of(exc)
    code = _code_of(exc)
    text = f"{code} {exc}".lower()
    if status in (401, 403) or isinstance(exc, PermissionError) or any(c in code for c in _DENIED_CODES):
        return "denied"
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM):
        return "denied"
    if status == 404:
        return "missing"
    if status in (429, 503) or any(w in text for w in _THROTTLE_WORDS):
        return "throttled"
    if isinstance(exc, OSError) and exc.errno == errno.EBUSY:
        return "throttled"
    if status in (500, 502, 504, 408):
        return "transient"
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return "transient"
    names = " ".join(t.__name__.lower() for t in type(exc).__mro__)
    if any(n in names for n in _TRANSIENT_NAMES):
        return "transient"
    return None


def classify(exc: BaseException) -> str:
    """One of :data:`KINDS` for ``exc``, looking through its cause/context chain."""
    seen = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        kind = _classify_one(cur)
        if kind is not None:
            return kind
        cur = cur.__cause__ or cur.__context__
    return "other"


def to_storage_error(exc: BaseException, store: object, key: str | None,
                     action: str) -> ExzarrError:
    """The exzarr exception for a failed ``action`` ("read", "write", ...) at ``key``.

    exzarr exceptions are returned unchanged.  ``missing`` maps to a
    :class:`StorageError` with ``errno.ENOENT`` (callers that treat a missing key as
    ``None`` check :func:`classify` first).
    """
    if isinstance(exc, ExzarrError):
        return exc
    kind = classify(exc)
    loc = where(store, key)
    detail = f"{type(exc).__name__}: {exc}"
    if len(detail) > 300:
        detail = detail[:300] + "..."
    if kind == "denied":
        return AccessDeniedError(
            f"access denied to {action} {loc} ({detail}); check the credentials, the region "
            "and the permissions of the account, and pass them with storage_options= "
            "(e.g. key/secret or profile for s3, token for gcs, account_name/credential "
            "or connection_string for az)", store=store, key=key)
    if kind == "throttled":
        return ThrottledError(
            f"the server throttled the {action} of {loc} ({detail}); retry later, lower the "
            "request concurrency or raise RetryPolicy.max_attempts", store=store, key=key)
    if kind == "transient":
        return TransientStorageError(
            f"transient failure during {action} of {loc} ({detail}); the request may "
            "succeed if repeated: check the network/endpoint or raise RetryPolicy.max_attempts",
            store=store, key=key)
    if kind == "missing":
        err = StorageError(f"nothing found to {action} at {loc} ({detail})", store=store, key=key)
        err.errno = errno.ENOENT
        return err
    return StorageError(
        f"failed to {action} {loc} ({detail}); check that the store URL, bucket/container "
        "and storage_options are right and that the server is reachable", store=store, key=key)
