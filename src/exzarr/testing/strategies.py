"""Hypothesis strategies for arrays, chunk shapes and NumPy-style selections (public).

Used by exzarr's own property tests; third-party stores and codecs can reuse them.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

__all__ = ["shapes", "chunk_shapes", "dtypes", "basic_keys", "fancy_keys", "orthogonal_keys",
           "vectorized_keys", "array_data", "shape_and_chunks"]

DTYPES = ["bool", "int8", "uint8", "<i2", ">i2", "<u4", ">i8", "<u8", "<f2", "<f4", ">f8",
          "<c8", ">c16"]


def dtypes():
    return st.sampled_from(DTYPES).map(np.dtype)


def shapes(min_dims: int = 0, max_dims: int = 4, max_side: int = 9):
    return st.lists(st.integers(0, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


def chunk_shapes(shape):
    return st.tuples(*[st.integers(1, max(1, s + 1)) for s in shape])


@st.composite
def shape_and_chunks(draw, min_dims=0, max_dims=4, max_side=9):
    shape = draw(shapes(min_dims, max_dims, max_side))
    return shape, draw(chunk_shapes(shape))


@st.composite
def array_data(draw, shape, dtype):
    """Random array values (NaN/inf included for floats)."""
    n = int(np.prod(shape, dtype=np.int64))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if dtype.kind == "b":
        a = rng.integers(0, 2, n).astype(bool)
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        a = rng.integers(max(info.min, -1000), min(info.max, 1000), n, endpoint=True).astype(dtype)
    elif dtype.kind == "f":
        a = rng.normal(0, 100, n).astype(dtype)
        if n and draw(st.booleans()):
            a[rng.integers(0, n)] = np.nan
    else:
        a = (rng.normal(0, 100, n) + 1j * rng.normal(0, 100, n)).astype(dtype)
    return a.reshape(shape)


def _index(size: int):
    if size == 0:
        return st.nothing()
    return st.integers(-size, size - 1)


def _slice(size: int):
    bound = st.one_of(st.none(), st.integers(-size - 2, size + 2))
    step = st.one_of(st.none(), st.integers(-3, 3).filter(lambda x: x != 0))
    return st.builds(slice, bound, bound, step)


@st.composite
def basic_keys(draw, shape):
    """ints, slices (any step), Ellipsis and None, as NumPy accepts them."""
    items = []
    for size in shape:
        items.append(draw(st.one_of(_slice(size), _index(size)) if size else _slice(size)))
    if items and draw(st.booleans()):  # drop trailing dims or replace a run with Ellipsis
        cut = draw(st.integers(0, len(items)))
        if draw(st.booleans()):
            items = items[:cut] + [Ellipsis] + items[cut + draw(st.integers(0, len(items) - cut)):]
        else:
            items = items[:cut]
    n_new = draw(st.integers(0, 2))
    for _ in range(n_new):
        items.insert(draw(st.integers(0, len(items))), None)
    return tuple(items)


def _int_array(size: int, max_len: int = 6):
    if size == 0:
        return st.just(np.zeros(0, np.int64))
    return st.lists(st.integers(-size, size - 1), min_size=0, max_size=max_len).map(
        lambda v: np.asarray(v, dtype=np.int64))


@st.composite
def fancy_keys(draw, shape):
    """NumPy advanced indexing: int arrays mixed with slices/ints, or a boolean mask."""
    if shape and draw(st.booleans()) and all(shape):
        k = draw(st.integers(1, len(shape)))
        start = draw(st.integers(0, len(shape) - k))
        seed = draw(st.integers(0, 2**32 - 1))
        mask = np.random.default_rng(seed).random(shape[start:start + k]) < 0.4
        return (slice(None),) * start + (mask,)
    items = []
    arr_len = draw(st.integers(0, 5))
    for size in shape:
        choice = draw(st.integers(0, 2))
        if choice == 0 and size:
            vals = draw(st.lists(st.integers(-size, size - 1), min_size=arr_len, max_size=arr_len))
            items.append(np.asarray(vals, dtype=np.int64))
        elif choice == 1 and size:
            items.append(draw(_index(size)))
        else:
            items.append(draw(_slice(size)))
    return tuple(items)


@st.composite
def orthogonal_keys(draw, shape):
    items = []
    for size in shape:
        choice = draw(st.integers(0, 3))
        if choice == 0:
            items.append(draw(_int_array(size)))
        elif choice == 1:
            seed = draw(st.integers(0, 2**32 - 1))
            items.append(np.random.default_rng(seed).random(size) < 0.5)
        elif choice == 2 and size:
            items.append(draw(_index(size)))
        else:
            items.append(draw(_slice(size)))
    return tuple(items)


@st.composite
def vectorized_keys(draw, shape):
    n = draw(st.integers(0, 6))
    items = []
    for size in shape:
        if size == 0:
            return tuple(np.zeros(0, np.int64) for _ in shape)
        items.append(np.asarray(draw(st.lists(st.integers(-size, size - 1), min_size=n, max_size=n)),
                                dtype=np.int64))
    return tuple(items)
