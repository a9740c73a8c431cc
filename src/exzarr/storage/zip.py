"""Zip archive store: ``zip:///path/to/data.zip`` or any path ending in ``.zip``.

Reads any zip that holds a Zarr hierarchy at its root (members stored or deflated, as
zarr-python's ``ZipStore`` writes them).  Writes append members to the archive; a key
written twice (or deleted) leaves a stale member behind, and :meth:`ZipStore.close`
rewrites the archive without them, so a closed archive never holds duplicate entries.
Until ``close()`` the archive has no central directory: always close (or use ``with``).

Modes: ``"r"`` read only, ``"w"`` create (truncating an existing file), ``"a"`` read and
write an existing archive (created if missing).  Member names that would escape the
archive when extracted (``../x``, ``/abs``) are refused with :class:`InvalidKeyError`.
"""

from __future__ import annotations

import os
import threading
import time
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, Self

from ..errors import StorageError, where
from .base import ByteRange, Store
from .keys import InvalidKeyError, resolve_range, validate_key

__all__ = ["ZipStore"]

_MODES: dict[str, Literal["r", "w", "a"]] = {"r": "r", "w": "w", "a": "a"}


def _check_member(name: str, path: object) -> None:
    bad = (name.startswith("/") or name.startswith("\\") or "\\" in name
           or (len(name) > 1 and name[1] == ":")
           or any(p == ".." for p in name.replace("\\", "/").split("/")))
    if bad:
        raise InvalidKeyError(
            f"zip archive {str(path)!r} has a member named {name!r} that would escape the "
            "archive when extracted (absolute or '..' path); exzarr refuses to open it: "
            "inspect it with a tool you trust and repack it without such names",
            store=f"zip://{path}", key=name)


class _Archive:
    """The open archive shared by a ZipStore and its read-only views."""

    def __init__(self, zf: zipfile.ZipFile, path: Path) -> None:
        self.zf = zf
        self.path = path
        self.lock = threading.RLock()
        self.closed = False
        self.stale = False  # the file holds superseded or deleted members
        self.index: dict[str, zipfile.ZipInfo] = {}
        for info in zf.infolist():  # later members win, as in zipfile
            _check_member(info.filename, path)
            if info.is_dir():
                continue
            if info.filename in self.index:
                self.stale = True
            self.index[info.filename] = info

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            try:
                if self.stale and self.zf.mode != "r":
                    self._compact()
            finally:
                self.zf.close()

    def _compact(self) -> None:
        """Rewrite the archive with only the live members (atomically, via a temp file)."""
        tmp = self.path.with_name(f".{self.path.name}.exzarr-compact-{os.getpid()}")
        try:
            with zipfile.ZipFile(tmp, "w", allowZip64=True) as out:
                for key, info in self.index.items():
                    new = zipfile.ZipInfo(key, date_time=info.date_time)
                    new.compress_type = info.compress_type
                    new.external_attr = info.external_attr
                    new.file_size = info.file_size
                    with self.zf.open(info) as src, out.open(new, "w") as dst:
                        while chunk := src.read(1 << 20):
                            dst.write(chunk)
            self.zf.close()
            os.replace(tmp, self.path)
        except BaseException:
            try:
                tmp.unlink()
            except OSError:
                pass
            raise

    def __del__(self) -> None:
        # an archive left open would lack its central directory: finish it if we can
        try:
            if not self.closed and self.zf.mode != "r":
                self.close()
        except Exception:
            pass


