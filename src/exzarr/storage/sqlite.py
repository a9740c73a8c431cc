"""SQLite store: ``sqlite:///abs/path.db``.

One table ``zarr(key TEXT PRIMARY KEY, value BLOB)`` in WAL mode with a busy timeout:
any number of readers and one writer at a time, across threads and processes.  Every
``set``/``delete`` is its own transaction; ``with store.transaction():`` groups writes so
that all of them land or none does (a crash or an exception inside the block leaves the
database as it was before it).  Byte ranges are read with ``substr`` so only the
requested bytes leave the database.

Each thread (and each process, after ``fork``) gets its own connection; a transaction
belongs to the thread that opened it.  Writers in other threads/processes wait (up to
``timeout`` seconds) for it to finish.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from ..errors import AccessDeniedError, StorageError, ThrottledError, where
from .base import ByteRange, Store
from .keys import InvalidKeyError, validate_key, validate_prefix

__all__ = ["SQLiteStore"]

TABLE = "zarr"

_RANGE_SQL = f"""
SELECT substr(value, s + 1, max(e - s, 0)) FROM (
  SELECT value,
    CASE WHEN :a < 0 THEN max(length(value) + :a, 0) ELSE min(:a, length(value)) END AS s,
    CASE WHEN :b IS NULL THEN length(value)
         WHEN :b < 0 THEN max(length(value) + :b, 0) ELSE min(:b, length(value)) END AS e
  FROM {TABLE} WHERE key = :k)
