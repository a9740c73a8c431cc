"""Regions: what part of an array one evaluation step computes.

A region has one entry per dimension: a ``slice`` with concrete ``start``/``stop``/``step``
(any step but 0), or a 1-d ``int64`` array of positions.  Regions are orthogonal (the
selection is the outer product of the per-dimension selections), which is what stored
arrays read efficiently (``oindex``) and what every expression can map onto its inputs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

__all__ = ["Index1", "Region", "full_region", "index_len", "region_shape", "take_region",
           "compose_index", "block_regions", "index_bounds", "slice_within"]

Index1 = slice | np.ndarray
Region = tuple[Index1, ...]


def full_region(shape: Sequence[int]) -> Region:
    return tuple(slice(0, int(n), 1) for n in shape)


def index_len(ix: Index1) -> int:
    if isinstance(ix, slice):
        return len(range(ix.start, ix.stop, ix.step))
    return int(ix.shape[0])


def region_shape(region: Region) -> tuple[int, ...]:
    return tuple(index_len(ix) for ix in region)


def index_bounds(ix: Index1) -> tuple[int, int]:
    """``(lo, hi)``: the smallest range of positions that holds every selected index."""
    if isinstance(ix, slice):
        n = index_len(ix)
        if n == 0:
            return 0, 0
        first, last = ix.start, ix.start + (n - 1) * ix.step
        return min(first, last), max(first, last) + 1
    if ix.size == 0:
        return 0, 0
    return int(ix.min()), int(ix.max()) + 1


def slice_within(outer: Region, inner: Region) -> tuple[slice, ...] | None:
    """``inner`` as a NumPy index into an array holding ``outer`` (both step-1 slices per
    dimension), or None when it is not inside."""
    out: list[slice] = []
    for o, i in zip(outer, inner):
        if not (isinstance(o, slice) and isinstance(i, slice)) or o.step != 1 or i.step != 1:
            return None
        if i.start < o.start or i.stop > o.stop:
            return None
        out.append(slice(i.start - o.start, i.stop - o.start))
    return tuple(out)


def _py_slice(ix: slice) -> slice:
    """The Python slice that selects ``ix``'s positions from a sequence (negative steps
    that run past 0 need ``stop=None``)."""
    if ix.step < 0 and ix.stop < 0:
        return slice(ix.start, None, ix.step)
    return ix


def take_region(a: np.ndarray, region: Region) -> np.ndarray:
    """``a`` indexed orthogonally by ``region`` (one entry per dimension of ``a``)."""
    if all(isinstance(ix, slice) for ix in region):
        return a[tuple(_py_slice(ix) for ix in region if isinstance(ix, slice))]
    out = a
    for axis, ix in enumerate(region):
        if isinstance(ix, slice):
            if ix != slice(0, a.shape[axis], 1):
                out = out[(slice(None),) * axis + (_py_slice(ix),)]
        else:
            out = np.take(out, ix, axis=axis)
    return out


def compose_index(outer: Index1, inner: Index1) -> Index1:
    """The positions of ``outer``'s selection picked by ``inner`` (positions into it)."""
    if isinstance(outer, slice):
        if isinstance(inner, slice):
            start = outer.start + inner.start * outer.step
            step = outer.step * inner.step
            n = index_len(inner)
            return slice(start, start + n * step, step)
        return (outer.start + inner.astype(np.int64) * outer.step).astype(np.int64)
    if isinstance(inner, slice):
        return outer[_py_slice(inner)]
    return outer[inner]


def block_regions(shape: Sequence[int], block: Sequence[int],
                  offsets: Sequence[int] | None = None) -> Iterator[Region]:
    """Regions tiling ``shape`` with boundaries at ``offset + k * block`` per dimension."""
    per_dim: list[list[slice]] = []
    for d, (n, b) in enumerate(zip(shape, block)):
        b = max(1, int(b))
        off = int(offsets[d]) % b if offsets is not None else 0
        cuts = [0] + list(range(off if off else b, int(n), b)) + [int(n)]
        cuts = sorted(set(cuts))
        per_dim.append([slice(lo, hi, 1) for lo, hi in zip(cuts[:-1], cuts[1:])] or
                       [slice(0, 0, 1)])
    if any(n == 0 for n in shape):
        yield tuple(slice(0, int(n), 1) for n in shape)
        return
    idx = [0] * len(per_dim)
    if not per_dim:
        yield ()
        return
    while True:
        yield tuple(per_dim[d][i] for d, i in enumerate(idx))
        d = len(idx) - 1
        while d >= 0:
            idx[d] += 1
            if idx[d] < len(per_dim[d]):
                break
            idx[d] = 0
            d -= 1
        if d < 0:
            return
