"""Planning an evaluation: block shape, blocks in flight, what is computed once up front,
and the working set, checked against the memory budget before anything is read."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import config as _config
from ..errors import MemoryBudgetError
from .expr import Expr, Grid, Leaf, walk
from .linalg import Matmul
from .reduce import ArgReduce, Cumulative, Reduce
from .slab import SlabPlan, slab_plan

__all__ = ["Plan", "make_plan", "fmt_bytes"]

#: nodes evaluated with their own sub-blocks (their inputs are not read at block size)
_BLOCKWISE_REDUCERS = (Reduce, ArgReduce, Cumulative, Matmul)


def fmt_bytes(n: float) -> str:
    """``3.8 MiB``; exact below 1 KiB."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@dataclass(frozen=True)
class Plan:
    """How an expression will be evaluated (``str(plan)`` is a readable report)."""

    shape: tuple[int, ...]
    dtype: np.dtype
    block_shape: tuple[int, ...]
    block_offsets: tuple[int, ...]
    nblocks: int
    in_flight: int
    block_bytes: int
    peak_bytes: int
    bytes_read: int
    bytes_written: int
    memory_limit: int
    precompute: tuple[Expr, ...]
    nodes: int
    #: one pass slab by slab (inputs cached per slab; see :mod:`.slab`), or None
    slabs: SlabPlan | None = None

    def __str__(self) -> str:
        rows = [
            ("output", f"{self.shape} {self.dtype}"),
            ("blocks", f"{self.nblocks} of {self.block_shape}, {self.in_flight} in flight"),
            ("computed first", f"{len(self.precompute)} small intermediate(s)"
                               if self.slabs is None else
                               f"{len(self.precompute)} small intermediate(s), slab by slab "
                               f"({fmt_bytes(self.slabs.slab_bytes)} of inputs cached per "
                               f"slab: one pass)"),
            ("estimated peak memory", f"{fmt_bytes(self.peak_bytes)} (limit "
                                      f"{fmt_bytes(self.memory_limit)})"),
            ("bytes read", fmt_bytes(self.bytes_read)),
            ("bytes written", fmt_bytes(self.bytes_written)),
            ("expression nodes", str(self.nodes)),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}} : {v}" for k, v in rows)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython
        p.text(str(self))


def _units(shape: tuple[int, ...], grid: Grid | None,
           align: Grid | None) -> tuple[list[int], list[int]]:
    """Per dimension: the smallest block size worth using, and its offset."""
    units, offs = [], []
    for d, n in enumerate(shape):
        size, off = 0, 0
        if align is not None and align[d][0]:
            size, off = align[d]
        elif grid is not None and grid[d][0]:
            size, off = grid[d]
        units.append(max(1, min(size, n)) if size else 1)
        offs.append(off)
    return units, offs


def _grow(shape: tuple[int, ...], units: list[int], item: int, target: int) -> list[int]:
    """Blocks of whole units, grown (trailing dimensions first, up to the full extent,
    then in whole units) until about ``target`` bytes."""
    block = [max(1, min(u, n)) for u, n in zip(units, shape)]
    for d in reversed(range(len(shape))):
        n = max(shape[d], 1)
        rest = math.prod(block) // block[d]
        fit = target // max(1, rest * item)
        if fit <= block[d]:
            break
        if fit >= n:
            block[d] = n
            continue
        block[d] = max(block[d], (fit // units[d]) * units[d])
        break
    return block


def _leaf_chunk_bytes(e: Expr) -> int:
    g = e.grid() if isinstance(e, Leaf) else None
    if not g:
        return 0
    return math.prod(max(1, s) for s, _ in g) * e.dtype.itemsize


def make_plan(expr: Expr, *, align: Grid | None = None, memory_limit: int | None = None,
              block_bytes: int | None = None, threads: int | None = None,
              writes: bool = False) -> Plan:
    """Plan ``expr``'s evaluation; ``align`` forces block boundaries (a write target's
    chunks).  Raises :class:`MemoryBudgetError` when no block size fits the budget."""
    cfg = _config.get()
    limit = int(memory_limit if memory_limit is not None else cfg.memory_limit)
    target = int(block_bytes if block_bytes is not None else cfg.block_bytes)
    in_flight = max(1, int(threads if threads is not None else cfg.threads))
    nodes = walk(expr)
    # small reductions feeding a larger expression are computed once, up front
    precompute = tuple(n for n in nodes if n is not expr and isinstance(n, (Reduce, ArgReduce))
                       and n.nbytes <= max(limit // 8, 1))
    pre_bytes = sum(n.nbytes for n in precompute)
    item = max(1, expr.dtype.itemsize)
    grid = expr.grid()
    units, offs = _units(expr.shape, grid, align)
    per_elem = sum(n.dtype.itemsize for n in nodes
                   if not isinstance(n, _BLOCKWISE_REDUCERS) and n.shape == expr.shape) or item
    reducers = [n for n in nodes if isinstance(n, _BLOCKWISE_REDUCERS) and n not in precompute]
    chunk_over = max((_leaf_chunk_bytes(n) for n in nodes), default=0)

    def working_set(block: list[int], sub: int, flying: int) -> int:
        elems = math.prod(block)
        per_block = elems * per_elem + chunk_over
        # a reducer evaluates its input in sub-blocks of about ``sub`` bytes, with its
        # partial results at most output-block sized
        per_block += len(reducers) * (sub * 2 + elems * item)
        return flying * per_block + pre_bytes

    while True:
        block = _grow(expr.shape, units, item, target)
        peak = working_set(block, target, in_flight)
        if peak <= limit:
            break
        if target > max(chunk_over, 1 << 16):
            target //= 2
            continue
        if in_flight > 1:
            in_flight -= 1
            continue
        raise MemoryBudgetError(
            f"this computation needs about {fmt_bytes(peak)} of working memory even with "
            f"the smallest blocks ({tuple(block)} of {expr.dtype}, {len(precompute)} "
            f"intermediate(s) of {fmt_bytes(pre_bytes)} kept), more than memory_limit="
            f"{fmt_bytes(limit)}; raise it with exzarr.config.set(memory_limit=...), or "
            f"store an intermediate result with to_zarr() first.  Nothing was read.")
    # the slab cache may use what the blocks leave of the budget, up to an eighth of it,
    # so that peak memory stays bounded by a constant as arrays grow (beyond that: the
    # two-pass plan)
    slabbed = slab_plan(expr, precompute, tuple(block), min(limit - peak, limit // 8))
    if slabbed is not None:
        peak += slabbed.slab_bytes
    nblocks = 1
    for n, b, o in zip(expr.shape, block, offs):
        if n == 0:
            nblocks = 0
            break
        b = max(1, b)
        first = (o % b) or b
        nblocks *= 1 + max(0, -(-(n - first) // b)) if n > first else 1
    reads = sum(n.nbytes for n in nodes if isinstance(n, Leaf))
    return Plan(shape=expr.shape, dtype=expr.dtype, block_shape=tuple(block),
                block_offsets=tuple(offs), nblocks=nblocks, in_flight=in_flight,
                block_bytes=target, peak_bytes=peak, bytes_read=reads,
                bytes_written=expr.nbytes if writes else 0, memory_limit=limit,
                precompute=precompute, nodes=len(nodes), slabs=slabbed)
