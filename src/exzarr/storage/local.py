"""Filesystem store: key ``a/b/c`` is the file ``root/a/b/c``.

Writes are atomic: the value goes to a hidden temporary file in the destination directory
(``.exzarr-tmp-*``; inside :meth:`LocalStore.write_batch`, in a hidden folder of the
writing thread in the batch's directory) which then replaces the target with
``os.replace``, so a reader (or a crash) sees the old value or the new one, never a torn
chunk.  Temporary files are never listed as keys.  A writer killed mid-write leaves its
temporary file behind: the first write to a folder (at most once an hour per folder and
process) removes the temporary files there untouched for an hour,
:meth:`LocalStore.temp_files` lists them and ``exzarr verify`` reports them.  Pass
``fsync=True`` to also survive power loss (slower).  Deleting a key removes the
directories it leaves empty (up to, not including, root).  The file a write replaces or a
delete removes is released on a background thread (:mod:`exzarr.storage.reaper`): freeing
a recently written file's pages costs ~1 ms.  A write of whole chunks may have its files
written by compiled code (:meth:`LocalStore.direct_writes`: the same temporary files,
flags and renames, see :mod:`exzarr.storage.direct_writes`).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import mmap
import os
import shutil
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..errors import AccessDeniedError, StorageError, where
from . import reaper
from .base import Buffer, ByteRange, Store
from .direct_reads import DirectReads, functions as direct_read_functions
from .direct_writes import DirectWrites, functions as direct_functions
from .keys import InvalidKeyError, resolve_range, validate_key, validate_prefix
from .tempfiles import (STALE_AFTER, TMP_MARK, TempFile, TempFolders, scan_dir, sweep_dir,
                        sweep_if_due)
from .unnamed import links_unnamed

if TYPE_CHECKING:
    from typing_extensions import Buffer as BytesLike
    import numpy as np

__all__ = ["LocalStore"]

TMP_PREFIX = TMP_MARK
_tmp_counter = itertools.count()


_TempFiles = list[TempFile]
_Paths = list[str]


def _write_all(fd: int, data: BytesLike) -> None:
    """Write every byte of ``data`` (``os.write`` may write less than asked)."""
    view = memoryview(data)
    if view.ndim != 1 or view.format != "B":
        view = view.cast("B")
    while view.nbytes:
        n = os.write(fd, view)
        if n == 0:  # (never for a regular file; looping would never end)
            raise OSError(errno.ENOSPC, "the file system accepted no bytes of a write")
        view = view[n:]


def _temp_path(folder: str | None, parent: str, name: str) -> str:
    """A new temporary file's path for a write to ``parent/name``: in ``folder`` (this
    thread's folder of a write batch), else beside the target."""
    if folder is None:
        return (f"{parent}/{TMP_PREFIX}{name}.{os.getpid()}."
                f"{threading.get_ident()}.{next(_tmp_counter)}")
    return f"{folder}/{TMP_PREFIX}{next(_tmp_counter)}"


def _is_tmp(name: str) -> bool:
    return name.startswith(TMP_PREFIX)


def _folders_below(top: str) -> Iterator[str]:
    """``top`` and the directories below it, not the temporary folders (whose files
    :func:`~exzarr.storage.tempfiles.scan_dir` of their directory covers)."""
    for d, dirs, _ in os.walk(top):
        dirs[:] = [x for x in dirs if not _is_tmp(x)]
        yield d


T = TypeVar("T")

#: a ranged read of at most this many bytes asks ``pread`` for them all without asking
#: the file's size first (``pread`` allocates what it is asked for, then reads)
_UNSIZED_READ_MOST = 64 << 20


