"""Chunk streaming: iterate an array chunk by chunk with bounded memory.

``chunk_stream(parallel=N)`` keeps at most ``N`` chunks being read plus the one handed to
the caller, whatever the array size; ``parallel_chunk_map`` runs a function on every
chunk in the worker threads.
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from .. import executor
from ..indexing.parse import parse_key
from ..metadata.chunk_grid import grid_shape
from .reader import read_selection

__all__ = ["chunk_stream", "parallel_chunk_map", "chunk_region"]


def chunk_region(shape, chunks, coords) -> tuple[slice, ...]:
    return tuple(slice(c * k, min((c + 1) * k, s)) for c, k, s in zip(coords, chunks, shape))


def _coords(arr, filter) -> Iterator[tuple[int, ...]]:
    if arr.is_view:
        raise TypeError("chunk streaming applies to an array, not a view; stream the array "
                        "and select inside each chunk, or read the view")
    grid = grid_shape(arr.shape, arr.chunks)
    for c in np.ndindex(*grid):
        if filter is None or filter(c):
            yield c


def _loader(arr):
    state, shape, chunks = arr._state, arr.shape, arr.chunks

    def load(coords):
        region = chunk_region(shape, chunks, coords)
        return coords, read_selection(state, parse_key(region, shape))
    return load


def _with_progress(it, total: int, progress, desc: str):
    if not progress:
        return it
    from tqdm.auto import tqdm
    return tqdm(it, total=total, desc=desc, unit="chunk")


def _count(arr, filter) -> int:
    if filter is None:
        return arr.nchunks_grid
    return sum(1 for _ in _coords(arr, filter))


def chunk_stream(arr, *, parallel: int = 1, ordered: bool = True,
                 filter: Callable[[tuple], bool] | None = None, progress: bool = False):
    """Yield ``(coords, chunk_array)`` for every chunk (clipped at the edges).

    ``parallel`` chunks are fetched and decoded concurrently; ``ordered=False`` yields them
    as they complete.  ``filter(coords) -> bool`` skips chunks; ``progress=True`` shows a
    tqdm bar.  Memory: at most ``parallel + 1`` chunks are alive at once.
    """
    parallel = max(1, int(parallel))
    it = executor.imap(_loader(arr), _coords(arr, filter), parallel=parallel, ordered=ordered,
                       max_inflight=parallel, store=arr.store)
    total = _count(arr, filter) if progress else 0
    yield from _with_progress(it, total, progress, "chunks")


def parallel_chunk_map(arr, fn: Callable[[tuple, np.ndarray], object], *, parallel: int | None = None,
                       ordered: bool = True, filter: Callable[[tuple], bool] | None = None,
                       progress: bool = False) -> list:
    """``[fn(coords, chunk) for every chunk]``, computed in ``parallel`` worker threads."""
    load = _loader(arr)

    def work(coords):
        c, chunk = load(coords)
        return fn(c, chunk)

    n = parallel or executor.threads()
    it = executor.imap(work, _coords(arr, filter), parallel=n, ordered=ordered, max_inflight=n,
                       store=arr.store)
    total = _count(arr, filter) if progress else 0
    return list(_with_progress(it, total, progress, "chunks"))
