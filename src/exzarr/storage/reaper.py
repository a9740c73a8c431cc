"""Releasing replaced and deleted files on a background thread.

Replacing or unlinking a file that was written recently is slow on Linux filesystems
(ext4: ~1 ms for a 1 MiB chunk whose data is still in the page cache): the kernel drops
the old file's pages and frees its blocks in the call that removes its last name.  A
read-modify-write of one chunk pays it on the caller's thread.  Where a file's last
reference is a descriptor instead, that work happens when the descriptor is closed, so
:class:`~exzarr.storage.LocalStore` opens the old file (read-only) before it replaces or
deletes it and hands the descriptor to :func:`close_later`: a daemon thread closes it.

Nothing visible changes: the name already points at the new file (or at nothing) when the
call returns, and a read-only descriptor holds no data that could be lost.  Only the old
file's disk space is released a moment later; :func:`drain` waits for that.  At most
:data:`MAX_PENDING` descriptors wait at once (beyond that the caller closes its own), so
a burst of writes cannot exhaust the process's descriptors.  POSIX only (Windows refuses
to replace an open file).
"""

from __future__ import annotations

import os
import threading
from collections import deque

from .rename_new import rename_new

__all__ = ["MAX_PENDING", "close_later", "drain", "hold", "pending", "replace"]

#: descriptors that may wait for the closing thread at once
MAX_PENDING = 64

_FLAGS = (os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
          | getattr(os, "O_NOCTTY", 0))
_SUPPORTED = os.name == "posix"

_cond = threading.Condition()
_queue: deque[int] = deque()
_busy = 0  # descriptors taken off the queue and not yet closed
_thread: threading.Thread | None = None


def hold(path: str) -> int | None:
    """A read-only descriptor of what ``path`` names (None: nothing there, unreadable,
    or not supported here).  Never blocks (a FIFO is opened non-blocking)."""
    if not _SUPPORTED:
        return None
    try:
        return os.open(path, _FLAGS)
    except OSError:
        return None


def replace(src: str, dst: str) -> None:
    """``os.replace(src, dst)``, the file it replaces (if any) released off this thread.
    A new name is renamed in one call (:func:`~exzarr.storage.rename_new.rename_new`):
    nothing to hold."""
    if rename_new(src, dst):
        return
    old = hold(dst)
    try:
        os.replace(src, dst)
    finally:
        close_later(old)


def close_later(fd: int | None) -> None:
    """Close ``fd`` on the background thread (now, on this thread, when too many wait)."""
    global _thread
    if fd is None:
        return
    with _cond:
        if len(_queue) + _busy < MAX_PENDING:
            _queue.append(fd)
            if _thread is None:
                _thread = threading.Thread(target=_run, name="exzarr-reaper", daemon=True)
                _thread.start()
            _cond.notify_all()
            return
    _close(fd)


def pending() -> int:
    """Descriptors not closed yet."""
    with _cond:
        return len(_queue) + _busy


def drain(timeout: float | None = None) -> bool:
    """Wait until every descriptor handed over so far is closed (their files' space is
    free); False if ``timeout`` seconds passed first."""
    with _cond:
        return _cond.wait_for(lambda: not _queue and not _busy, timeout)


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:  # a read-only descriptor: nothing to flush, nothing to lose
        pass


def _run() -> None:
    global _busy
    while True:
        with _cond:
            _cond.wait_for(lambda: bool(_queue))
            fd = _queue.popleft()
            _busy += 1
        try:
            _close(fd)
        finally:
            with _cond:
                _busy -= 1
                _cond.notify_all()


def _after_fork_in_child() -> None:
    """The child has no closing thread; the descriptors it inherited are its own copies."""
    global _thread, _busy, _cond
    _cond = threading.Condition()
    fds = list(_queue)
    _queue.clear()
    _busy = 0
    _thread = None
    for fd in fds:
        _close(fd)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
