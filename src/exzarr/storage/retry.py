"""Bounded retries with exponential backoff and jitter for throttled / transient failures.

:class:`RetryPolicy` says how often and how long to retry; :class:`RetryStats` counts what
happened (exposed as ``store.retry_stats``); :func:`call_with_retry` runs one operation
under a policy; :class:`RetryingStore` wraps any :class:`~exzarr.storage.base.Store` so
that every operation on it is retried (``FsspecStore`` retries by itself).

Only failures that :func:`~exzarr.storage.failures.classify` calls ``throttled`` or
``transient`` are retried, and only those whose mapped exzarr exception is an instance of
``policy.retry_on``: a missing key, denied access or a bad request is never retried.
When the attempts run out the last failure is raised as :class:`~exzarr.errors.ThrottledError`
(throttling) or :class:`~exzarr.errors.StorageError` (anything else) and the message says
how many attempts were made.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..errors import StorageError, ThrottledError, where
from .base import ByteRange, Store
from .failures import TransientStorageError, classify, to_storage_error
from .wrapper import WrapperStore

__all__ = ["RetryPolicy", "RetryStats", "RetryingStore", "call_with_retry", "retry_batch",
           "NO_RETRY"]

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How to retry throttled and transient storage failures.

    ``max_attempts`` counts the first try (1 disables retries).  The wait before retry
    ``n`` (1-based) is ``min(max_delay, base_delay * 2 ** (n - 1))`` seconds; with
    ``jitter`` it is drawn uniformly from ``[delay / 2, delay]`` so many clients that
    were throttled together do not come back together.  ``retry_on`` lists the exzarr
    exception classes (after mapping) that are retried.
    """

    max_attempts: int = 5
    base_delay: float = 0.05
    max_delay: float = 2.0
    jitter: bool = True
    retry_on: tuple[type[BaseException], ...] = (ThrottledError, TransientStorageError)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"RetryPolicy.max_attempts must be >= 1, got {self.max_attempts}")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("RetryPolicy delays must be >= 0")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        d = min(self.max_delay, self.base_delay * (2 ** (retry - 1)))
        return random.uniform(d / 2, d) if self.jitter else d

    def should_retry(self, err: BaseException) -> bool:
        return isinstance(err, self.retry_on)


#: a policy that never retries
NO_RETRY = RetryPolicy(max_attempts=1)


@dataclass
class RetryStats:
    """Thread-safe counters of retried and failed operations."""

    retries: int = 0        #: requests repeated after a retryable failure
    throttled: int = 0      #: retryable failures that were throttling
    transient: int = 0      #: retryable failures that were transient (5xx, timeouts, ...)
    gave_up: int = 0        #: operations that failed after exhausting the attempts
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, err: BaseException) -> None:
        with self._lock:
            self.retries += 1
            if isinstance(err, ThrottledError):
                self.throttled += 1
            else:
                self.transient += 1

    def record_give_up(self) -> None:
        with self._lock:
            self.gave_up += 1

    def reset(self) -> None:
        with self._lock:
            self.retries = self.throttled = self.transient = self.gave_up = 0

    def __getstate__(self) -> dict[str, int]:
        return self.as_dict()

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        RetryStats.__init__(self, **state)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {"retries": self.retries, "throttled": self.throttled,
                    "transient": self.transient, "gave_up": self.gave_up}


def exhausted_error(err: BaseException, attempts: int, store: object, key: str | None,
                    action: str) -> StorageError:
    """The error raised when ``attempts`` tries of ``action`` all failed with ``err``."""
    loc = where(store, key)
    cls = ThrottledError if isinstance(err, ThrottledError) else StorageError
    what = "throttled" if cls is ThrottledError else "failed"
    return cls(
        f"{action} of {loc} {what} {attempts} time(s) in a row, giving up (last error: "
        f"{err}); wait and try again, lower the number of concurrent requests, or allow "
        "more attempts with RetryPolicy(max_attempts=...)", store=store, key=key)


