"""Uncompressed chunks written to an in-memory store by the compiled encoder
(``exzarr.kernels.encode_gather`` into each chunk's own bytes object): the source's rows
are checked against the fill pattern where they are and copied with non-temporal stores
(``exzarr.kernels.stream``).  The stored bytes are exactly the per-chunk path's, all-fill
chunks are left out, and reads equal NumPy."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import exzarr as ez
from exzarr import config
from exzarr.storage import MemoryStore

from .markers import needs_compiled_zstd

pytestmark = needs_compiled_zstd


def contents(store) -> dict:
    return {k: store.get(k) for k in sorted(store.list())}


def write(value, chunks, fill_value, jit_on, key=Ellipsis, threads=1, **kw):
    store = MemoryStore()
    z = ez.create(store, shape=value.shape, chunks=chunks, dtype=value.dtype,
                  compressor=None, fill_value=fill_value, **kw)
    with config.set(jit=jit_on, threads=threads):
        z[key] = value
    return store, z


def both(value, chunks, fill_value=0, **kw):
    fast, z = write(value, chunks, fill_value, True, **kw)
    slow, _ = write(value, chunks, fill_value, False, **kw)
    assert contents(fast) == contents(slow)
    np.testing.assert_array_equal(z[...].read(), value)
    return fast


def test_whole_chunks_go_through_the_kernel(encode_calls):
    d = np.arange(64 * 48, dtype="f4").reshape(64, 48) + 1
    d[:16, :12] = 0                       # all fill: left out
    d[16:32, :12] = 0
    d[31, 11] = 5                          # fill but for its last element: stored
    fast = both(d, (16, 12), threads=2)
    assert "c/0/0" not in fast.list() and fast.get("c/1/0") is not None
    assert sum(done for _, done in encode_calls) == 16


@pytest.mark.parametrize("dtype,chunks", [
    ("u1", (7, 5)),      # 5-byte rows: never 16-byte aligned, shorter than a stream
    ("i2", (9, 33)),     # 66-byte rows: streamed where aligned, the rest by memmove
    ("f8", (4, 19)),     # 152-byte rows: a 16-byte tail after the streamed part
    ("c16", (3, 8)),     # 128-byte rows
    ("f4", (40,)),       # one row per chunk (1-D)
])
def test_row_sizes_and_alignments(dtype, chunks):
    shape = tuple(c * 5 for c in chunks)
    d = (np.random.default_rng(1).standard_normal(shape) * 50).astype(dtype)
    both(d, chunks)


@pytest.mark.parametrize("fill", [0, 7.5, -0.0, float("nan")])
def test_fill_values(fill):
    d = np.full((32, 24), 3.0, dtype="f4")
    d[:8, :8] = fill                       # all fill (NaN: never "equal", stored)
    d[8:16, 8:16] = 0.0                    # +0.0 where the fill is -0.0: stored
    both(d, (8, 8), fill_value=fill)


def test_write_empty_chunks_keeps_fill_chunks():
    d = np.zeros((32, 32), dtype="f4")
    fast = both(d, (8, 8), write_empty_chunks=True)
    assert len([k for k in fast.list() if k.startswith("c/")]) == 16


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 5), cols=st.integers(1, 5), ch=st.integers(1, 40),
       cw=st.integers(1, 40), dtype=st.sampled_from(["u1", "i2", "f4", "f8"]),
       zero_chunk=st.booleans(), data=st.data())
def test_writes_match_numpy(rows, cols, ch, cw, dtype, zero_chunk, data):
    shape = (rows * ch + data.draw(st.integers(0, ch - 1)),
             cols * cw + data.draw(st.integers(0, cw - 1)))
    d = (np.random.default_rng(rows * 7 + cols).standard_normal(shape) * 20).astype(dtype)
    if zero_chunk:
        d[:ch, :cw] = 0
    start = data.draw(st.integers(0, ch)), data.draw(st.integers(0, cw))
    prefill = np.ones(shape, dtype=dtype)
    stores = []
    for jit_on in (True, False):
        store, z = write(prefill, (ch, cw), 0, True)
        with config.set(jit=jit_on):
            z[start[0]:, start[1]:] = d[start[0]:, start[1]:]
        stores.append(contents(store))
        expected = prefill.copy()
        expected[start[0]:, start[1]:] = d[start[0]:, start[1]:]
        np.testing.assert_array_equal(z[...].read(), expected)
    assert stores[0] == stores[1]


# -- the copy itself -------------------------------------------------------------------

def _copier():
    from numba import njit

    from exzarr.kernels.stream import store_fence, stream_copy

    @njit(nogil=True)
    def copy(memmove, dst, src, n):
        stream_copy(memmove, dst, src, n)
        store_fence()
    return copy


@pytest.mark.parametrize("offset", [0, 1, 8, 15, 16, 17])
@pytest.mark.parametrize("n", [0, 1, 15, 63, 64, 65, 100, 4096, 4099, 100_000])
def test_stream_copy_copies_every_byte(offset, n):
    from exzarr.kernels.cfunc import address
    memmove = address(ctypes.CDLL(None).memmove)
    src = np.random.default_rng(n).integers(0, 256, n + 32, dtype=np.uint8)
    dst = np.zeros(n + 64, dtype=np.uint8)
    base = dst.ctypes.data
    at = base + (-base % 16) + offset     # dst aligned, then moved by ``offset``
    lo = at - base
    _copier()(memmove, at, src.ctypes.data + 3, n)
    np.testing.assert_array_equal(dst[lo:lo + n], src[3:3 + n])
    assert not dst[:lo].any() and not dst[lo + n:].any()  # nothing outside
