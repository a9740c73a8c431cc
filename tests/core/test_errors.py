"""Every failure gets its typed error with a message naming what, where and what to do;
nothing already stored changes."""

import json

import numpy as np
import pytest

import exzarr as ez
from exzarr import errors
from exzarr.storage import LocalStore, MemoryStore


def snapshot(store):
    return {k: store.get(k) for k in store.list()}


def test_missing_array(tmp_path):
    with pytest.raises(errors.NodeNotFoundError) as ei:
        ez.open(str(tmp_path / "nope.zarr"), mode="r")
    msg = str(ei.value)
    assert "nope.zarr" in msg and "zarr.json" in msg and "check the path" in msg
    assert isinstance(ei.value, KeyError)
    with pytest.raises(errors.ArrayNotFoundError):
        ez.open_array(str(tmp_path / "nope.zarr"), mode="r")


@pytest.mark.parametrize("fmt,key", [(3, "zarr.json"), (2, ".zarray")])
def test_corrupt_metadata_json(tmp_path, fmt, key):
    p = tmp_path / "a.zarr"
    z = ez.create(str(p), shape=(4,), chunks=(2,), dtype="i4", zarr_format=fmt)
    z[:] = [1, 2, 3, 4]
    (p / key).write_text('{"shape": [4], "chunks": ')
    before = snapshot(LocalStore(str(p)))
    with pytest.raises(errors.InvalidMetadataError) as ei:
        ez.open(str(p))
    assert key in str(ei.value) and "JSON" in str(ei.value)
    assert isinstance(ei.value, ValueError)
    assert snapshot(LocalStore(str(p))) == before


@pytest.mark.parametrize("fmt", [2, 3])
def test_corrupt_chunk(tmp_path, fmt):
    p = tmp_path / "a.zarr"
    z = ez.create(str(p), shape=(4,), chunks=(2,), dtype="f8", zarr_format=fmt, compressor="zstd")
    z[:] = [1.0, 2.0, 3.0, 4.0]
    key = "c/1" if fmt == 3 else "1"
    (p / key).write_bytes(b"this is not zstd data")
    with pytest.raises(errors.DecompressionError) as ei:
        z[:].read()
    assert key in str(ei.value)
    assert z[:2].read().tolist() == [1.0, 2.0]  # other chunks still read
    # a partial write into the corrupt chunk fails and leaves it untouched
    with pytest.raises(errors.DecompressionError):
        z[3] = 9.0
    assert (p / key).read_bytes() == b"this is not zstd data"


def test_truncated_chunk(tmp_path):
    p = tmp_path / "a.zarr"
    z = ez.create(str(p), shape=(100,), chunks=(50,), dtype="f8", compressor=None)
    z[:] = np.arange(100.0)
    raw = (p / "c" / "0").read_bytes()
    (p / "c" / "0").write_bytes(raw[:-8])
    with pytest.raises(errors.DecompressionError) as ei:
        z.read()
    assert "c/0" in str(ei.value)


def test_crc32c_mismatch_and_skip_checksum(tmp_path):
    p = tmp_path / "a.zarr"
    z = ez.create(str(p), shape=(8,), chunks=(8,), dtype="u1",
                  codecs=[{"name": "bytes"}, {"name": "crc32c"}])
    z[:] = np.arange(8)
    raw = bytearray((p / "c" / "0").read_bytes())
    raw[2] ^= 0xFF  # flip a data byte
    (p / "c" / "0").write_bytes(bytes(raw))
    with pytest.raises(errors.ChecksumMismatchError) as ei:
        ez.open(str(p)).read()
    assert "c/0" in str(ei.value) and "skip_checksum" in str(ei.value)
    got = ez.open(str(p), skip_checksum=True).read()
    assert got[2] == 2 ^ 0xFF and got[3] == 3


def test_shape_mismatch_on_write():
    s = MemoryStore()
    z = ez.create(s, shape=(4, 4), chunks=(2, 2), dtype="i4")
    z[:] = 1
    before = snapshot(s)
    with pytest.raises(errors.ShapeMismatchError) as ei:
        z[:2, :] = np.zeros((3, 4), dtype="i4")
    assert "(3, 4)" in str(ei.value) and "(2, 4)" in str(ei.value)
    assert snapshot(s) == before


def test_unsafe_cast_refused():
    s = MemoryStore()
    z = ez.create(s, shape=(4,), chunks=(2,), dtype="i2")
    z[:] = 3
    before = snapshot(s)
    for bad in (np.array([1.5, 2, 3, 4]), 1.5, 70000, np.array(["a"] * 4)):
        with pytest.raises(errors.UnsafeCastError):
            z[:] = bad
    assert snapshot(s) == before
    z[:] = np.array([1, 2, 3, 4], dtype="i1")  # safe casts are fine
    z[0] = 7
    assert z.read().tolist() == [7, 2, 3, 4]


