"""Changing an array's shape: ``resize`` and ``append``."""

from __future__ import annotations

import operator

import numpy as np

from ..errors import InvalidArgumentError, ShapeMismatchError, ViewOperationError
from .chunkapi import stored_chunks
from .chunkstore import store_chunk

__all__ = ["resize", "append"]


def resize(arr, new_shape: tuple[int, ...]) -> None:
    """Set a new shape; chunks wholly outside it are deleted, and the now-out-of-bounds
    part of edge chunks is reset to fill_value so growing again never shows stale data."""
    state = arr._state
    if arr.is_view:
        raise ViewOperationError(f"cannot resize a view of the array at {state.where()}: "
                                 "resize (and append) apply to the whole array; call it on "
                                 "the array itself")
    meta = state.meta
    try:
        new_shape = tuple(operator.index(s) for s in new_shape)
    except TypeError:
        raise ShapeMismatchError(f"cannot resize the array at {state.where()} to "
                                 f"{new_shape!r}: give one integer length per dimension") from None
    if len(new_shape) != len(meta.shape) or any(s < 0 for s in new_shape):
        raise ShapeMismatchError(f"cannot resize the {len(meta.shape)}-d array at {state.where()} "
                                 f"to {new_shape}: give one non-negative length per dimension")
    state.store.check_writable(state.path or None)
    old_shape = tuple(meta.shape)
    chunks = tuple(meta.chunks)
    # trim data outside the new shape before publishing it
    for coords in list(stored_chunks(state)):
        lo = tuple(c * k for c, k in zip(coords, chunks))
        if any(l >= n for l, n in zip(lo, new_shape)):
            state.store.delete(state.chunk_key(coords))
        elif any(min(l + k, o) > n for l, k, o, n in zip(lo, chunks, old_shape, new_shape)):
            _clear_outside(state, coords, new_shape)
    state.replace_meta(meta.replace(shape=tuple(new_shape)))


def _clear_outside(state, coords, new_shape) -> None:
    key = state.chunk_key(coords)
    raw = state.store.get(key)
    if raw is None:
        return
    chunk = state.pipeline.decode(raw, store=state.store, key=key).copy()
    keep = tuple(slice(0, max(0, n - c * k)) for c, k, n in zip(coords, state.meta.chunks, new_shape))
    mask = np.ones(chunk.shape, dtype=bool)
    mask[keep] = False
    chunk[mask] = state.fill
    store_chunk(state, key, chunk)


def append(arr, data, axis: int = 0) -> tuple[int, ...]:
    """Grow ``axis`` by ``data``'s length along it and write ``data`` there."""
    data = np.asarray(data)
    shape = arr.shape
    try:
        axis = operator.index(axis)
    except TypeError:
        raise InvalidArgumentError(f"append axis must be an integer, got {axis!r}") from None
    if shape and not -len(shape) <= axis < len(shape):
        raise InvalidArgumentError(f"append axis {axis} is out of range for the "
                                   f"{len(shape)}-d array at {arr._state.where()}; pass an "
                                   f"axis in [{-len(shape)}, {len(shape) - 1}]")
    axis = axis % len(shape) if shape else 0
    if data.ndim != len(shape) or any(d != s for i, (d, s) in enumerate(zip(data.shape, shape))
                                      if i != axis):
        raise ShapeMismatchError(f"cannot append data of shape {data.shape} to the array of "
                                 f"shape {shape} at {arr._state.where()} along axis {axis}: "
                                 f"the other dimensions must match")
    new_shape = tuple(s + (data.shape[axis] if i == axis else 0) for i, s in enumerate(shape))
    resize(arr, new_shape)
    region = tuple(slice(shape[axis], None) if i == axis else slice(None) for i in range(len(shape)))
    arr[region] = data
    return new_shape
