"""Temporary files of the file-backed stores: naming, finding and removing stale ones.

A writer of :class:`~exzarr.storage.LocalStore` writes each value to a hidden temporary
file next to its target and renames it over the target; :class:`~exzarr.storage.ZipStore`
writes to a hidden working copy next to the archive and renames it over the archive on
``flush()``/``close()``.  Every such name contains :data:`TMP_MARK` (``.exzarr-tmp-``).
A writer killed mid-write leaves its temporary file behind; the stores remove those older
than :data:`STALE_AFTER` seconds (cheaply: one directory listing, at most once per
:data:`SWEEP_EVERY` seconds per directory and process), and ``exzarr verify`` lists them.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

__all__ = ["TMP_MARK", "STALE_AFTER", "SWEEP_EVERY", "TempFile", "scan_dir", "sweep_dir",
           "sweep_due", "owner_tag", "owner_alive"]

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


def scan_dir(directory: str, *, startswith: str = "", now: float | None = None) -> list[TempFile]:
    """Temporary files directly in ``directory`` whose names start with ``startswith``
    and contain :data:`TMP_MARK` (an unreadable or missing directory has none)."""
    now = time.time() if now is None else now
    out: list[TempFile] = []
    try:
        with os.scandir(directory) as it:
            for e in it:
                if TMP_MARK not in e.name or not e.name.startswith(startswith):
                    continue
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                out.append(TempFile(e.path, st.st_size, max(0.0, now - st.st_mtime)))
    except OSError:
        return []
    return out


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


def sweep_dir(directory: str, *, startswith: str = "", max_age: float = STALE_AFTER,
              check_owner: bool = False) -> list[str]:
    """Remove the temporary files in ``directory`` untouched for ``max_age`` seconds
    (with ``check_owner``: only those whose writer process is gone, or of another host);
    return the removed paths.  Never raises: a file that cannot be removed stays."""
    removed: list[str] = []
    for t in scan_dir(directory, startswith=startswith):
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
    return removed
