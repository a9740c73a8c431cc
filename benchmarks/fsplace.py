"""Give each engine's files their own part of the disk.

On an ext4 without a journal (this project's VM) a new file's inode is found by skipping
over every inode of its block group freed in the last minute, and ext4 puts a folder's new
files in the folder's group of groups. Folders made under one benchmark folder land in
the same groups, so an engine's writes could skip over the inodes that another engine's
deleted arrays freed seconds before: in a full run of 2026-12-06 (tracepoints
``ext4:ext4_allocate_inode``/``ext4_free_inode``, split by worker), exzarr's raw.write
files skipped 388 freed inodes each, most of them freed by the other engines' blosc.write
arrays, and zarrs' 35. Which engine drew the littered groups depended on the order of the
run, not on the engine.

:func:`spread_children` marks a folder as a top of a tree (the ``chattr +T`` flag, which
ext4 also gives the file system's root): ext4 then places each folder made directly in it
in the group of groups with the fewest folders among those with more free inodes and
blocks than average, and the folders made inside that one next to it. Each engine's folder
made there gets groups of its own; its arrays' files then only skip the inodes freed by
its own earlier writes, as every other engine's do.
"""

from __future__ import annotations

import fcntl
import os
import struct

FS_IOC_GETFLAGS = 0x80086601
FS_IOC_SETFLAGS = 0x40086602
FS_TOPDIR_FL = 0x00020000


def _flags(fd: int) -> int:
    buf = bytearray(4)
    fcntl.ioctl(fd, FS_IOC_GETFLAGS, buf)
    return int(struct.unpack("I", buf)[0])


def spread_children(folder: str) -> str:
    """Mark ``folder`` so that the file system spreads the folders made in it; return what
    was done, for the log (a file system without the flag leaves it as it was)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack("I", _flags(fd) | FS_TOPDIR_FL))
        if not _flags(fd) & FS_TOPDIR_FL:
            return "the file system kept no top-folder flag: engines' folders placed as usual"
    except OSError as exc:
        return f"no top-folder flag here ({exc.strerror}): engines' folders placed as usual"
    finally:
        os.close(fd)
    return "engines' folders spread over the disk (top-folder flag)"
