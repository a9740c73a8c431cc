"""What a chunk-grid picture shows, as plain data (no drawing, no I/O).

A :class:`GridModel` describes one N-dimensional grid: per axis its length, chunk length
and shard length (:class:`Axis`), optionally a highlighted :class:`Region` (the elements
a view selects), the chunks that region reads (another :class:`Region`), and the stored
units (:class:`Coverage`).  :mod:`.svg` draws a model; :mod:`.arrays` builds one from a
``ZArray``.  Anything else that knows a shape, a chunking and a region (a future lazy
expression or computation plan) builds a ``GridModel`` the same way and gets the same
picture.

Regions are products of per-axis interval sets (``[start, stop)`` in elements), so an
orthogonal selection is exact; a coordinate (vectorized) selection is drawn as the
product of its per-axis projections and marked ``exact=False``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ...indexing.selection import DimKind, DimMap, Selection
from ...metadata.chunk_grid import ceil_div
from ...indexing.slices import Slice

__all__ = ["Axis", "Interval", "Region", "Coverage", "GridModel", "runs", "selection_regions",
           "MAX_INTERVALS"]

#: ``[start, stop)`` along one axis, in elements
Interval = tuple[int, int]

#: the most intervals one axis of a region keeps before it becomes its bounding interval
MAX_INTERVALS = 16
#: index arrays longer than this are summarised by their bounding interval
_MAX_ENUMERATE = 1 << 20


@dataclass(frozen=True)
class Axis:
    """One axis of a grid: ``size`` elements in chunks of ``chunk`` (and shards of
    ``shard`` elements, a multiple of ``chunk``, when sharded)."""

    size: int
    chunk: int
    shard: int | None = None
    name: str | None = None

    @property
    def nchunks(self) -> int:
        return ceil_div(self.size, self.chunk) if self.chunk > 0 else 0

    @property
    def nshards(self) -> int | None:
        return ceil_div(self.size, self.shard) if self.shard else None


@dataclass(frozen=True)
class Region:
    """A box-product region: ``intervals[d]`` are the covered element intervals of axis
    ``d``.  ``exact`` is False where the drawing over-approximates (bounding intervals)."""

    intervals: tuple[tuple[Interval, ...], ...]
    exact: bool = True

    @property
    def nboxes(self) -> int:
        return math.prod(len(iv) for iv in self.intervals)

    def limited(self, max_boxes: int) -> "Region":
        """The same region with the axes of most intervals replaced by their bounding
        interval until it has at most ``max_boxes`` boxes."""
        ivs = [list(iv) for iv in self.intervals]
        exact = self.exact
        while math.prod(len(iv) for iv in ivs) > max_boxes:
            d = max(range(len(ivs)), key=lambda k: len(ivs[k]))
            ivs[d] = [(ivs[d][0][0], ivs[d][-1][1])]
            exact = False
        return Region(tuple(tuple(iv) for iv in ivs), exact)


@dataclass(frozen=True)
class Coverage:
    """Stored units (chunks, or shards of a sharded array): ``coords`` is an ``(n, ndim)``
    integer array of unit grid coordinates; ``unit`` is a unit's shape in elements."""

    unit: tuple[int, ...]
    coords: np.ndarray

    @property
    def count(self) -> int:
        return int(self.coords.shape[0])


@dataclass(frozen=True)
class GridModel:
    """Everything the SVG shows.  ``caption``: one line under the picture."""

    axes: tuple[Axis, ...]
    selection: Region | None = None
    touched: Region | None = None
    stored: Coverage | None = None
    caption: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def ndim(self) -> int:
        return len(self.axes)


def runs(values: np.ndarray) -> list[Interval]:
    """Sorted unique non-negative ints -> maximal runs of consecutive values, ``[a, b)``."""
    v = np.asarray(values, dtype=np.int64)
    if v.size == 0:
        return []
    breaks = np.nonzero(np.diff(v) != 1)[0]
    starts = np.concatenate(([v[0]], v[breaks + 1]))
    stops = np.concatenate((v[breaks] + 1, [v[-1] + 1]))
    return [(int(a), int(b)) for a, b in zip(starts, stops)]


def _bounded(ivs: list[Interval]) -> tuple[tuple[Interval, ...], bool]:
    if len(ivs) > MAX_INTERVALS:
        return ((ivs[0][0], ivs[-1][1]),), False
    return tuple(ivs), True


def _indices(d: DimMap) -> np.ndarray | None:
    """The sorted unique base indices ``d`` reads, or None when there are too many to list."""
    v = d.value
    if isinstance(v, Slice):
        if abs(v.step) == 1:
            lo = min(v.start, v.last)
            return np.arange(lo, lo + v.n, dtype=np.int64) if v.n <= _MAX_ENUMERATE else None
        return np.unique(v.to_array()) if v.n <= _MAX_ENUMERATE else None
    arr = np.asarray(v, dtype=np.int64).reshape(-1)
    if arr.size > _MAX_ENUMERATE * 4:
        return None
    return np.unique(arr)


def _span(d: DimMap) -> Interval:
    """The bounding interval of the indices ``d`` reads (cheap, no enumeration)."""
    v = d.value
    if isinstance(v, Slice):
        return min(v.start, v.last), max(v.start, v.last) + 1
    arr = np.asarray(v, dtype=np.int64)
    return int(arr.min()), int(arr.max()) + 1


def selection_regions(sel: Selection, chunks: Sequence[int]) -> tuple[Region, Region]:
    """``(selected, touched)`` for a selection of a base array chunked by ``chunks``:
    the selected elements and the chunks that hold them, per axis of the base array.
    An empty selection gives empty interval sets."""
    selected: list[tuple[Interval, ...]] = []
    touched: list[tuple[Interval, ...]] = []
    exact_sel = exact_touch = True
    multi_axis = any(d.kind is DimKind.ARRAY and len(d.axes) > 1 for d in sel.dims)
    shared = [a for d in sel.dims if d.kind is DimKind.ARRAY for a in d.axes]
    if multi_axis or len(shared) != len(set(shared)):
        exact_sel = exact_touch = False  # coordinate selection: per-axis projections
    for d, n, c in zip(sel.dims, sel.base_shape, chunks):
        if isinstance(d.value, Slice) and d.value.n == 0 or sel.size == 0:
            selected.append(())
            touched.append(())
            continue
        idx = _indices(d)
        if idx is None:
            lo, hi = _span(d)
            selected.append(((lo, hi),))
            touched.append(((lo // c * c, min(n, -(-hi // c) * c)),))
            exact_sel = exact_touch = False
            continue
        ivs, ok = _bounded(runs(idx))
        selected.append(ivs)
        exact_sel = exact_sel and ok
        civs, ok = _bounded(runs(np.unique(idx // c)))
        touched.append(tuple((a * c, min(n, b * c)) for a, b in civs))
        exact_touch = exact_touch and ok
    return Region(tuple(selected), exact_sel), Region(tuple(touched), exact_touch)
