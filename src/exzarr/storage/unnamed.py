"""Whether a folder's file system makes unnamed files that can be linked into place.

A new chunk's file written from compiled code (:mod:`exzarr.kernels.file_write`) is made
as an unnamed file in its own folder (``O_TMPFILE``) and linked into place through
``/proc/self/fd`` once complete: as atomic as a temporary file renamed into place, it
leaves nothing behind when its writer is killed, and ext4 allocates its inode in the
folder's block group (a write's files spread like the folders, instead of crowding the
group of the writing thread's temporary folder, where an ext4 without a journal scans
past every recently freed inode for each new one).  Not every file system has
``O_TMPFILE`` (and ``/proc`` may be missing): :func:`links_unnamed` tries it once in a
store's folder.
"""

from __future__ import annotations

import os

__all__ = ["links_unnamed"]


def links_unnamed(folder: str, probe: str) -> bool:
    """True when an unnamed file made in ``folder`` can be linked to the new path
    ``probe`` (in that folder; removed again) and so into place."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None:
        return False
    try:
        fd = os.open(folder, os.O_WRONLY | flag | os.O_CLOEXEC, 0o600)
    except OSError:
        return False
    try:
        # linkat(AT_SYMLINK_FOLLOW) of /proc/self/fd/<fd>, as the kernel does (os.link
        # calls link(), which does not follow the link, unless given a folder's fd)
        procfd = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.link(str(fd), probe, src_dir_fd=procfd, follow_symlinks=True)
        finally:
            os.close(procfd)
    except OSError:
        return False
    finally:
        os.close(fd)
    try:
        os.unlink(probe)
    except OSError:
        pass
    return True
