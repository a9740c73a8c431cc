"""Storing one encoded chunk: encode it, or delete its key when it is entirely fill_value
(unless ``write_empty_chunks``).  Shared by the writer, the chunk API, resize and the
sharded writer."""

from __future__ import annotations

import numpy as np

from .. import config as _config
from ..kernels.fill import is_all_fill
from .allocator import prime
from .state import ArrayState

__all__ = ["store_chunk", "store_encoded", "is_write_empty"]


def is_write_empty(state: ArrayState) -> bool:
    """Whether chunks that are entirely fill_value are stored anyway."""
    w = state.write_empty_chunks
    return _config.get().write_empty_chunks if w is None else w


def store_chunk(state: ArrayState, key: str, chunk: np.ndarray, existed: bool = True) -> None:
    """Encode and store ``chunk``, or delete the key if it is all fill_value."""
    prime()
    if not is_write_empty(state) and is_all_fill(chunk, state.fill):
        if existed:
            state.store.delete(key)
        return
    state.store.set(key, state.pipeline.encode(chunk))


def store_encoded(state: ArrayState, key: str, data: bytes | np.ndarray, dtype: np.dtype,
                  existed: bool = True) -> None:
    """Store ``data``, the encoding of a chunk that is its own memory (uncompressed, C
    order, ``dtype``): bytes, or a C-contiguous array written with ``Store.set_parts``
    (the store must not keep it), or delete the key if the chunk is all fill_value."""
    flat = data.reshape(-1) if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=dtype)
    if not is_write_empty(state) and is_all_fill(flat, state.fill):
        if existed:
            state.store.delete(key)
        return
    if isinstance(data, np.ndarray):
        state.store.set_parts(key, [data.data.cast("B")])
    else:
        state.store.set(key, data)