def test_missing_codec_library(monkeypatch, tmp_path):
    import exzarr.codecs.snappy as snappy_mod
    p = str(tmp_path / "s.zarr")
    z = ez.create(p, shape=(4,), dtype="i4", zarr_format=2, compressor={"id": "snappy"})
    z[:] = [1, 2, 3, 4]
    # simulate an environment without python-snappy (and without cramjam)
    import builtins
    real_import = builtins.__import__

    def fake_import(name, *a, **kw):
        if name in ("snappy", "cramjam"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setattr(snappy_mod, "_backend", None, raising=False)
    with pytest.raises(errors.CodecNotAvailableError) as ei:
        ez.open(p).read()
    assert "pip install" in str(ei.value)
    assert isinstance(ei.value, ImportError)


def test_bounds_error():
    z = ez.create(MemoryStore(), shape=(4, 5), chunks=(2, 2), dtype="i4")
    with pytest.raises(IndexError) as ei:
        z[4, 0]
    assert "axis 0" in str(ei.value) and "size 4" in str(ei.value)
    with pytest.raises(IndexError):
        z.vindex[[0, 1], [0, 7]]


def test_create_refuses_overwrite(tmp_path):
    p = str(tmp_path / "a.zarr")
    z = ez.create(p, shape=(3,), dtype="i4")
    z[:] = 5
    with pytest.raises(errors.NodeExistsError) as ei:
        ez.create(p, shape=(9,), dtype="f8")
    assert "overwrite=True" in str(ei.value)
    assert ez.open(p).read().tolist() == [5, 5, 5]
    z2 = ez.create(p, shape=(2,), dtype="f8", overwrite=True)
    assert z2.read().tolist() == [0.0, 0.0]


def test_read_only_mode(tmp_path):
    p = str(tmp_path / "a.zarr")
    ez.create(p, shape=(3,), dtype="i4")[:] = 1
    z = ez.open(p, mode="r")
    with pytest.raises(errors.ReadOnlyError) as ei:
        z[0] = 2
    assert "read-only" in str(ei.value)
    with pytest.raises(errors.ReadOnlyError):
        z.attrs["x"] = 1
    assert ez.open(p).read().tolist() == [1, 1, 1]


def test_unknown_must_understand_extension(tmp_path):
    p = tmp_path / "a.zarr"
    ez.create(str(p), shape=(3,), dtype="i4")
    doc = json.loads((p / "zarr.json").read_text())
    doc["my_extension"] = {"must_understand": True, "x": 1}
    (p / "zarr.json").write_text(json.dumps(doc))
    with pytest.raises(errors.UnsupportedExtensionError) as ei:
        ez.open(str(p))
    assert "my_extension" in str(ei.value)
    doc["my_extension"] = {"must_understand": False, "x": 1}
    (p / "zarr.json").write_text(json.dumps(doc))
    assert ez.open(str(p)).shape == (3,)


def test_integer_casts_checked_by_value():
    z = ez.create(MemoryStore(), shape=(3,), chunks=(2,), dtype="u1")
    z[:] = np.array([0, 255, 7])  # int64 values that fit
    assert z.read().tolist() == [0, 255, 7]
    with pytest.raises(errors.UnsafeCastError) as ei:
        z[:] = np.array([0, 256, 7])
    assert "range" in str(ei.value)
    with pytest.raises(errors.UnsafeCastError):
        z[:] = np.array([-1, 0, 0])
    assert z.read().tolist() == [0, 255, 7]


CHECKED_LAYOUTS = {
    "zstd-checksum": dict(compressor={"name": "zstd", "configuration": {"level": 1, "checksum": True}}),
    "crc32c": dict(codecs=[{"name": "bytes", "configuration": {"endian": "little"}},
                           {"name": "zstd", "configuration": {"level": 1, "checksum": False}},
                           {"name": "crc32c"}]),
    "sharded-crc32c": dict(chunks=(16, 16), codecs=[{"name": "sharding_indexed", "configuration": {
        "chunk_shape": [8, 8],
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                         {"name": "crc32c"}]}}]),
}


@pytest.mark.parametrize("layout", list(CHECKED_LAYOUTS))
def test_corruption_never_reads_wrong_values(layout):
    """Flipped bits, truncation or appended bytes in a chunk protected by a checksum give
    a typed error, never different values (and without one, truncation and appended
    bytes still always fail)."""
    import random
    want = np.arange(256, dtype="f4").reshape(16, 16)
    s = MemoryStore()
    kw = dict(CHECKED_LAYOUTS[layout])
    z = ez.create(s, shape=(16, 16), chunks=kw.pop("chunks", (16, 16)), dtype="f4", **kw)
    z[...] = want
    key = next(k for k in s.list() if not k.endswith(("zarr.json", ".zarray", ".zattrs")))
    orig = s.get(key)
    rng = random.Random(layout)
    for _ in range(150):
        b = bytearray(orig)
        how = rng.choice(["flip", "truncate", "append"])
        if how == "flip":
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif how == "truncate":
            b = b[:rng.randrange(len(b))]
        else:
            b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
        s.set(key, bytes(b))
        try:
            got = z.read()
        except errors.DecompressionError as e:
            assert e.key is not None and key.split("/")[0] in str(e)
            continue
        np.testing.assert_array_equal(got, want)  # a harmless change (e.g. a header bit)


