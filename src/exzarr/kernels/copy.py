"""Gather/scatter between a chunk buffer and an output buffer through offset lists.

A chunk task is a cartesian product of *units*; for each unit we have two aligned
lists of element offsets: where each selected element sits in the source buffer and
where it goes in the destination.  ``copy_offsets`` walks the product (last unit
fastest, i.e. C order of the output) and copies element ``sum(src_offs)`` to
``sum(dst_offs)``.  Elements are moved as ``w`` machine words, so one compiled kernel
per word type serves every dtype (ints, floats, complex, datetimes, fixed strings).

Without Numba (or with ``exzarr.config`` ``jit=False``) :func:`copy_offsets_reference`
does the same with NumPy fancy indexing on the word views: it builds the full offset
products, so it is slower and uses more memory, but the result is bit-identical (when a
destination is addressed twice, the last element in C order wins, as in the kernel).
"""

from __future__ import annotations

import numpy as np

from . import jit
from .jit import lazy_njit

__all__ = ["copy_offsets", "copy_offsets_reference", "fill_offsets", "words_view"]


def words_view(arr: np.ndarray) -> tuple[np.ndarray, int]:
    """A flat view of a contiguous array as machine words, and words per element."""
    item = arr.dtype.itemsize
    for wt in (np.uint64, np.uint32, np.uint16, np.uint8):
        ws = np.dtype(wt).itemsize
        if item % ws == 0:
            if not (arr.flags.c_contiguous or arr.flags.f_contiguous):
                raise ValueError("words_view needs a contiguous array")
            flat = arr.ravel(order="K")
            return flat.view(np.uint8).view(wt), item // ws
    raise AssertionError("unreachable")


@lazy_njit
def _copy(src, src_offs, dst, dst_offs, starts, w):
    k = starts.shape[0] - 1
    total = 1
    for u in range(k):
        total *= starts[u + 1] - starts[u]
    if total == 0:
        return
    last0 = starts[k - 1]
    nlast = starts[k] - last0
    idx = np.zeros(k, np.int64)
    while True:
        bs = 0
        bd = 0
        for u in range(k - 1):
            bs += src_offs[starts[u] + idx[u]]
            bd += dst_offs[starts[u] + idx[u]]
        if w == 1:
            for j in range(nlast):
                dst[bd + dst_offs[last0 + j]] = src[bs + src_offs[last0 + j]]
        else:
            for j in range(nlast):
                s = (bs + src_offs[last0 + j]) * w
                d = (bd + dst_offs[last0 + j]) * w
                for t in range(w):
                    dst[d + t] = src[s + t]
        u = k - 2
        while u >= 0:
            idx[u] += 1
            if idx[u] < starts[u + 1] - starts[u]:
                break
            idx[u] = 0
            u -= 1
        if u < 0:
            return


def _pack(offs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    starts = np.zeros(len(offs) + 1, np.int64)
    np.cumsum([len(o) for o in offs], out=starts[1:])
    flat = np.concatenate(offs).astype(np.int64, copy=False) if offs else np.zeros(0, np.int64)
    return flat, starts


def copy_offsets(src: np.ndarray, src_offs: list, dst: np.ndarray, dst_offs: list) -> None:
    """Copy ``src`` elements to ``dst`` (both contiguous, same dtype) per unit offset lists."""
    if src.dtype.hasobject or not src_offs or not jit.enabled():
        copy_offsets_reference(src, src_offs, dst, dst_offs)
        return
    s, w = words_view(src)
    d, _ = words_view(dst)
    so, starts = _pack(src_offs)
    do, _ = _pack(dst_offs)
    _copy(s, so, d, do, starts, w)


def fill_offsets(dst: np.ndarray, dst_offs: list, value) -> None:
    """Set the elements of ``dst`` addressed by the unit offset lists to ``value``
    (a copy from a one-element source whose offsets are all zero)."""
    v = np.asarray(value, dtype=dst.dtype).reshape(1)
    copy_offsets(v, [np.zeros(len(o), np.int64) for o in dst_offs], dst, dst_offs)


def _copy_flat(s: np.ndarray, src_offs: list, d: np.ndarray, dst_offs: list, w: int) -> None:
    """The NumPy version of ``_copy`` on flat views (``w`` items per element)."""
    si = _product_offsets(src_offs)
    di = _product_offsets(dst_offs)
    if not _sums_unique(dst_offs):
        si, di = _last_writes(si, di)
    if w == 1:
        d[di] = s[si]
    else:
        d.reshape(-1, w)[di] = s.reshape(-1, w)[si]


def _product_offsets(offs: list[np.ndarray]) -> np.ndarray:
    """All sums ``offs[0][i0] + offs[1][i1] + ...``, last unit fastest (C order)."""
    total = np.zeros((), np.int64)
    for o in offs:
        total = np.add.outer(total, np.asarray(o, np.int64))
    return total.reshape(-1)


def _sums_unique(offs: list) -> bool:
    """A cheap sufficient test that the product of ``offs`` has no repeated sum.

    Taking units by increasing span, if every unit's distinct offsets are further apart
    than the spans of all units before it added together (as for strides of distinct
    axes), each sum has a single decomposition.  False means "maybe repeated".
    """
    parts = []
    for o in offs:
        o = np.sort(np.asarray(o, np.int64))
        if o.size > 1 and np.any(o[1:] == o[:-1]):
            return False
        parts.append(o)
    if any(p.size == 0 for p in parts):
        return True  # empty product
    reach = 0
    for o in sorted(parts, key=lambda p: int(p[-1] - p[0])):
        if o.size > 1:
            if int(np.min(np.diff(o))) <= reach:
                return False
            reach += int(o[-1] - o[0])
    return True


def _last_writes(si: np.ndarray, di: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep, for every destination, only its last writer (sequential semantics)."""
    rev = di[::-1]
    _, first_in_rev = np.unique(rev, return_index=True)
    keep = np.sort(di.size - 1 - first_in_rev)
    return si[keep], di[keep]


def copy_offsets_reference(src: np.ndarray, src_offs: list, dst: np.ndarray, dst_offs: list) -> None:
    """Pure-NumPy equivalent of :func:`copy_offsets`: the fallback without Numba and the
    test oracle (same contract: contiguous arrays of one dtype, unit offset lists)."""
    if not src_offs:  # 0-d: a single element
        dst.ravel(order="K")[0] = src.ravel(order="K")[0]
    elif src.dtype.hasobject:  # references, not machine words: NumPy keeps the refcounts
        _copy_flat(src.ravel(order="K"), src_offs, dst.ravel(order="K"), dst_offs, 1)
    else:
        s, w = words_view(src)
        d, _ = words_view(dst)
        _copy_flat(s, src_offs, d, dst_offs, w)
