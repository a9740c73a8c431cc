"""Temporary files of the file-backed stores: naming, finding and removing stale ones.

A writer of :class:`~exzarr.storage.LocalStore` writes each value to a hidden temporary
file next to its target and renames it over the target (inside a write batch, from a
hidden folder of the writing thread in the batch's directory: :class:`TempFolders`);
:class:`~exzarr.storage.ZipStore` writes to a hidden working copy next to the archive and
renames it over the archive on ``flush()``/``close()``.  Every such name contains
:data:`TMP_MARK` (``.exzarr-tmp-``).  A writer killed mid-write leaves its temporary file
behind; the stores remove those older than :data:`STALE_AFTER` seconds (cheaply: one
directory listing, at most once per :data:`SWEEP_EVERY` seconds per directory and
process), and ``exzarr verify`` lists them.  A temporary folder is looked into as part of
the directory that holds it, and removed once empty when it is as old or its writer
process is gone.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["TMP_MARK", "STALE_AFTER", "SWEEP_EVERY", "TempFile", "TempFolders", "scan_dir",
           "sweep_dir", "sweep_due", "sweep_if_due", "owner_tag", "owner_alive"]

TMP_MARK = ".exzarr-tmp-"
#: a temporary file untouched for this many seconds belongs to a dead writer
STALE_AFTER = 3600.0
#: a directory is swept at most once per this many seconds in one process
SWEEP_EVERY = 3600.0

_swept: dict[str, float] = {}
_swept_lock = threading.Lock()


@dataclass(frozen=True)
class TempFile:
    """A temporary file left in a store's folder (``age``: seconds since last modified)."""

    path: str
    size: int
    age: float

    @property
    def stale(self) -> bool:
        """Old enough to be removed automatically (see :data:`STALE_AFTER`)."""
        return self.age >= STALE_AFTER


def _hostname() -> str:
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().nodename)  # what gethostname() returns, without loading socket
    import socket
    return socket.gethostname()


def owner_tag() -> str:
    """``host.pid`` of this process, part of long-lived temporary file names (zip)."""
    host = _hostname().replace("/", "_").replace("\\", "_") or "host"
    return f"{host}.{os.getpid()}"


