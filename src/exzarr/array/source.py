"""Stored arrays (and their views) as sources of lazy expressions: a region of an
expression's input is an orthogonal selection of the view, read like ``oindex``."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np

from ..compute import Grid, Region
from ..indexing.selection import DimKind, DimMap, Selection
from ..indexing.slices import Slice

__all__ = ["ZArraySource", "region_selection"]


def region_selection(shape: tuple[int, ...], region: Region) -> Selection:
    """``region`` (per dimension a concrete slice or int positions) as a selection of an
    array of ``shape``."""
    dims: list[DimMap] = []
    out: list[int] = []
    for axis, ix in enumerate(region):
        if isinstance(ix, slice):
            n = len(range(ix.start, ix.stop, ix.step))
            dims.append(DimMap.sl(Slice(ix.start, ix.step, n), axis))
            out.append(n)
        else:
            a = np.asarray(ix, dtype=np.int64)
            dims.append(DimMap.arr(a, (axis,)))
            out.append(int(a.shape[0]))
    return Selection(tuple(shape), tuple(dims), tuple(out))


class ZArraySource:
    """A stored array or view (a ``ZArray``), read region by region."""

    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array

    @property
    def shape(self) -> tuple[int, ...]:
        return self.array.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.array.dtype

    def read(self, region: Region, out: np.ndarray | None = None) -> np.ndarray:
        z = self.array
        if all(isinstance(ix, slice) and ix.start == 0 and ix.step == 1 and ix.stop == n
               for ix, n in zip(region, z.shape)):
            return np.asarray(z.read(out))
        return np.asarray(z._view(region_selection(z.shape, region)).read(out))

    def grid(self) -> Grid | None:
        z = self.array
        chunks = z.chunks
        sel = z.selection
        out: list[tuple[int, int]] = [(0, 0)] * len(z.shape)
        for base_dim, dm in enumerate(sel.dims):
            if dm.kind is not DimKind.SLICE:
                continue
            s = dm.value
            assert isinstance(s, Slice)
            c = chunks[base_dim]
            step = abs(s.step)
            if step == 1 and s.step > 0:
                out[dm.axes[0]] = (c, (-s.start) % c)
            elif c >= step:
                out[dm.axes[0]] = (max(1, c // step), 0)
        return tuple(out) if any(size for size, _ in out) else None

    def identity(self) -> Hashable:
        return (self.array.store.url, self.array.path)

    def selection_key(self) -> Hashable:
        """What part of the stored array this source reads (for overlap checks)."""
        sel = self.array.selection
        if any(d.kind is DimKind.ARRAY for d in sel.dims):
            return None
        return (sel.describe(), sel.out_shape)

    def __repr__(self) -> str:
        z = self.array
        return f"{z.store.url}{'/' + z.path if z.path else ''}{z.selection.describe()}"
