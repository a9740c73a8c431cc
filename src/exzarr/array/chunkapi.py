"""Chunk-level access: which chunks are stored, and reading/writing one chunk whole."""

from __future__ import annotations

import numpy as np

from ..errors import BoundsError, ShapeMismatchError
from ..storage.keys import join_key
from .casting import coerce_value
from .chunkstore import store_chunk

__all__ = ["stored_chunks", "read_chunk", "write_chunk", "check_coords"]


def stored_chunks(state):
    """Yield the grid coordinates of chunks present in the store (sorted)."""
    meta = state.meta
    grid = meta.grid_shape
    store = state.store
    prefix = join_key(state.path, "")
    if store.supports_listing:
        found = []
        for key in store.list_prefix(prefix):
            rel = key[len(prefix):]
            coords = meta.chunk_key_encoding.decode(rel, ndim=len(grid))
            if coords is not None and len(coords) == len(grid) and all(
                    0 <= c < g for c, g in zip(coords, grid)):
                found.append(tuple(coords))
        yield from sorted(found)
        return
    for coords in np.ndindex(*grid):
        if store.exists(state.chunk_key(coords)):
            yield tuple(coords)


def check_coords(state, coords: tuple[int, ...]) -> None:
    meta = state.meta
    grid = meta.grid_shape
    if len(coords) != len(grid) or any(not (0 <= c < g) for c, g in zip(coords, grid)):
        raise BoundsError(f"chunk coordinates {coords} are outside the chunk grid {grid} of the "
                          f"array at {state.where()}")


def read_chunk(state, coords: tuple[int, ...]) -> np.ndarray:
    """The chunk at ``coords``, clipped to the array bounds (fill_value if not stored)."""
    check_coords(state, coords)
    key = state.chunk_key(coords)
    raw = state.store.get(key)
    extent = state.chunk_extent(coords)
    if raw is None:
        return np.full(extent, state.fill, dtype=state.meta.dtype)
    chunk = state.pipeline.decode(raw, store=state.store, key=key)
    return chunk[tuple(slice(0, e) for e in extent)]


def write_chunk(state, coords: tuple[int, ...], data) -> None:
    """Replace the chunk at ``coords`` with ``data`` (its clipped shape, or the full chunk)."""
    check_coords(state, coords)
    state.store.check_writable(state.path or None)
    meta = state.meta
    extent = state.chunk_extent(coords)
    arr = coerce_value(data, meta.dtype, state.where())
    if arr.shape not in (extent, tuple(meta.chunks)):
        raise ShapeMismatchError(f"chunk {coords} of the array at {state.where()} has shape "
                                 f"{extent} (full chunk {tuple(meta.chunks)}); got data of shape "
                                 f"{arr.shape}")
    chunk = np.full(tuple(meta.chunks), state.fill, dtype=meta.dtype, order=meta.order)
    chunk[tuple(slice(0, e) for e in arr.shape)] = arr
    store_chunk(state, state.chunk_key(coords), chunk)