class LocalStore(Store):
    """Keys stored as files under ``root`` (created on the first write)."""

    def __init__(self, root: str | os.PathLike[str], *, read_only: bool = False,
                 fsync: bool = False) -> None:
        super().__init__(read_only=read_only)
        self._root = os.path.abspath(os.fspath(root))
        self.fsync = fsync
        self._folders = TempFolders()  # shared with with_read_only() views: same files
        self._unnamed: bool | None = None  # links_unnamed() in the root, once asked

    @cached_property
    def root(self) -> Path:
        """The store's directory (absolute)."""
        return Path(self._root)

    @cached_property
    def url(self) -> str:
        """``file://`` URL of the directory: made on first use (an open that reads one
        document never asks), then kept (asked per chunk: locks, messages)."""
        return self.root.as_uri()

    # -- paths ----------------------------------------------------------------
    def _path(self, key: str) -> str:
        validate_key(key, self)
        if "\\" in key and os.sep == "\\":
            raise InvalidKeyError(f"invalid store key {key!r} ({where(self)}): backslashes are "
                                  "path separators on this system", store=self, key=key)
        if TMP_PREFIX in key and any(_is_tmp(p) for p in key.split("/")):
            raise InvalidKeyError(
                f"invalid store key {key!r} ({where(self)}): names starting with "
                f"{TMP_PREFIX!r} are reserved for temporary files", store=self, key=key)
        return self._root + "/" + key

    def _fail(self, exc: OSError, key: str, action: str) -> StorageError:
        if isinstance(exc, PermissionError):
            return AccessDeniedError(f"permission denied to {action} {where(self, key)} ({exc}); "
                                     "check the file permissions of the store directory",
                                     store=self, key=key)
        return StorageError(f"failed to {action} {where(self, key)} ({exc}); check that the "
                            "path is accessible and the disk is not full", store=self, key=key)

    # -- reads ----------------------------------------------------------------
    def get(self, key: str, byte_range: ByteRange | None = None) -> bytes | None:
        path = self._path(key)
        if byte_range is not None and self.reads_into:
            return self._get_range(key, path, *byte_range)
        try:
            with open(path, "rb") as f:
                if byte_range is None:
                    return f.read()
                start, stop = byte_range
                if start >= 0 and stop is None:
                    if start >= 1 << 40 and start >= os.fstat(f.fileno()).st_size:
                        return b""  # past the end, as slicing (seek would refuse huge offsets)
                    f.seek(start)
                    return f.read()
                a, b = resolve_range(start, stop, os.fstat(f.fileno()).st_size)
                f.seek(a)
                return f.read(b - a)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except OSError as exc:
            raise self._fail(exc, key, "read") from exc

    def _on_descriptor(self, key: str, path: str, read: Callable[[int], T]) -> T | None:
        """``read(fd)`` on the file of ``key`` opened read-only (closed after); None when
        there is no such file (or it is a directory); other failures as typed errors."""
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except OSError as exc:
            raise self._fail(exc, key, "read") from exc
        try:
            return read(fd)
        except IsADirectoryError:
            return None
        except OSError as exc:
            raise self._fail(exc, key, "read") from exc
        finally:
            os.close(fd)

    def _get_range(self, key: str, path: str, start: int, stop: int | None) -> bytes | None:
        """A byte range through ``pread`` on a bare descriptor (no buffered file object, no
        seek; the file's size is asked only for ranges from its end or to it): the
        ranged reads of sharded arrays (the index, then the inner chunks)."""
        def read(fd: int) -> bytes | None:
            if start >= 0 and stop is not None and 0 <= stop - start <= _UNSIZED_READ_MOST:
                a, b = start, max(start, stop)  # (pread stops at the end of the file)
            else:  # from or to the end, or more than is worth allocating before the read
                a, b = resolve_range(start, stop, os.fstat(fd).st_size)
            if a >= b or a >= 1 << 62:  # nothing to read (is it a value at all?)
                return None if stat.S_ISDIR(os.fstat(fd).st_mode) else b""
            parts = []
            while a < b:
                got = os.pread(fd, b - a, a)
                if not got:  # the end of the file
                    break
                parts.append(got)
                a += len(got)
            return parts[0] if len(parts) == 1 else b"".join(parts)
        return self._on_descriptor(key, path, read)

    reads_into = hasattr(os, "preadv")

    def read_into(self, key: str, start: int, out: memoryview) -> int | None:
        """``preadv`` into ``out``: no bytes object, no buffered file, no seek."""
        if not self.reads_into or start < 0:
            return super().read_into(key, start, out)
        view = out.cast("B") if out.format != "B" else out

        def read(fd: int) -> int:
            done = 0
            # (no file reaches 2**62 bytes: a start beyond is past its end, not an offset
            # the system call could take, as a damaged shard index may ask for)
            while done < view.nbytes and start + done < 1 << 62:
                n = os.preadv(fd, [view[done:]], start + done)
                if n == 0:  # the end of the file
                    break
                done += n
            return done
        return self._on_descriptor(key, self._path(key), read)

    def direct_reads(self, keys: list[str]) -> DirectReads | None:
        """Each key's file (:mod:`exzarr.storage.direct_reads`); None where compiled code
        cannot read them (kernels off, no C functions, a root whose path C cannot take)."""
        fs = direct_read_functions() if self.reads_into else None
        if fs is None or "\0" in self._root:  # (C paths end at a NUL)
            return None
        return DirectReads(fs, [self._path(key) for key in keys])

    def read_rows(self, key: str, out: np.ndarray, base: int, rows: np.ndarray,
                  row_bytes: int) -> bool | None:
        """Read the file of ``key``, which must hold exactly ``len(rows) * row_bytes``
        bytes, straight into ``out`` (a flat uint8 array): row ``r`` at byte ``base +
        rows[r]`` (:mod:`exzarr.kernels.read_rows`: one copy, no GIL).  None: there is no
        such file; False: not done (another size, an error, no compiled kernel here): the
        rows may hold part of the file, and the caller reads the chunk the usual way
        (which says what is wrong)."""
        fs = direct_read_functions()  # (C's preadv among them; looked up once)
        if fs is None:
            return False
        nbytes = len(rows) * row_bytes
        try:
            fd = os.open(self._path(key), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except OSError:
            return False
        try:
            if os.fstat(fd).st_size != nbytes:
                return False
            from ..kernels.read_rows import read_rows  # imports Numba
            return bool(read_rows(fs, fd, out, base, rows, row_bytes, nbytes) == nbytes)
        except OSError:
            return False
        finally:
            os.close(fd)

    #: files at least this large are memory-mapped by get_buffer instead of copied
    MMAP_THRESHOLD = 4 << 20

    def get_buffer(self, key: str) -> Buffer | None:
        """Large files come back as a read-only memory map (no copy, no allocation);
        safe because writes replace files (new inode) rather than modifying them."""
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size < self.MMAP_THRESHOLD:
                    return f.read()
                return memoryview(mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except OSError as exc:
            raise self._fail(exc, key, "read") from exc

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._path(key))

    def getsize(self, key: str) -> int | None:
        try:
            st = os.stat(self._path(key))
        except (FileNotFoundError, NotADirectoryError):
            return None
        return st.st_size if stat.S_ISREG(st.st_mode) else None

    # -- writes ---------------------------------------------------------------
    def _set(self, key: str, value: bytes) -> None:
        self._write_atomic(key, (value,))

    def set_parts(self, key: str, parts: Iterable[BytesLike]) -> None:
        """Write the buffers one after another into the temporary file (no join copy)."""
        self.check_writable(key)
        self._write_atomic(key, parts)

    def write_batch(self, prefix: str = "") -> contextlib.AbstractContextManager[None]:
        """Inside, each thread creates the temporary files of the keys under ``prefix``
        in a hidden folder of its own in that directory
        (:class:`~exzarr.storage.tempfiles.TempFolders`), removed when the batch ends,
        instead of next to each target: threads writing many chunks then do not queue
        for their directories' locks to create them (ext4 takes a directory's lock for
        every create and rename in it).  The renames into place are as atomic as
        outside."""
        p = prefix.strip("/")
        if p:
            validate_key(p, self)
        return self._folders.batch(self._root + "/" + p if p else self._root)

    def _write_atomic(self, key: str, parts: Iterable[BytesLike]) -> None:
        path = self._path(key)
        parent, name = os.path.split(path)
        fd, tmp = self._create_temp(key, parent, name)
        try:
            try:  # os.write on the descriptor: no file object, no buffer, fewer syscalls
                for part in parts:
                    _write_all(fd, part)
                if self.fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            try:
                reaper.replace(tmp, path)  # the old file is released off this thread
            except FileNotFoundError:
                if not os.path.exists(tmp):
                    raise
                os.makedirs(parent, exist_ok=True)  # removed since (a folder's file is not)
                reaper.replace(tmp, path)
        except BaseException as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            if isinstance(exc, OSError):
                raise self._fail(exc, key, "write") from exc
            raise
        sweep_if_due(parent)  # leftovers of killed writers: one listing per folder and hour

    @property
    def writes_directly(self) -> bool:  # type: ignore[override]
        """Compiled code may write this store's files (not with ``fsync``; Linux, with
        compiled kernels on)."""
        return not self.fsync and direct_functions() is not None

    def direct_writes(self, keys: list[str]) -> DirectWrites | None:
        """Each key's file and a new temporary file for it, as :meth:`set_parts` would
        use (folders made when missing); None when a folder cannot be made (the
        checked path then says why)."""
        fs = direct_functions() if not self.fsync else None
        if fs is None or not keys or "\0" in self._root:  # (C paths end at a NUL)
            return None
        self.check_writable(keys[0])
        temps, targets = [], []
        folders: dict[str, str | None] = {}  # parent -> its temporary files' folder
        for key in keys:
            path = self._path(key)
            parent, name = path.rsplit("/", 1)
            if parent in folders:
                folder = folders[parent]
            else:
                try:
                    folder = self._folders.folder(parent)  # (raises when parent is missing)
                    if folder is None and not os.path.isdir(parent):
                        raise FileNotFoundError(parent)
                except FileNotFoundError:
                    try:
                        os.makedirs(parent, exist_ok=True)
                        folder = self._folders.folder(parent)
                    except OSError:
                        return None
                folders[parent] = folder
            temps.append(_temp_path(folder, parent, name))
            targets.append(path)
        if self._unnamed is None:
            parent = targets[0].rsplit("/", 1)[0]
            self._unnamed = links_unnamed(parent, _temp_path(None, parent, "probe"))
        return DirectWrites(fs, temps, targets, unnamed=self._unnamed, scope=self._root)

    def _create_temp(self, key: str, parent: str, name: str) -> tuple[int, str]:
        """Open a new temporary file for a write to ``parent/name``: in this thread's
        folder during a write batch, else in ``parent`` itself (made when missing)."""
        folders = self._folders
        for _ in range(5):
            folder = None
            try:
                folder = folders.folder(parent)
                tmp = _temp_path(folder, parent, name)
                return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
            except FileNotFoundError:
                # parent missing, or removed by a concurrent delete: (re)create it
                if folder is not None:
                    folders.forget(parent)
                try:
                    os.makedirs(parent, exist_ok=True)
                except OSError as exc:
                    raise self._fail(exc, key, "write") from exc
            except OSError as exc:
                raise self._fail(exc, key, "write") from exc
        raise StorageError(f"failed to write {where(self, key)}: its directory kept "
                           "disappearing (concurrent deletes?); retry the write",
                           store=self, key=key)

    def _delete(self, key: str) -> None:
        path = self._path(key)
        old = reaper.hold(path)
        try:
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError):
            return
        except IsADirectoryError:
            return
        except OSError as exc:
            raise self._fail(exc, key, "delete") from exc
        finally:
            reaper.close_later(old)
        self._prune(os.path.dirname(path))

    def _prune(self, d: str) -> None:
        """Remove ``d`` and its parents while they are empty (never the root)."""
        while len(d) > len(self._root) and d.startswith(self._root + "/"):
            try:
                os.rmdir(d)
            except OSError:
                return
            d = os.path.dirname(d)

    def delete_prefix(self, prefix: str) -> None:
        self.check_writable(prefix)
        validate_prefix(prefix, self)
        if prefix == "":
            if os.path.isdir(self._root):
                for entry in os.scandir(self._root):
                    self._remove_entry(entry.path, prefix)
            return
        if prefix.endswith("/"):
            d = self._root + "/" + prefix[:-1]
            if os.path.isdir(d):
                self._remove_entry(d, prefix)
                self._prune(os.path.dirname(d))
            return
        super().delete_prefix(prefix)

    def _remove_entry(self, path: str, prefix: str) -> None:
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise self._fail(exc, prefix, "delete") from exc

    # -- listing --------------------------------------------------------------
    def _walk(self, top: str, rel: str) -> Iterator[str]:
        try:
            entries = list(os.scandir(top))
        except (FileNotFoundError, NotADirectoryError):
            return
        for e in entries:
            if _is_tmp(e.name):
                continue
            if e.is_dir(follow_symlinks=True):
                yield from self._walk(e.path, rel + e.name + "/")
            else:
                yield rel + e.name

    def list(self) -> Iterator[str]:
        return self._walk(self._root, "")

    def list_prefix(self, prefix: str) -> Iterator[str]:
        validate_prefix(prefix, self)
        head, sep, _ = prefix.rpartition("/")
        base = head + sep
        top = self._root + ("/" + head if head else "")
        for k in self._walk(top, base):
            if k.startswith(prefix):
                yield k

    def list_dir(self, prefix: str) -> Iterator[str]:
        validate_prefix(prefix, self)
        top = self._root + ("/" + prefix.rstrip("/") if prefix else "")
        try:
            entries = list(os.scandir(top))
        except (FileNotFoundError, NotADirectoryError):
            return
        for e in entries:
            if not _is_tmp(e.name):
                yield e.name

    # -- temporary files ------------------------------------------------------
    def temp_files(self, prefix: str = "") -> _TempFiles:
        """Temporary files under ``prefix`` (a folder key such as ``"a/c/"``, or ``""``):
        writes in progress, or leftovers of writers that were killed (``stale`` when
        untouched for an hour).  Walks the whole folder tree."""
        validate_prefix(prefix, self)
        top = self._root + ("/" + prefix.rstrip("/") if prefix else "")
        out: _TempFiles = []
        for d in _folders_below(top):
            out.extend(scan_dir(d, startswith=TMP_PREFIX))
        return sorted(out, key=lambda t: t.path)

    def remove_temp_files(self, prefix: str = "", *, max_age: float = STALE_AFTER) -> _Paths:
        """Remove the temporary files under ``prefix`` untouched for ``max_age`` seconds
        (default an hour: never a write in progress); return their paths."""
        self.check_writable(prefix or None)
        validate_prefix(prefix, self)
        top = self._root + ("/" + prefix.rstrip("/") if prefix else "")
        removed: _Paths = []
        for d in _folders_below(top):
            removed.extend(sweep_dir(d, startswith=TMP_PREFIX, max_age=max_age))
        return sorted(removed)

    def clear(self) -> None:
        """Delete every key (the root directory itself stays)."""
        self.delete_prefix("")