"""


#: SQLite integers are 64-bit; a blob is < 2**31 bytes, so clamping range offsets to
#: +-2**62 changes no result and keeps huge offsets (a corrupt shard index) bindable
_RANGE_LIMIT = 1 << 62


def _clamp(v: int | None) -> int | None:
    return None if v is None else max(-_RANGE_LIMIT, min(_RANGE_LIMIT, int(v)))


def _prefix_bounds(prefix: str) -> tuple[str, str | None]:
    """``lo <= key < hi`` selects exactly the keys starting with ``prefix`` (hi None: no bound)."""
    if not prefix:
        return "", None
    last = ord(prefix[-1])
    if last >= 0x10FFFF:
        return prefix, None
    return prefix, prefix[:-1] + chr(last + 1)


class SQLiteStore(Store):
    """Keys and values in one SQLite table; use ``transaction()`` for atomic groups."""

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False,
                 timeout: float = 30.0) -> None:
        super().__init__(read_only=read_only)
        self.path = Path(os.path.abspath(os.fspath(path)))
        self.timeout = timeout
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        if read_only and not self.path.is_file():
            raise StorageError(f"no SQLite database at {str(self.path)!r}; check the path, or "
                               "open it writable to create it", store=self)
        self._conn()  # create the file and table now: fail early on a bad path

    @property
    def url(self) -> str:
        return f"sqlite://{self.path.as_posix()}"

    def __copy__(self) -> Self:  # views (with_read_only) share the open resources
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "read_only": self.read_only, "timeout": self.timeout}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        SQLiteStore.__init__(self, state["path"], read_only=state["read_only"], timeout=state["timeout"])

    # -- connections ----------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        loc = self._local
        conn = getattr(loc, "conn", None)
        if conn is not None and loc.pid == os.getpid():
            return conn
        if self._closed:
            raise StorageError(f"the SQLite store is closed ({where(self)}); open it again",
                               store=self)
        try:
            if not self.path.parent.is_dir():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None,
                                   check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            if not self.read_only:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} "
                             "(key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL)")
        except sqlite3.Error as exc:
            raise self._fail(exc, None, "open") from exc
        loc.conn, loc.pid, loc.depth = conn, os.getpid(), 0
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    def _fail(self, exc: Exception, key: str | None, action: str) -> StorageError:
        msg = str(exc).lower()
        if "locked" in msg or "busy" in msg:
            return ThrottledError(
                f"the SQLite database stayed locked for {self.timeout} s while trying to "
                f"{action} {where(self, key)} ({exc}); another process holds a long write "
                "transaction: retry, or open the store with a larger timeout=", store=self, key=key)
        if "readonly" in msg or "permission" in msg or "unable to open" in msg:
            return AccessDeniedError(
                f"cannot {action} {where(self, key)} ({exc}); check that the database file "
                "and its directory are writable (WAL mode creates -wal/-shm files beside it)",
                store=self, key=key)
        if "no such table" in msg:
            return StorageError(f"{where(self, key)} is not an exzarr SQLite store (no table "
                                f"{TABLE!r}); check the path", store=self, key=key)
        return StorageError(f"failed to {action} {where(self, key)} ({exc})", store=self, key=key)

    def _bad_value(self, exc: Exception, key: str | None, action: str) -> StorageError | InvalidKeyError:
        """A Python value SQLite cannot take (a key that is not valid UTF-8, an integer
        beyond 64 bits): a typed error instead of the bare ValueError/OverflowError."""
        if isinstance(exc, UnicodeError):
            return InvalidKeyError(
                f"cannot {action} {where(self, key)}: the key is not valid Unicode ({exc}); "
                "SQLite stores keys as UTF-8: use keys without lone surrogate characters",
                store=self, key=key)
        return StorageError(
            f"cannot {action} {where(self, key)}: a value does not fit SQLite's 64-bit "
            f"integers ({type(exc).__name__}: {exc}); the request (e.g. a byte range read "
            "from a corrupt shard index) is out of range: check the data", store=self, key=key)

    def _query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = (),
               key: str | None = None, action: str = "read") -> list[Any]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc) and self.read_only:
                return []  # a read-only view of a database nobody has written to yet
            raise self._fail(exc, key, action) from exc
        except sqlite3.Error as exc:
            raise self._fail(exc, key, action) from exc
        except (OverflowError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
            raise self._bad_value(exc, key, action) from exc

    # -- transactions ---------------------------------------------------------
    def serial_now(self) -> bool:
        """Inside a transaction, writes must use this thread's connection."""
        return getattr(self._local, "depth", 0) > 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Self]:
        """Group writes made in this block (by this thread) into one atomic transaction.

        Nested blocks are savepoints: an exception leaving an inner block undoes only that
        block's writes (if the outer block catches it); leaving the outermost block with
        an exception rolls everything back.  Commits when the outermost block exits.
        """
        self.check_writable()
        conn = self._conn()
        loc = self._local
        depth = loc.depth
        name = f"exzarr_sp{depth}"
        try:
            conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT {name}")
        except sqlite3.Error as exc:
            raise self._fail(exc, None, "begin a transaction on") from exc
        loc.depth = depth + 1
        try:
            yield self
        except BaseException:
            loc.depth = depth
            try:
                if depth == 0:
                    conn.execute("ROLLBACK")
                else:
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
            except sqlite3.Error:
                pass
            raise
        loc.depth = depth
        try:
            conn.execute("COMMIT" if depth == 0 else f"RELEASE {name}")
        except sqlite3.Error as exc:
            if depth == 0:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise self._fail(exc, None, "commit a transaction on") from exc

    # -- reads ----------------------------------------------------------------
    def get(self, key: str, byte_range: ByteRange | None = None) -> bytes | None:
        if byte_range is None:
            rows = self._query(f"SELECT value FROM {TABLE} WHERE key = ?", (key,), key)
        else:
            rows = self._query(_RANGE_SQL, {"k": key, "a": _clamp(byte_range[0]),
                                             "b": _clamp(byte_range[1])}, key)
        if not rows:
            return None
        v = rows[0][0]
        if v is None:  # substr() of a zero-length blob is NULL
            return b""
        return bytes(v) if not isinstance(v, bytes) else v

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        keys = list(keys)
        out: dict[str, bytes | None] = dict.fromkeys(keys)
        for i in range(0, len(keys), 500):
            batch = keys[i:i + 500]
            marks = ",".join("?" * len(batch))
            for k, v in self._query(f"SELECT key, value FROM {TABLE} WHERE key IN ({marks})", batch):
                out[k] = bytes(v)
        return out

    def exists(self, key: str) -> bool:
        return bool(self._query(f"SELECT 1 FROM {TABLE} WHERE key = ?", (key,), key))

    def getsize(self, key: str) -> int | None:
        rows = self._query(f"SELECT length(value) FROM {TABLE} WHERE key = ?", (key,), key)
        return rows[0][0] if rows else None

    # -- writes ---------------------------------------------------------------
    def _set(self, key: str, value: bytes) -> None:
        validate_key(key, self)
        self._query(f"INSERT INTO {TABLE}(key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, sqlite3.Binary(value)), key, "write")

    def set_many(self, items: Mapping[str, bytes]) -> None:
        self.check_writable()
        rows = [(validate_key(k, self), sqlite3.Binary(bytes(v))) for k, v in items.items()]
        with self.transaction():
            try:
                self._conn().executemany(
                    f"INSERT INTO {TABLE}(key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value", rows)
            except sqlite3.Error as exc:
                raise self._fail(exc, None, "write") from exc
            except (OverflowError, ValueError) as exc:
                raise self._bad_value(exc, None, "write") from exc

    def _delete(self, key: str) -> None:
        self._query(f"DELETE FROM {TABLE} WHERE key = ?", (key,), key, "delete")

    def delete_prefix(self, prefix: str) -> None:
        self.check_writable(prefix)
        validate_prefix(prefix, self)
        lo, hi = _prefix_bounds(prefix)
        if hi is None:
            self._query(f"DELETE FROM {TABLE} WHERE key >= ?", (lo,), prefix, "delete")
        else:
            self._query(f"DELETE FROM {TABLE} WHERE key >= ? AND key < ?", (lo, hi), prefix, "delete")

    # -- listing --------------------------------------------------------------
    def list(self) -> Iterator[str]:
        return iter([r[0] for r in self._query(f"SELECT key FROM {TABLE} ORDER BY key")])

    def list_prefix(self, prefix: str) -> Iterator[str]:
        lo, hi = _prefix_bounds(prefix)
        if hi is None:
            rows = self._query(f"SELECT key FROM {TABLE} WHERE key >= ? ORDER BY key", (lo,))
            return iter([r[0] for r in rows if r[0].startswith(prefix)])
        rows = self._query(f"SELECT key FROM {TABLE} WHERE key >= ? AND key < ? ORDER BY key",
                           (lo, hi))
        return iter([r[0] for r in rows])

    # -- lifecycle ------------------------------------------------------------
    def close(self) -> None:
        """Close every connection this store opened.  Idempotent."""
        with self._conns_lock:
            self._closed = True
            conns, self._conns = self._conns, []
        for c in conns:
            with contextlib.suppress(sqlite3.Error):
                c.close()
        self._local = threading.local()

    def with_read_only(self, read_only: bool = True) -> Self:
        """A view sharing this store's connections (its writes refuse when read_only)."""
        return super().with_read_only(read_only)
