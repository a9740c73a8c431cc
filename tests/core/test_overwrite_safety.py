"""``create(..., overwrite=True)`` validates every argument before it touches the store: a bad
argument raises a typed error and the existing array (metadata, attributes and chunks) is
left exactly as it was.  Issue 11 item 1; the same for ``Group.create_array``, which also
honours ``write_empty_chunks=`` and ``skip_checksum=``."""

import numpy as np
import pytest

import exzarr as ez
from exzarr import errors
from exzarr.storage import LocalStore, MemoryStore

# (arguments that make create() fail, zarr_format of the attempt)
BAD_ARGS = {
    "unknown compressor": (dict(compressor="no-such-codec"), 3),
    "unknown compressor v2": (dict(compressor="no-such-codec"), 2),
    "bad codecs": (dict(codecs=[{"name": "no-such-codec"}]), 3),
    "codecs not a list": (dict(codecs=42), 3),
    "fill_value abc": (dict(fill_value="abc"), 3),
    "fill_value abc v2": (dict(fill_value="abc"), 2),
    "shards not a multiple of chunks": (dict(chunks=(3,), shards=(4,)), 3),
    "shards on v2": (dict(chunks=(3,), shards=(6,)), 2),
    "v2 with codecs": (dict(codecs=[{"name": "bytes"}]), 2),
    "bad dtype": (dict(dtype="not-a-dtype"), 3),
    "negative shape": (dict(shape=(-4,)), 3),
    "bad order": (dict(order="Q"), 2),
    "bad dimension_names": (dict(dimension_names=["x", "y"]), 3),
    "attributes not JSON": (dict(attributes={"a": object()}), 3),
}


def snapshot(store):
    return {k: store.get(k) for k in sorted(store.list())}


def _old_array(store, fmt, path=None):
    z = ez.create(store, path=path, shape=(8,), chunks=(4,), dtype="i4", zarr_format=fmt,
                  attributes={"keep": "me"})
    z[:] = np.arange(8)
    return z


def _attempt_kwargs(bad):
    kwargs = dict(shape=(12,), chunks=(4,), dtype="f8")
    kwargs.update(bad)
    return kwargs


def _check_intact(store, before, path=None, fmt=3):
    assert snapshot(store) == before
    z = ez.open(store, path=path, mode="r")
    assert z.read().tolist() == list(range(8))
    assert z.attrs["keep"] == "me"
    assert z.zarr_format == fmt


@pytest.mark.parametrize("case", sorted(BAD_ARGS))
def test_create_overwrite_with_bad_args_keeps_old_array(case):
    bad, fmt = BAD_ARGS[case]
    store = MemoryStore()
    _old_array(store, fmt)
    before = snapshot(store)
    # (create's argument errors are ValueError/TypeError today; ExzarrError subclasses of
    # them once array/create.py raises typed errors)
    with pytest.raises((errors.ExzarrError, ValueError, TypeError)):
        ez.create(store, overwrite=True, zarr_format=fmt, **_attempt_kwargs(bad))
    _check_intact(store, before, fmt=fmt)


@pytest.mark.parametrize("case", ["unknown compressor", "fill_value abc",
                                  "shards not a multiple of chunks", "v2 with codecs"])
def test_create_overwrite_on_local_store_keeps_files(tmp_path, case):
    bad, fmt = BAD_ARGS[case]
    p = str(tmp_path / "a.zarr")
    _old_array(p, fmt)
    before = snapshot(LocalStore(p))
    with pytest.raises(Exception):
        ez.create(p, overwrite=True, zarr_format=fmt, **_attempt_kwargs(bad))
    assert snapshot(LocalStore(p)) == before
    assert ez.open(p, mode="r").read().tolist() == list(range(8))


@pytest.mark.parametrize("case", sorted(BAD_ARGS))
def test_group_create_array_overwrite_with_bad_args_keeps_old_array(case):
    bad, fmt = BAD_ARGS[case]
    store = MemoryStore()
    g = ez.group(store, zarr_format=fmt)
    _old_array(store, fmt, path="a")
    g.create_array("sibling", shape=(2,), dtype="u1")[:] = [7, 8]
    before = snapshot(store)
    with pytest.raises((errors.ExzarrError, ValueError, TypeError)):
        g.create_array("a", overwrite=True, **_attempt_kwargs(bad))
    _check_intact(store, before, path="a", fmt=fmt)
    assert ez.open(store, path="sibling").read().tolist() == [7, 8]


def test_overwrite_with_good_args_replaces():
    store = MemoryStore()
    _old_array(store, 3)
    z = ez.create(store, overwrite=True, shape=(3,), chunks=(3,), dtype="u1")
    assert z.shape == (3,) and z.read().tolist() == [0, 0, 0]
    assert "keep" not in z.attrs
    assert [k for k in store.list() if k.startswith("c/")] == []


def test_create_without_overwrite_refuses_and_keeps():
    store = MemoryStore()
    _old_array(store, 3)
    before = snapshot(store)
    with pytest.raises(errors.NodeExistsError):
        ez.create(store, shape=(3,), dtype="u1")
    assert snapshot(store) == before


@pytest.mark.parametrize("fmt", [2, 3])
def test_group_create_array_write_empty_chunks(fmt):
    store = MemoryStore()
    g = ez.group(store, zarr_format=fmt)
    sep = "/" if fmt == 3 else "."
    prefix = "c/" if fmt == 3 else ""
    for flag, expect in ((True, 2), (False, 0)):
        z = g.create_array(f"a{flag}", shape=(8,), chunks=(4,), dtype="i4", fill_value=0,
                           write_empty_chunks=flag)
        z[:] = 0  # every chunk entirely fill_value
        chunk_keys = [k for k in store.list_prefix(f"a{flag}/")
                      if k.split("/", 1)[1].replace(prefix, "", 1).replace(sep, "").isdigit()]
        assert len(chunk_keys) == expect, (flag, chunk_keys)


def test_group_create_array_skip_checksum():
    store = MemoryStore()
    g = ez.group(store)
    codecs = [{"name": "bytes"}, {"name": "crc32c"}]
    z = g.create_array("checked", shape=(8,), chunks=(8,), dtype="u1", codecs=codecs)
    z[:] = np.arange(8)
    raw = bytearray(store.get("checked/c/0"))
    raw[2] ^= 0xFF  # flip a data byte: the checksum no longer matches
    store.set("checked/c/0", bytes(raw))
    with pytest.raises(errors.ChecksumMismatchError):
        g["checked"].read()
    z2 = g.create_array("unchecked", shape=(8,), chunks=(8,), dtype="u1", codecs=codecs,
                        skip_checksum=True)
    z2[:] = np.arange(8)
    raw = bytearray(store.get("unchecked/c/0"))
    raw[2] ^= 0xFF
    store.set("unchecked/c/0", bytes(raw))
    got = z2.read()  # the handle create_array returned skips the check
    assert got[2] == 2 ^ 0xFF and got[3] == 3
