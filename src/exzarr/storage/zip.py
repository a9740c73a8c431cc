"""Zip archive store: ``zip:///path/to/data.zip`` or any path ending in ``.zip``.

Reads any zip that holds a Zarr hierarchy at its root (members stored or deflated, as
zarr-python's ``ZipStore`` writes them).

Writes never touch the archive in place.  The first write after opening (or after a
``flush()``) copies the archive to a hidden working copy in the same folder
(``.NAME.zip.exzarr-tmp-HOST.PID.RAND``; an archive opened with ``"w"`` starts an empty
one); writes append members to it, and :meth:`ZipStore.flush` / :meth:`ZipStore.close`
finish it (without stale members: a closed archive never holds duplicate entries) and
rename it over the archive.  A crash at any moment therefore leaves the archive as it was
at the last flush/close, or as it is after the next one, never unreadable; the writes
since the last flush are lost.  Readers (in any process) see the committed archive only.
Working copies left by killed writers are removed by the next writer once their process
is gone and they are an hour old; :meth:`ZipStore.temp_files` lists them.

Modes: ``"r"`` read only, ``"w"`` create (replacing an existing file on the first
flush/close), ``"a"`` read and write an existing archive (created if missing).  Member
names that would escape the archive when extracted (``../x``, ``/abs``) are refused with
:class:`InvalidKeyError`.

Pickling (process pools, dask's processes scheduler): an archive has one writer, the
store that opened it for writing, so a copy never writes.  Pickling a writable store
first flushes it (its writes so far are committed; a failed flush raises
:class:`StorageError` and nothing is pickled), and the unpickled copy opens the committed
archive read-only: it reads the archive as its owner last flushed it, and every write
through it raises :class:`ReadOnlyError` saying to write from the owning process (or to a
directory store, packed into a zip with ``exzarr copy`` afterwards).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, Self

from ..errors import ReadOnlyError, StorageError, where
from .base import ByteRange, Store
from .keys import InvalidKeyError, resolve_range, validate_key
from .tempfiles import TMP_MARK, TempFile, owner_tag, scan_dir, sweep_dir

__all__ = ["ZipStore"]

_TempFiles = list[TempFile]
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


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not possible on every system (Windows): the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _Archive:
    """The open archive shared by a ZipStore and its read-only views.

    ``zf`` is the committed archive (opened for reading) until the first change; the
    first change copies it to a hidden working copy next to it (``tmp``, a temporary file
    of the same folder) and ``zf`` becomes that copy, opened for appending.  ``commit``
    finishes the working copy (dropping stale members) and renames it over the archive.
    """

    def __init__(self, path: Path, mode: str, compression: int,
                 compresslevel: int | None) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.closed = False
        self.writable = mode != "r"
        self.compression = compression
        self.compresslevel = compresslevel
        self.stale = False  # the working copy holds superseded or deleted members
        self.tmp: Path | None = None  # the working copy, while there are uncommitted changes
        self.index: dict[str, zipfile.ZipInfo] = {}
        self.zf: zipfile.ZipFile | None = None
        if self.writable:
            sweep_dir(str(path.parent), startswith=f".{path.name}{TMP_MARK}",
                      check_owner=True)
        if mode == "w" or (mode == "a" and not path.exists()):
            self._begin(copy=False)  # a new archive: appears at path on commit
        else:
            self._open_committed()

    def _zipfile(self, path: Path, mode: Literal["r", "w", "a"]) -> zipfile.ZipFile:
        try:
            return zipfile.ZipFile(path, mode, compression=self.compression,
                                   compresslevel=self.compresslevel, allowZip64=True)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise StorageError(f"cannot open {str(self.path)!r} as a zip archive ({exc}); "
                               "check that it is a complete zip file (an archive that "
                               "another tool was writing and did not close has no central "
                               "directory)", store=f"zip://{self.path}") from exc

    def _load(self, zf: zipfile.ZipFile) -> None:
        index: dict[str, zipfile.ZipInfo] = {}
        stale = False
        for info in zf.infolist():  # later members win, as in zipfile
            _check_member(info.filename, self.path)
            if info.is_dir():
                continue
            if info.filename in index:
                stale = True
            index[info.filename] = info
        self.zf, self.index, self.stale = zf, index, stale

    def _open_committed(self) -> None:
        zf = self._zipfile(self.path, "r")
        try:
            self._load(zf)
        except BaseException:
            zf.close()
            raise

    def _begin(self, *, copy: bool) -> None:
        """Start a working copy (of the committed archive with ``copy``, else empty)."""
        tmp = self.path.with_name(f".{self.path.name}{TMP_MARK}{owner_tag()}."
                                  f"{uuid.uuid4().hex[:12]}")
        old = self.zf
        try:
            if copy:
                shutil.copyfile(self.path, tmp)  # in-kernel copy where the system has one
                zf = self._zipfile(tmp, "a")
            else:
                zf = self._zipfile(tmp, "w")
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        try:
            self._load(zf)
        except BaseException:
            zf.close()
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        self.tmp = tmp
        if old is not None:
            old.close()

    def writing(self) -> zipfile.ZipFile:
        """The working copy, started on the first change since the last commit."""
        if self.tmp is None:
            self._begin(copy=True)
        assert self.zf is not None
        return self.zf

    def commit(self, *, reopen: bool) -> None:
        """Make the changes durable: finish the working copy and rename it over the
        archive (a crash before the rename leaves the old archive, after it the new)."""
        tmp = self.tmp
        if tmp is None or self.zf is None:
            return
        final = tmp
        try:
            if self.stale:
                final = tmp.with_name(f"{tmp.name}.c")
                self._compact(final)
            self.zf.close()
            with open(final, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(final, self.path)
        except BaseException as exc:
            self.closed = True
            with contextlib.suppress(Exception):
                self.zf.close()
            for t in {tmp, final}:
                with contextlib.suppress(OSError):
                    t.unlink()
            if isinstance(exc, (OSError, zipfile.BadZipFile, ValueError)):
                raise StorageError(
                    f"failed to save the zip archive {str(self.path)!r} ({exc}); it keeps "
                    "its content of the last flush()/close() (this store is now closed): "
                    "check the disk space and permissions, open it again and redo the "
                    "writes since then", store=f"zip://{self.path}") from exc
            raise
        self.tmp, self.zf = None, None
        if final != tmp:
            with contextlib.suppress(OSError):
                tmp.unlink()
        _fsync_dir(self.path.parent)
        if reopen:
            self._open_committed()

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            try:
                self.commit(reopen=False)
            finally:
                self.closed = True
                if self.zf is not None:
                    self.zf.close()

    def _compact(self, out_path: Path) -> None:
        """Write only the live members of the working copy to ``out_path``."""
        assert self.zf is not None
        with zipfile.ZipFile(out_path, "w", allowZip64=True) as out:
            for key, info in self.index.items():
                new = zipfile.ZipInfo(key, date_time=info.date_time)
                new.compress_type = info.compress_type
                new.external_attr = info.external_attr
                new.file_size = info.file_size
                with self.zf.open(info) as src, out.open(new, "w") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)

    def __del__(self) -> None:
        # changes left uncommitted by a store that was never closed: commit them if we can
        try:
            if not self.closed and self.tmp is not None:
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
                               "with mode='w' or 'a' to create it (a ZipStore writing it "
                               "creates it on flush() or close(): an archive that was not "
                               "closed yet does not exist)", store=self)
        if mode != "r":
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create the folder of {str(self.path)!r} ({exc}); "
                                   "check the path and its permissions", store=self) from exc
        #: unpickled from a writable store: reads only (see check_writable)
        self._from_writer = False
        self._state = _Archive(self.path, zmode, compression, compresslevel)
        # a range of a compressed member is read by decompressing it from its start: ranges
        # cost whole reads, so readers fetch whole values instead (new members are written
        # with ``compression``, so the answer holds for the store's lifetime)
        self.supports_byte_ranges = compression == zipfile.ZIP_STORED and all(
            i.compress_type == zipfile.ZIP_STORED for i in self._state.index.values())

    @property
    def url(self) -> str:
        return f"zip://{self.path.as_posix()}"

    def __copy__(self) -> Self:  # views (with_read_only) share the open resources
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def __getstate__(self) -> dict[str, Any]:
        """The archive's path: a copy unpickled elsewhere opens the committed archive
        read-only.  A writable store is flushed first, so the copy reads every write made
        before pickling (see the module's docstring)."""
        st = self._state
        if st.writable:
            with st.lock:
                if not st.closed and st.tmp is not None:
                    try:
                        st.commit(reopen=True)
                    except StorageError as exc:
                        raise StorageError(
                            f"cannot pickle the zip store {self.url}: its writes since the last "
                            f"flush() could not be committed ({exc}); a copy in another process "
                            "would not see them", store=self) from exc
        return {"path": self.path, "compression": self.compression,
                "from_writer": st.writable and not self.read_only}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        ZipStore.__init__(self, state["path"], mode="r", compression=state["compression"])
        self._from_writer = bool(state.get("from_writer", False))

    def check_writable(self, key: str | None = None) -> None:
        if self._from_writer:
            raise ReadOnlyError(
                f"cannot write to {where(self, key)}: this ZipStore is a copy of a writable one, "
                "unpickled (in a process pool or a dask worker); it reads the archive as its "
                "owner last flushed it, and a zip archive has one writer (the store that opened "
                "it for writing): write from the process that owns that store, or write to a "
                "directory store (a .zarr folder) and pack it into a zip with `exzarr copy` "
                "when done", store=self, key=key)
        super().check_writable(key)

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
            if info is None or st.zf is None:
                return None
            try:
                with st.zf.open(info) as f:
                    if byte_range is None:
                        return f.read()
                    a, b = resolve_range(byte_range[0], byte_range[1], info.file_size)
                    if a:
                        f.seek(a)
                    return f.read(b - a)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
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
            try:
                key.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise InvalidKeyError(f"invalid store key {key!r} ({where(self)}): zip member "
                                      f"names are UTF-8 and this one cannot be encoded ({exc}); "
                                      "use keys made of valid Unicode characters",
                                      store=self, key=key) from exc
            info = zipfile.ZipInfo(key, date_time=time.localtime(time.time())[:6])
            info.external_attr = 0o644 << 16
            zf = st.writing()
            if key in st.index:
                st.stale = True
            # we track live members ourselves; keep zipfile from warning "Duplicate name"
            zf.NameToInfo.pop(key, None)
            try:
                zf.writestr(info, value, compress_type=self.compression,
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
            if key in st.index:
                st.writing()
                del st.index[key]
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
    def flush(self) -> None:
        """Commit the writes made so far: the archive at ``path`` then holds them (and no
        stale members).  Atomic: a crash before ``flush()`` returns leaves the archive as
        it was at the previous flush/close.  Costs a copy of the archive on the next
        write, so flush at checkpoints, not after every chunk."""
        self.check_writable()
        with self._state.lock:
            self._require_open()
            self._state.commit(reopen=True)

    @property
    def dirty(self) -> bool:
        """True while there are writes not yet committed by ``flush()``/``close()``."""
        return self._state.tmp is not None

    def temp_files(self) -> _TempFiles:
        """Working copies next to the archive: this or another writer's uncommitted
        changes, or leftovers of writers that were killed."""
        return sorted(scan_dir(str(self.path.parent), startswith=f".{self.path.name}{TMP_MARK}"),
                      key=lambda t: t.path)

    def close(self) -> None:
        """Commit the writes (see :meth:`flush`) and release the file.  Idempotent."""
        self._state.close()

    @property
    def closed(self) -> bool:
        return self._state.closed
