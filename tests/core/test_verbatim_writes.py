"""Uncompressed chunks written in full are stored verbatim in one copy (from the source
block into new bytes for the memory store; through the thread's scratch buffer and
``set_parts`` for local files).  NumPy is the oracle, on both stores."""

import tempfile

import numpy as np
import pytest
from hypothesis import given, strategies as st

import exzarr as ez
from exzarr.storage.local import LocalStore
from exzarr.storage.memory import MemoryStore
from exzarr.testing.strategies import array_data, basic_keys, dtypes, shape_and_chunks

pytestmark = pytest.mark.property


@given(shape_and_chunks(0, 3), dtypes(), st.sampled_from([2, 3]), st.sampled_from([0, 1]),
       st.booleans(), st.sampled_from(["memory", "local"]), st.data())
def test_uncompressed_full_and_partial_writes(sc, dtype, fmt, fill, write_empty, where, data):
    shape, chunks = sc
    fill = bool(fill) if dtype.kind == "b" else fill
    with tempfile.TemporaryDirectory() as d:
        store = MemoryStore() if where == "memory" else LocalStore(d)
        z = ez.create(store, shape=shape, chunks=chunks, dtype=dtype, fill_value=fill,
                      zarr_format=fmt, compressor=None, write_empty_chunks=write_empty)
        a = data.draw(array_data(shape, dtype))
        if data.draw(st.booleans()):  # some chunks entirely fill_value
            a[tuple(slice(0, c) for c in chunks)] = fill
        z[...] = a
        np.testing.assert_array_equal(z[...].read(), a)
        key = data.draw(basic_keys(shape))
        v = data.draw(array_data(a[key].shape, dtype))
        z[key] = v
        a[key] = v
        np.testing.assert_array_equal(z[...].read(), a)
        z[...] = np.full(shape, fill, dtype=dtype)
        np.testing.assert_array_equal(z[...].read(), np.full(shape, fill, dtype=dtype))
        chunk_keys = [k for k in store.list() if not k.endswith((".json", ".zarray", ".zattrs"))]
        assert bool(chunk_keys) == (write_empty and a.size > 0)