def owner_alive(name: str) -> bool:
    """False only when ``name`` (``...-host.pid.rand``) names a process of this host that
    no longer runs; unknown owners count as alive."""
    parts = name.rsplit(".", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return True
    host = parts[0].split(TMP_MARK, 1)[-1]
    if host != owner_tag().rsplit(".", 1)[0]:
        return True
    pid = int(parts[1])
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True
    return True


def _is_folder(e: os.DirEntry) -> bool:
    try:
        return e.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _scan(directory: str, startswith: str, now: float) -> tuple[list[TempFile], list[str]]:
    """(the temporary files of :func:`scan_dir`, the paths of the temporary folders
    directly in ``directory``), from one listing of it."""
    files: list[TempFile] = []
    folders: list[str] = []
    try:
        with os.scandir(directory) as it:
            entries = [e for e in it if TMP_MARK in e.name and e.name.startswith(startswith)]
    except OSError:
        return files, folders
    for e in entries:
        if _is_folder(e):
            folders.append(e.path)
            files.extend(_scan(e.path, "", now)[0])
            continue
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        files.append(TempFile(e.path, st.st_size, max(0.0, now - st.st_mtime)))
    return files, folders


def scan_dir(directory: str, *, startswith: str = "", now: float | None = None) -> list[TempFile]:
    """Temporary files directly in ``directory`` whose names start with ``startswith``
    and contain :data:`TMP_MARK`, and those in its temporary folders (names alike; an
    unreadable or missing directory has none)."""
    return _scan(directory, startswith, time.time() if now is None else now)[0]


def sweep_due(directory: str) -> bool:
    """True (and records the sweep) if ``directory`` was not swept in the last
    :data:`SWEEP_EVERY` seconds by this process: the check costs one dict lookup."""
    now = time.monotonic()
    last = _swept.get(directory)
    if last is not None and now - last < SWEEP_EVERY:
        return False
    with _swept_lock:
        last = _swept.get(directory)
        if last is not None and now - last < SWEEP_EVERY:
            return False
        if len(_swept) > 100_000:  # bound the memory of a long-running process
            _swept.clear()
        _swept[directory] = now
    return True


def sweep_if_due(directory: str) -> None:
    """Remove the stale temporary files of killed writers in ``directory`` (names
    starting with :data:`TMP_MARK`) when :func:`sweep_due`: one listing per directory
    and :data:`SWEEP_EVERY` seconds."""
    if sweep_due(directory):
        sweep_dir(directory, startswith=TMP_MARK)


def sweep_dir(directory: str, *, startswith: str = "", max_age: float = STALE_AFTER,
              check_owner: bool = False) -> list[str]:
    """Remove the temporary files in ``directory`` (and in its temporary folders)
    untouched for ``max_age`` seconds (with ``check_owner``: only those whose writer
    process is gone, or of another host); return the removed paths.  Then remove the
    temporary folders left empty whose writer is gone or that are as old.  Never raises:
    a file that cannot be removed stays."""
    removed: list[str] = []
    now = time.time()
    files, folders = _scan(directory, startswith, now)
    for t in files:
        if t.age < max_age:
            continue
        if check_owner and owner_alive(os.path.basename(t.path)):
            host = os.path.basename(t.path).rsplit(".", 2)[0].split(TMP_MARK, 1)[-1]
            if host == owner_tag().rsplit(".", 1)[0] or t.age < 24 * STALE_AFTER:
                continue  # a live writer of this host (or, within a day, of another)
        try:
            os.unlink(t.path)
        except OSError:
            continue
        removed.append(t.path)
    for folder in folders:
        try:
            age = now - os.stat(folder, follow_symlinks=False).st_mtime
        except OSError:
            continue
        if age >= max_age or not owner_alive(os.path.basename(folder)):
            try:
                os.rmdir(folder)  # only when empty: a live writer's file keeps it
            except OSError:
                pass
    return removed


class TempFolders:
    """The temporary folders of one store's write batches.

    A batch covers the directory ``base`` (``with folders.batch(base):``; batches nest
    and overlap).  While one is open, ``folder(parent)`` is the calling thread's folder
    in the innermost open base that holds the directory ``parent`` (made on first use,
    ``FileNotFoundError`` when the base or ``parent`` does not exist), or None: no batch
    covers ``parent``, or ``parent`` is on another file system than the folder (a mount
    point below the base: a rename between them would fail).  When the last batch of a
    base ends its folders are removed (empty by then: every temporary file in them was
    renamed into place or removed).  A folder is named ``<TMP_MARK><host>.<pid>.<thread>``
    so that a sweep can tell when its writer process is gone; the first folder made in a
    base (per process and :data:`SWEEP_EVERY`) sweeps the base's leftovers."""

    __slots__ = ("_lock", "_open", "_made", "_fs")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, int] = {}  # base -> batches open on it
        # (base, thread) -> (folder, its st_dev)
        self._made: dict[tuple[str, int], tuple[str, int]] = {}
        self._fs: dict[str, int] = {}  # parent -> its st_dev (while a batch is open)

    def __reduce__(self) -> tuple[type, tuple[()]]:
        return (TempFolders, ())  # a copy in another process has no batch open

    @contextlib.contextmanager
    def batch(self, base: str) -> Iterator[None]:
        """A write batch covering the directory ``base``."""
        with self._lock:
            self._open[base] = self._open.get(base, 0) + 1
        try:
            yield
        finally:
            self._close(base)

    def _close(self, base: str) -> None:
        with self._lock:
            left = self._open[base] - 1
            if left:
                self._open[base] = left
                return
            del self._open[base]
            made = [k for k in self._made if k[0] == base]
            folders = [self._made.pop(k)[0] for k in made]
            if not self._open:
                self._fs.clear()
        for folder in folders:
            try:
                os.rmdir(folder)
            except OSError:  # gone already, or a write outside the batch still in it
                pass

    def folder(self, parent: str) -> str | None:
        if not self._open:
            return None
        base = parent
        while base not in self._open:
            up = os.path.dirname(base)
            if up == base:
                return None
            base = up
        key = (base, threading.get_ident())
        found = self._made.get(key)
        if found is None:
            found = self._make(key)
            if found is None:
                return None
        path, dev = found
        if parent != base:
            pdev = self._fs.get(parent)
            if pdev is None:
                pdev = self._fs[parent] = os.stat(parent).st_dev
            if pdev != dev:
                return None
        return path

    def _make(self, key: tuple[str, int]) -> tuple[str, int] | None:
        base = key[0]
        path = f"{base}/{TMP_MARK}{owner_tag()}.{key[1]}"
        sweep_if_due(base)  # leftovers of killed writers' batches here
        try:
            os.mkdir(path)
        except FileExistsError:
            pass
        dev = os.stat(path).st_dev
        with self._lock:
            if base not in self._open:  # the batch ended meanwhile: not recorded, remove it
                try:
                    os.rmdir(path)
                except OSError:
                    pass
                return None
            found = self._made[key] = (path, dev)
        return found

    def forget(self, parent: str) -> None:
        """The calling thread's folder for ``parent``, or ``parent`` itself, disappeared
        (removed with a directory): look both up again on the next ``folder(parent)``."""
        tid = threading.get_ident()
        with self._lock:
            for k in [k for k in self._made if k[1] == tid]:
                if not os.path.isdir(self._made[k][0]):
                    del self._made[k]
            self._fs.pop(parent, None)
