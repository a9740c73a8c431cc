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
"""

from __future__ import annotations

import platform
import threading

import numpy as np

__all__ = ["prime"]

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
