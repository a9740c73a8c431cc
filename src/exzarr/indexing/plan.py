"""Resolve a :class:`Selection` against a regular chunk grid into a chunk plan.

The plan groups base dimensions into independent *units*: a dimension indexed by an
int or a slice is a unit on its own; dimensions sharing output axes (coordinate
selections) or indexed by arrays form a *points* unit whose points are grouped by chunk
once (a stable sort, so repeated indices keep their order: on write the last wins).
A chunk task is one piece of every unit; the tasks are the cartesian product.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from operator import floordiv
from typing import NamedTuple

import numpy as np

from .selection import DimKind, Selection
from .slices import Slice

__all__ = ["Unit", "UnitKind", "Piece", "ChunkTask", "ChunkPlan", "plan_selection"]


@dataclass(frozen=True, eq=False)
class Piece:
    """The part of one unit that falls into one chunk (per unit dimension)."""

    chunk: tuple[int, ...]          # chunk coordinate along each unit dimension
    inner: tuple                    # per unit dim: int | Slice (inside the chunk) | int array
    outer: object                   # Slice of output positions | None (int unit) | flat positions


class UnitKind(StrEnum):
    """What one unit of a plan is: a constant index, a slice along one output axis, or a
    set of points (one or more base dimensions indexed by arrays together)."""

    INT = "int"
    SLICE = "slice"
    POINTS = "points"


@dataclass(frozen=True, eq=False)
class Unit:
    kind: UnitKind
    dims: tuple[int, ...]           # base dimensions
    axes: tuple[int, ...]           # output axes
    pieces: tuple[Piece, ...]


class ChunkTask(NamedTuple):
    """One chunk's part of a plan (immutable; a named tuple: a read or write makes one
    per chunk before its threads start, ~0.7 against ~1.4 us for a frozen dataclass)."""

    coords: tuple[int, ...]
    pieces: tuple[Piece, ...]       # one per unit, in plan.units order
    # position in the plan's task order (it hides tuple.index, which nothing calls on a task)
    index: int  # type: ignore[assignment]


@dataclass(frozen=True, eq=False)
class ChunkPlan:
    selection: Selection
    chunks: tuple[int, ...]
    units: tuple[Unit, ...]

    @property
    def is_basic(self) -> bool:
        return all(u.kind is not UnitKind.POINTS for u in self.units)

    @property
    def nchunks(self) -> int:
        return math.prod(len(u.pieces) for u in self.units)

    def __iter__(self):
        ndim = len(self.chunks)
        pieces = [u.pieces for u in self.units]
        if tuple(u.dims for u in self.units) == tuple((d,) for d in range(ndim)):
            # one unit per dimension, in order (basic selections): each task's coords are
            # its pieces' chunks, taken from a product of ints
            grid = itertools.product(*([p.chunk[0] for p in ps] for ps in pieces))
            for i, (combo, at) in enumerate(zip(itertools.product(*pieces), grid)):
                yield ChunkTask(at, combo, i)
            return
        for i, combo in enumerate(itertools.product(*pieces)):
            coords = [0] * ndim
            for u, p in zip(self.units, combo):
                for d, c in zip(u.dims, p.chunk):
                    coords[d] = c
            yield ChunkTask(tuple(coords), combo, i)

    def task_at(self, index: int) -> ChunkTask:
        """The task at ``index`` in the plan's order (as :meth:`__iter__` makes it)."""
        picked: list[Piece] = []
        rest = index
        for u in reversed(self.units):
            rest, k = divmod(rest, len(u.pieces))
            picked.append(u.pieces[k])
        picked.reverse()
        coords = [0] * len(self.chunks)
        for u, p in zip(self.units, picked):
            for d, c in zip(u.dims, p.chunk):
                coords[d] = c
        return ChunkTask(tuple(coords), tuple(picked), index)

    @property
    def _unit_per_dim(self) -> bool:
        """Whether each unit is one dimension, in order (every basic plan of at least one
        dimension): its tasks are then the product of each dimension's pieces."""
        ndim = len(self.chunks)
        return bool(ndim) and tuple(u.dims for u in self.units) == tuple((d,) for d in range(ndim))

    def nblocks(self, block: tuple[int, ...]) -> int:
        """How many blocks of ``block`` chunks per dimension (:meth:`by_block`'s groups)
        hold the plan's tasks; counted per dimension, no task made, where each unit is one
        dimension."""
        if not self._unit_per_dim:
            return sum(1 for _ in self.by_block(block))
        return math.prod(len({p.chunk[0] // block[d] for p in u.pieces})
                         for d, u in enumerate(self.units))

    def by_block(self, block: tuple[int, ...]) -> Iterator[tuple[tuple[int, ...], list[ChunkTask]]]:
        """The tasks grouped by block of ``block`` chunks per dimension (the shards of a
        plan over inner chunks): ``(block coordinates, its tasks in plan order)``, the
        blocks in the order of their first task in the plan.  For basic plans each
        block's tasks are made when it is reached (a product of each dimension's pieces
        in that block), so a consumer can start on the first block before the last
        one's tasks exist."""
        ndim = len(self.chunks)
        if not self._unit_per_dim:
            groups: dict[tuple[int, ...], list[ChunkTask]] = {}
            for t in self:
                groups.setdefault(tuple(map(floordiv, t.coords, block)), []).append(t)
            yield from groups.items()
            return
        counts = [len(u.pieces) for u in self.units]
        stride = 1
        runs = []  # per dimension: [(block index, [(chunk, piece, index step)])]
        for d in reversed(range(ndim)):
            by: dict[int, list[tuple[int, Piece, int]]] = {}
            for k, piece in enumerate(self.units[d].pieces):
                c = piece.chunk[0]
                by.setdefault(c // block[d], []).append((c, piece, k * stride))
            runs.append(list(by.items()))
            stride *= counts[d]
        runs.reverse()
        for combo in itertools.product(*runs):
            tasks = [ChunkTask(cs, ps, sum(steps)) for cs, ps, steps in
                     map(_transposed, itertools.product(*(parts for _, parts in combo)))]
            yield tuple(b for b, _ in combo), tasks

    def covers_chunk(self, task: ChunkTask, shape: tuple[int, ...]) -> bool:
        """Whether the task writes every valid element of its chunk (edge chunks clipped)."""
        for u, p in zip(self.units, task.pieces):
            for d, inner in zip(u.dims, p.inner):
                c = p.chunk[u.dims.index(d)]
                extent = min(self.chunks[d], shape[d] - c * self.chunks[d])
                if u.kind is UnitKind.POINTS:
                    return False
                if isinstance(inner, Slice):
                    if abs(inner.step) != 1 or inner.n != extent:
                        return False
                elif extent != 1:
                    return False
        return True


def _transposed(at):
    """``((chunk, piece, index step), ...)`` per dimension -> (chunks, pieces, steps)."""
    return tuple(zip(*at))


def _slice_pieces(s: Slice, cs: int) -> list[Piece]:
    if s.n == 0:
        return []
    pieces = []
    lo, hi = min(s.start, s.last), max(s.start, s.last)
    step = s.step
    chunks_up = range(lo // cs, hi // cs + 1)
    chunk_range: Iterable[int] = reversed(chunks_up) if step < 0 else chunks_up
    for c in chunk_range:
        c0, c1 = c * cs, (c + 1) * cs - 1
        if step > 0:
            i0 = max(0, -(-(c0 - s.start) // step))
            i1 = min(s.n - 1, (c1 - s.start) // step)
        else:
            i0 = max(0, -(-(s.start - c1) // -step))
            i1 = min(s.n - 1, (s.start - c0) // -step)
        if i0 <= i1:
            pieces.append(Piece((c,), (Slice(s.at(i0) - c0, step, i1 - i0 + 1),), Slice(i0, 1, i1 - i0 + 1)))
    return pieces


def _points_unit(sel: Selection, dims: list[int], chunks) -> Unit:
    axes = tuple(sorted({a for d in dims for a in sel.dims[d].axes}))
    ushape = tuple(sel.out_shape[a] for a in axes)
    flat = []
    for d in dims:
        dm = sel.dims[d]
        if dm.kind is DimKind.INT:
            arr = np.full(ushape, dm.value, dtype=np.int64)
        else:
            full = dm.full(sel.out_shape)
            shp = [1] * len(axes)
            for k, a in enumerate(dm.axes):
                shp[axes.index(a)] = np.shape(full)[k]
            arr = np.broadcast_to(np.reshape(full, shp), ushape)
        flat.append(np.ascontiguousarray(arr).reshape(-1))
    npts = flat[0].shape[0] if flat else 0
    cidx = [f // chunks[d] for f, d in zip(flat, dims)]
    if len(dims) == 1:
        lin = cidx[0]
    else:
        grid = [int(c.max()) + 1 if c.size else 1 for c in cidx]
        lin = np.ravel_multi_index(cidx, grid) if npts else np.zeros(0, np.int64)
    order = np.argsort(lin, kind="stable")
    slin = lin[order]
    bounds = np.flatnonzero(np.diff(slin)) + 1
    starts = np.concatenate(([0], bounds)) if npts else np.zeros(0, np.int64)
    ends = np.concatenate((bounds, [npts])) if npts else np.zeros(0, np.int64)
    pieces = []
    for s0, s1 in zip(starts.tolist(), ends.tolist()):
        pos = order[s0:s1]
        chunk = tuple(int(c[pos[0]]) for c in cidx)
        inner = tuple(f[pos] - chunks[d] * ch for f, d, ch in zip(flat, dims, chunk))
        pieces.append(Piece(chunk, inner, pos))
    return Unit(UnitKind.POINTS, tuple(dims), axes, tuple(pieces))


def plan_selection(sel: Selection, chunks: tuple[int, ...]) -> ChunkPlan:
    """Group the selection's points by chunk (no I/O)."""
    ndim = len(sel.base_shape)
    # union dims that share output axes (or are arrays) into units
    axis_owner: dict[int, list[int]] = {}
    for d, dm in enumerate(sel.dims):
        for a in dm.axes:
            axis_owner.setdefault(a, []).append(d)
    seen: set[int] = set()
    units: list[Unit] = []
    for d in range(ndim):
        if d in seen:
            continue
        dm = sel.dims[d]
        cs = chunks[d]
        if dm.kind is DimKind.INT:
            c, i = divmod(dm.int_value, cs)
            units.append(Unit(UnitKind.INT, (d,), (), (Piece((c,), (i,), None),)))
            seen.add(d)
            continue
        group = {d}
        frontier = [d]
        while frontier:
            x = frontier.pop()
            for a in sel.dims[x].axes:
                for y in axis_owner[a]:
                    if y not in group:
                        group.add(y)
                        frontier.append(y)
        seen |= group
        if dm.kind is DimKind.SLICE and len(group) == 1:
            units.append(Unit(UnitKind.SLICE, (d,), dm.axes, tuple(_slice_pieces(dm.slice_value, cs))))
        else:
            units.append(_points_unit(sel, sorted(group), chunks))
    # order units by output axis so iteration follows C order of the output
    units.sort(key=lambda u: (min(u.axes) if u.axes else -1))
    return ChunkPlan(sel, tuple(chunks), tuple(units))