# -- issue 11 item 3/8: every error a user can trigger is typed ---------------------------

@pytest.mark.parametrize("key,cls,builtin", [
    (1.5, errors.InvalidIndexError, IndexError),
    ("a", errors.InvalidIndexError, IndexError),
    (slice(None, None, 0), errors.InvalidSliceError, ValueError),
    (slice(0, 1.5), errors.InvalidIndexError, IndexError),
    ((1, 1, 1), errors.InvalidIndexError, IndexError),
    ((Ellipsis, Ellipsis), errors.InvalidIndexError, IndexError),
    ([[1, 2], [1]], errors.InvalidIndexError, IndexError),
    (np.array([1.5]), errors.InvalidIndexError, IndexError),
    ([2**70], errors.InvalidIndexError, IndexError),
    (np.array([2**63], dtype=np.uint64), errors.BoundsError, IndexError),
    (([0, 1], [0, 1, 2]), errors.InvalidIndexError, IndexError),
])
def test_bad_index_keys_are_typed(key, cls, builtin):
    z = ez.create(MemoryStore(), shape=(4, 4), chunks=(2, 2), dtype="i4")
    for op in (lambda: z[key], lambda: z.__setitem__(key, 1)):
        with pytest.raises(cls) as ei:
            op()
        assert isinstance(ei.value, builtin) and str(ei.value)


def test_bad_oindex_vindex_blocks_are_typed():
    z = ez.create(MemoryStore(), shape=(4, 4), chunks=(2, 2), dtype="i4")
    for op in (lambda: z.oindex[::0, 0], lambda: z.oindex[[[0]], 0], lambda: z.vindex[[0, 1], [0, 1, 2]],
               lambda: z.blocks[::2], lambda: z.blocks[[0]], lambda: z.blocks[0, 0, 0],
               lambda: z.oindex[True], lambda: z.vindex[None]):
        with pytest.raises(errors.InvalidIndexError):
            op()


@pytest.mark.parametrize("key", [np.array(True), np.array(False), True, False,
                                 (Ellipsis, np.array(False)), (0, np.array(True)),
                                 ([0, 1], np.array(True)), (np.array(True), slice(1, 3), None)])
def test_scalar_boolean_index_matches_numpy(key):
    a = np.arange(16, dtype="i4").reshape(4, 4)
    z = ez.create(MemoryStore(), shape=(4, 4), chunks=(2, 2), dtype="i4")
    z[...] = a
    expect = a[key]
    got = z[key].read()
    assert got.shape == expect.shape and np.array_equal(got, expect)
    b = a.copy()
    b[key] = -1
    z[key] = -1
    assert np.array_equal(z[...].read(), b)


@pytest.mark.parametrize("name", ["../x", "..", "", "a/../b", ".zarray", "zarr.json", "a/./b", 5, None])
def test_bad_member_names_are_typed(name):
    g = ez.group(MemoryStore())
    for op in (lambda: g.create_array(name, shape=(2,)), lambda: g[name]):
        with pytest.raises(errors.InvalidNameError) as ei:
            op()
        assert isinstance(ei.value, ValueError) and "name" in str(ei.value)


def test_resize_view_and_bad_append_are_typed():
    z = ez.create(MemoryStore(), shape=(4, 4), chunks=(2, 2), dtype="i4")
    with pytest.raises(errors.ViewOperationError) as ei:
        z[1:].resize((2, 2))
    assert isinstance(ei.value, TypeError) and "view" in str(ei.value)
    with pytest.raises(errors.InvalidArgumentError):
        z.append(np.zeros((1, 4), dtype="i4"), axis=5)
    assert z.shape == (4, 4)


def test_chunk_too_large_to_allocate_is_typed():
    from exzarr.array.scratch import allocate
    with pytest.raises(errors.ChunkTooLargeError) as ei:
        allocate((2**62,), np.dtype("f8"))
    assert isinstance(ei.value, MemoryError) and "smaller chunks" in str(ei.value)


@pytest.mark.parametrize("shape", [[2**64], [1] * 65])
def test_impossible_shapes_are_invalid_metadata(shape):
    s = MemoryStore()
    s.set("zarr.json", json.dumps({
        "zarr_format": 3, "node_type": "array", "shape": shape, "data_type": "uint8",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1] * len(shape)}},
        "chunk_key_encoding": {"name": "default"}, "fill_value": 0,
        "codecs": [{"name": "bytes"}]}).encode())
    with pytest.raises(errors.InvalidMetadataError):
        ez.open(s)


@pytest.mark.parametrize("fmt", [2, 3])
@pytest.mark.parametrize("dtype", ["M8[ns]", "m8[s]"])
def test_time_dtypes_default_to_nat(fmt, dtype):
    s = MemoryStore()
    z = ez.create(s, shape=(3,), chunks=(3,), dtype=dtype, zarr_format=fmt)
    assert np.isnat(z.fill_value) and np.isnat(z.read()).all()
    doc = json.loads(s.get("zarr.json" if fmt == 3 else ".zarray"))
    assert doc["fill_value"] == -(2**63)  # what zarr-python writes
