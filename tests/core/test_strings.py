"""Variable-length strings: zarr-python's v3 ``string`` (vlen-utf8) and v2 ``|O`` with a
vlen-utf8 filter, as object arrays of ``str``."""

import json
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import exzarr as ez
from exzarr import errors
from exzarr.storage import MemoryStore
from exzarr.testing.strategies import basic_keys, fancy_keys

zarr = pytest.importorskip("zarr")

WORDS = np.array(["", "a", "bb", "ünïcødé", "日本語", "x" * 40, "tab\tand\nnewline"], dtype=object)


def sample(n, seed=0):
    return np.random.default_rng(seed).choice(WORDS, n).astype(object)


@pytest.mark.parametrize("fmt", [2, 3])
def test_strings_both_ways_with_zarr_python(tmp_path, fmt):
    data = sample(23).reshape(-1)
    zp, ep = str(tmp_path / "z"), str(tmp_path / "e")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        za = zarr.create_array(zp, shape=(23,), chunks=(5,), dtype=str, zarr_format=fmt)
        za[...] = data
        got = ez.open(zp).read()
        assert got.dtype == object and got.tolist() == data.tolist()
        ea = ez.create(ep, shape=(23,), chunks=(5,), dtype=object, zarr_format=fmt)
        ea[...] = data
        assert list(zarr.open_array(ep)[...]) == data.tolist()
    meta = "zarr.json" if fmt == 3 else ".zarray"
    assert json.load(open(f"{ep}/{meta}")) == json.load(open(f"{zp}/{meta}"))


def test_sharded_strings_with_zarr_python(tmp_path):
    data = sample(40, 3).reshape(8, 5)
    p = str(tmp_path / "s")
    z = ez.create(p, shape=(8, 5), chunks=(2, 5), shards=(4, 5), dtype=object)
    z[...] = data
    z[1:3, 2] = "changed"
    data[1:3, 2] = "changed"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.asarray(zarr.open_array(p)[...]).tolist() == data.tolist()
    assert z.read().tolist() == data.tolist()


@given(st.data())
def test_string_reads_and_writes_match_numpy(d):
    a = sample(6 * 7, d.draw(st.integers(0, 1000))).reshape(6, 7)
    z = ez.create(MemoryStore(), shape=a.shape, chunks=(4, 3), dtype=object,
                  zarr_format=d.draw(st.sampled_from([2, 3])))
    z[...] = a
    key = d.draw(st.one_of(basic_keys(a.shape), fancy_keys(a.shape)))
    want = np.asarray(a[key], dtype=object)
    assert z[key].read().tolist() == want.tolist()
    value = sample(want.size, 7).reshape(want.shape)
    z[key] = value
    a[key] = value
    assert z.read().tolist() == a.tolist()


def test_empty_string_chunks_are_not_stored_and_non_strings_refused():
    z = ez.create(MemoryStore(), shape=(6,), chunks=(3,), dtype=object)
    assert z.fill_value == "" and z.read().tolist() == [""] * 6
    z[:] = ["a", "", "", "", "", ""]
    assert list(z.stored_chunks()) == [(0,)]
    with pytest.raises(errors.UnsafeCastError):
        z[0] = 5
    with pytest.raises(errors.UnsafeCastError):
        z[:] = np.arange(6)
    assert z.read().tolist() == ["a", "", "", "", "", ""]


def test_dtype_str_means_variable_length_strings():
    for spelling in (str, "string", object):
        z = ez.create(MemoryStore(), shape=(2,), dtype=spelling)
        assert z.dtype == object
        z[:] = ["x", "yz"]
        assert z.read().tolist() == ["x", "yz"]


def test_convert_strings_between_formats(tmp_path):
    src = str(tmp_path / "v2.zarr")
    z = ez.create(src, shape=(5,), chunks=(2,), dtype=object, zarr_format=2)
    z[:] = ["a", "b", "", "dé", "e"]
    v3 = ez.convert(src, str(tmp_path / "v3.zarr"), zarr_format=3)
    assert v3.codecs[0] == {"name": "vlen-utf8", "configuration": {}}
    back = ez.convert(str(tmp_path / "v3.zarr"), str(tmp_path / "back.zarr"), zarr_format=2,
                      chunks=(3,))
    assert back.codecs["filters"] == ({"id": "vlen-utf8"},)
    for arr in (v3, back):
        assert arr.read().tolist() == ["a", "b", "", "dé", "e"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert list(zarr.open_array(str(tmp_path / "v3.zarr"))[...]) == ["a", "b", "", "dé", "e"]
