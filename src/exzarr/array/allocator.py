"""Priming the C allocator for chunk-sized buffers.

Codecs (numcodecs' zstd, blosc...) allocate each chunk's output at its worst-case size,
shrink it to the compressed size, and free it after the store has written it.  glibc's
malloc serves a request above its *mmap threshold* with a fresh ``mmap`` and raises the
threshold to the size of each such block when it is freed, but never above that size: the
blocks are freed *after* shrinking, so the threshold settles just under the worst-case
size and every chunk's output is a fresh mapping whose pages fault in one by one (on a VM
each first touch is expensive: 1.6 GiB of page faults and about 30 % of the time when
storing a 2 GiB result in 8 MiB chunks, measured with ``strace``/``getrusage``).

:func:`prime` allocates and frees one untouched block just under glibc's largest adaptive
threshold (32 MiB on 64-bit), once per process: glibc raises the threshold to it (and its
trim threshold to twice that), exactly as it would after any program's first large
temporary, so chunk buffers below it are reused from the heap instead of mapped afresh.
glibc's adaptive behaviour stays on (no ``mallopt``); other C libraries are left alone.

:func:`populate` maps all of a fresh output's pages at once, for a read over the
network in several rounds of requests (:func:`~exzarr.array.fetch.waits_long`).  Left
alone, each page is mapped when the first chunk lands on it, spread over the whole read;
NumPy asks for huge pages (2 MiB) for arrays from 4 MiB, and a huge page taken seconds
after the memory was freed can cost far more than one taken at once: on a VM whose host
takes back the guest's free 2 MiB blocks after ~2 s (virtio-balloon free page reporting,
as on this machine), a 64 MiB output first touched 3 s after the last one was freed took
145-212 ms against 8-11 ms right after (``/tmp`` script; 4 KiB pages: 30-43 ms either
way), and a read of 1024 chunks from S3 (moto) spent 13 % of its CPU clearing such
pages.  Mapped at the start, with the memory the last read freed, the same read took 772
-> 690 ms of CPU and 4.18 -> 3.89 s (medians of 12, taking turns in one process; faster
in 9 of 12 pairs).  ``MADV_POPULATE_WRITE`` (Linux 5.14 and later) makes and zeroes the
pages and changes nothing in them, so the fetch may already write into them; elsewhere
nothing is done.
"""

from __future__ import annotations

import ctypes
import mmap
import platform
import threading
from functools import cache

import numpy as np

from ..kernels.libc import linux_function

__all__ = ["prime", "populate"]

#: just under glibc's DEFAULT_MMAP_THRESHOLD_MAX (32 MiB on 64-bit) with room for its header
PRIME_BYTES = (32 << 20) - (1 << 20)

_lock = threading.Lock()
_done = False


def _is_glibc() -> bool:
    try:
        return platform.libc_ver()[0] == "glibc"
    except (OSError, ValueError):
        return False


def prime() -> None:
    """Raise glibc's adaptive mmap threshold once per process (a no-op elsewhere)."""
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        if _is_glibc() and np.dtype(np.intp).itemsize == 8:
            block = np.empty(PRIME_BYTES, dtype=np.uint8)  # mapped, never touched
            del block
        _done = True


#: ``madvise`` advice (Linux 5.14): fault the range's pages in, writable, leaving their
#: contents as they are
_MADV_POPULATE_WRITE = 23


@cache
def _madvise():
    """libc's ``madvise`` on Linux, else None."""
    return linux_function("madvise", [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int],
                          ctypes.c_int)


def populate(a: np.ndarray) -> bool:
    """Map every whole page of ``a``'s buffer now (``MADV_POPULATE_WRITE``), keeping its
    contents: whether the kernel did (False: not Linux, a kernel before 5.14, or out of
    memory for now; the pages are then mapped when first written, as they would be)."""
    fn = _madvise()
    if fn is None or not a.nbytes:
        return False
    page = mmap.PAGESIZE
    start = a.__array_interface__["data"][0]
    first = -(-start // page) * page
    end = (start + a.nbytes) // page * page
    if end <= first:
        return False
    return fn(first, end - first, _MADV_POPULATE_WRITE) == 0