class ZipStore(Store):
    """A Zarr hierarchy inside one zip file.  Thread-safe; close it when done."""

    def __init__(self, path: str | os.PathLike[str], mode: str = "r", *,
                 compression: int = zipfile.ZIP_STORED, compresslevel: int | None = None,
                 read_only: bool | None = None) -> None:
        zmode = _MODES.get(mode)
        if zmode is None:
            raise ValueError(f"ZipStore mode must be 'r', 'w' or 'a', got {mode!r}")
        super().__init__(read_only=(mode == "r") if read_only is None else (read_only or mode == "r"))
        self.path = Path(os.path.abspath(os.fspath(path)))
        self.mode = mode
        self.compression = compression
        self.compresslevel = compresslevel
        if mode == "r" and not self.path.is_file():
            raise StorageError(f"no zip file at {str(self.path)!r}; check the path, or open it "
                               "with mode='w' or 'a' to create it", store=self)
        if mode != "r":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            zf = zipfile.ZipFile(self.path, zmode, compression=compression,
                                 compresslevel=compresslevel, allowZip64=True)
        except (zipfile.BadZipFile, OSError) as exc:
            raise StorageError(f"cannot open {str(self.path)!r} as a zip archive ({exc}); "
                               "check that it is a complete zip file (an archive that was "
                               "not closed after writing has no central directory)",
                               store=self) from exc
        try:
            self._state = _Archive(zf, self.path)
        except BaseException:
            zf.close()
            raise

    @property
    def url(self) -> str:
        return f"zip://{self.path.as_posix()}"

    def __copy__(self) -> Self:  # views (with_read_only) share the open resources
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def __getstate__(self) -> dict[str, Any]:
        if not self.read_only:
            raise TypeError(f"a writable ZipStore ({self.url}) cannot be pickled: a zip archive "
                            "has one writer; close it and send a read-only store (mode='r')")
        return {"path": self.path, "compression": self.compression}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        ZipStore.__init__(self, state["path"], mode="r", compression=state["compression"])

    def _require_open(self, key: str | None = None) -> None:
        if self._state.closed:
            raise StorageError(f"the zip store is closed ({where(self, key)}); open it again "
                               "with ZipStore(path, mode=...) or open_store(...)",
                               store=self, key=key)

    # -- reads ----------------------------------------------------------------
    def get(self, key: str, byte_range: ByteRange | None = None) -> bytes | None:
        st = self._state
        with st.lock:
            self._require_open(key)
            info = st.index.get(key)
            if info is None:
                return None
            try:
                with st.zf.open(info) as f:
                    if byte_range is None:
                        return f.read()
                    a, b = resolve_range(byte_range[0], byte_range[1], info.file_size)
                    if a:
                        f.seek(a)
                    return f.read(b - a)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise StorageError(f"failed to read {where(self, key)} ({exc}); the archive "
                                   "is damaged: re-create it or restore it from a copy",
                                   store=self, key=key) from exc

    def exists(self, key: str) -> bool:
        with self._state.lock:
            return key in self._state.index

    def getsize(self, key: str) -> int | None:
        with self._state.lock:
            info = self._state.index.get(key)
            return None if info is None else info.file_size

    # -- writes ---------------------------------------------------------------
    def _set(self, key: str, value: bytes) -> None:
        validate_key(key, self)
        _check_member(key, self.path)
        st = self._state
        with st.lock:
            self._require_open(key)
            info = zipfile.ZipInfo(key, date_time=time.localtime(time.time())[:6])
            info.external_attr = 0o644 << 16
            if key in st.index:
                st.stale = True
            # we track live members ourselves; keep zipfile from warning "Duplicate name"
            st.zf.NameToInfo.pop(key, None)
            try:
                st.zf.writestr(info, value, compress_type=self.compression,
                               compresslevel=self.compresslevel)
            except (OSError, ValueError) as exc:
                raise StorageError(f"failed to write {where(self, key)} ({exc}); check the "
                                   "disk space and that the archive was opened for writing",
                                   store=self, key=key) from exc
            st.index[key] = info

    def _delete(self, key: str) -> None:
        st = self._state
        with st.lock:
            self._require_open(key)
            if st.index.pop(key, None) is not None:
                st.stale = True

    # -- listing --------------------------------------------------------------
    def list(self) -> Iterator[str]:
        with self._state.lock:
            self._require_open()
            return iter(list(self._state.index))

    def list_prefix(self, prefix: str) -> Iterator[str]:
        with self._state.lock:
            self._require_open()
            return iter([k for k in self._state.index if k.startswith(prefix)])

    # -- lifecycle ------------------------------------------------------------
    def close(self) -> None:
        """Finish the archive (dropping stale members) and release the file.  Idempotent."""
        self._state.close()

    @property
    def closed(self) -> bool:
        return self._state.closed
