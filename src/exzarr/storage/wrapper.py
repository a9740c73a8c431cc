"""``WrapperStore``: the base of stores that wrap another store (retry, cache).

It takes the inner store's capability flags, ``url`` and read-only state, and passes
listing, ``serial_now``, ``write_batch`` and ``close`` through; subclasses override what
they change.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Self

from .base import Store

__all__ = ["WrapperStore"]


class WrapperStore(Store):
    def __init__(self, inner: Store) -> None:
        super().__init__(read_only=inner.read_only)
        self.inner = inner
        self.supports_writes = inner.supports_writes
        self.supports_deletes = inner.supports_deletes
        self.supports_listing = inner.supports_listing
        self.supports_byte_ranges = inner.supports_byte_ranges
        self.high_latency = inner.high_latency
        self.requests_in_flight = inner.requests_in_flight
        self.threaded_gets = inner.threaded_gets

    @property
    def url(self) -> str:
        return self.inner.url

    def list(self) -> Iterator[str]:
        return self.inner.list()

    def list_prefix(self, prefix: str) -> Iterator[str]:
        return self.inner.list_prefix(prefix)

    def list_dir(self, prefix: str) -> Iterator[str]:
        return self.inner.list_dir(prefix)

    def serial_now(self) -> bool:
        return self.inner.serial_now()

    def write_batch(self, prefix: str = "") -> contextlib.AbstractContextManager[None]:
        return self.inner.write_batch(prefix)

    def close(self) -> None:
        self.inner.close()

    def with_read_only(self, read_only: bool = True) -> Self:
        s = super().with_read_only(read_only)
        s.inner = self.inner.with_read_only(read_only)
        return s
