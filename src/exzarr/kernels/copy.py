"""Gather/scatter between a chunk buffer and an output buffer through offset lists.

A chunk task is a cartesian product of *units*; for each unit we have two aligned
lists of element offsets: where each selected element sits in the source buffer and
where it goes in the destination.  ``copy_offsets`` walks the product (last unit
fastest, i.e. C order of the output) and copies element ``sum(src_offs)`` to
``sum(dst_offs)``.  Elements are moved as ``w`` machine words, so one compiled kernel
per word type serves every dtype (ints, floats, complex, datetimes, fixed strings).
The NumPy reference ``copy_offsets_reference`` is the test oracle.
"""

from __future__ import annotations

import numpy as np

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
    if src.dtype.hasobject:  # references, not machine words: NumPy keeps the refcounts
        _copy_objects(src, src_offs, dst, dst_offs)
        return
    if not src_offs:  # 0-d: a single element
        dst.ravel(order="K")[0] = src.ravel(order="K")[0]
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


def _copy_objects(src, src_offs, dst, dst_offs) -> None:
    s = src.ravel(order="K")
    d = dst.ravel(order="K")
    si = _product_offsets(src_offs)
    di = _product_offsets(dst_offs)
    if np.unique(di).size == di.size:
        d[di] = s[si]
    else:  # repeated destinations: assign in order so the last one wins
        for a, b in zip(di.tolist(), si.tolist()):
            d[a] = s[b]


def _product_offsets(offs: list[np.ndarray]) -> np.ndarray:
    total = np.zeros((), np.int64)
    for o in offs:
        total = np.add.outer(total, np.asarray(o, np.int64))
    return total.reshape(-1)


def copy_offsets_reference(src: np.ndarray, src_offs: list, dst: np.ndarray, dst_offs: list) -> None:
    """Pure-NumPy equivalent of :func:`copy_offsets` (test oracle)."""
    s = src.ravel(order="K")
    d = dst.ravel(order="K")
    si = _product_offsets(src_offs)
    di = _product_offsets(dst_offs)
    for a, b in zip(di.tolist(), si.tolist()):  # sequential: last write wins
        d[a] = s[b]