def retry_batch(n: int, run: Callable[[list[int]], Sequence[Any]],
                judge: Callable[[int, BaseException], tuple[Any, BaseException | None]], *,
                policy: RetryPolicy, stats: RetryStats, store: object, keys: Sequence[str],
                action: str, sleep: Callable[[float], None] = time.sleep) -> list[Any]:
    """Items ``0 .. n-1`` fetched together, retrying only the failed ones.

    ``run(pending)`` returns one result per pending index (a failure as its exception
    object).  ``judge(i, exc)`` says what a failure is: ``(value, None)`` makes ``value``
    the item's result; ``(value, err)`` retries it (all such items again, after the
    policy's delay) when ``policy.should_retry(err)``, else the result is ``value``.
    When the attempts run out the first retried item's error is raised, as
    :func:`exhausted_error` says.
    """
    out: list[Any] = [None] * n
    pending = list(range(n))
    attempt = 1
    while pending:
        retry: list[tuple[int, BaseException, BaseException]] = []
        for i, r in zip(pending, run(pending)):
            if not isinstance(r, BaseException):
                out[i] = r
                continue
            value, err = judge(i, r)
            if err is not None and policy.should_retry(err):
                retry.append((i, err, r))
            else:
                out[i] = value
        if not retry:
            break
        if attempt >= policy.max_attempts:
            stats.record_give_up()
            i, err, raw = retry[0]
            raise exhausted_error(err, attempt, store, keys[i], action) from raw
        for _, err, _ in retry:
            stats.record(err)
        sleep(policy.delay(attempt))
        attempt += 1
        pending = [i for i, _, _ in retry]
    return out


def call_with_retry(fn: Callable[[], T], *, policy: RetryPolicy, stats: RetryStats | None,
                    store: object = None, key: str | None = None, action: str = "access",
                    sleep: Callable[[float], None] = time.sleep,
                    failed: BaseException | None = None) -> T:
    """Run ``fn()``; retry it under ``policy`` while it fails with a retryable error.

    Raw exceptions from client libraries are mapped with
    :func:`~exzarr.storage.failures.to_storage_error` before deciding; non-retryable
    failures propagate unchanged (so callers can still see ``FileNotFoundError``).
    ``failed``: the error of a first attempt the caller already made itself (a store's
    fast path): it counts as attempt 1, judged as if ``fn()`` had raised it.
    """
    attempt = 1
    while True:
        try:
            if failed is not None:
                first, failed = failed, None
                raise first
            return fn()
        except Exception as exc:  # noqa: BLE001 - classified below
            kind = classify(exc)
            if kind not in ("throttled", "transient"):
                raise
            err = to_storage_error(exc, store, key, action)
            if not policy.should_retry(err):
                raise err from exc
            if attempt >= policy.max_attempts:
                if stats is not None:
                    stats.record_give_up()
                raise exhausted_error(err, attempt, store, key, action) from exc
            if stats is not None:
                stats.record(err)
            sleep(policy.delay(attempt))
            attempt += 1


class RetryingStore(WrapperStore):
    """Wrap ``inner`` so that every operation is retried under ``policy``.

    ``store.retry_stats`` counts the retries.  Capability flags, ``url`` and ``close``
    are those of ``inner``.
    """

    def __init__(self, inner: Store, policy: RetryPolicy | None = None, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(inner)
        self.policy = policy if policy is not None else RetryPolicy()
        self.retry_stats = RetryStats()
        self._sleep = sleep

    def _retry(self, fn: Callable[[], T], key: str | None = None, action: str = "access") -> T:
        return call_with_retry(fn, policy=self.policy, stats=self.retry_stats, store=self,
                               key=key, action=action, sleep=self._sleep)

    def get(self, key: str, byte_range: ByteRange | None = None) -> bytes | None:
        return self._retry(lambda: self.inner.get(key, byte_range), key, "read")

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        keys = list(keys)
        return self._retry(lambda: self.inner.get_many(keys), None, "read")

    def get_ranges(self, requests: Iterable[tuple[str, ByteRange | None]]) -> list[bytes | None]:
        requests = list(requests)
        return self._retry(lambda: self.inner.get_ranges(requests), None, "read")

    def exists(self, key: str) -> bool:
        return self._retry(lambda: self.inner.exists(key), key, "check")

    def getsize(self, key: str) -> int | None:
        return self._retry(lambda: self.inner.getsize(key), key, "stat")

    def _set(self, key: str, value: bytes) -> None:
        self._retry(lambda: self.inner.set(key, value), key, "write")

    def set_many(self, items: Mapping[str, bytes]) -> None:
        self.check_writable()
        items = dict(items)
        self._retry(lambda: self.inner.set_many(items), None, "write")

    def _delete(self, key: str) -> None:
        self._retry(lambda: self.inner.delete(key), key, "delete")

    def delete_prefix(self, prefix: str) -> None:
        self.check_writable(prefix)
        self._retry(lambda: self.inner.delete_prefix(prefix), prefix, "delete")

    def list(self) -> Iterator[str]:
        return iter(self._retry(lambda: list(self.inner.list()), None, "list"))

    def list_prefix(self, prefix: str) -> Iterator[str]:
        return iter(self._retry(lambda: list(self.inner.list_prefix(prefix)), prefix, "list"))

    def list_dir(self, prefix: str) -> Iterator[str]:
        return iter(self._retry(lambda: list(self.inner.list_dir(prefix)), prefix, "list"))


