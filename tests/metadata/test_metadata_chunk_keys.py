"""Chunk key encodings (v3 default and v2) and chunk keys of array metadata."""

import pytest

from exzarr.errors import BoundsError, InvalidMetadataError, UnsupportedExtensionError
from exzarr.metadata import ArrayMetadataV2, ArrayMetadataV3, ChunkKeyEncoding

BYTES = [{"name": "bytes", "configuration": {"endian": "little"}}]


@pytest.mark.parametrize("kind,sep,coords,key", [
    ("default", "/", (1, 23, 45), "c/1/23/45"),
    ("default", ".", (1, 23, 45), "c.1.23.45"),
    ("default", "/", (), "c"),
    ("default", ".", (0,), "c.0"),
    ("v2", ".", (1, 23, 45), "1.23.45"),
    ("v2", "/", (1, 23, 45), "1/23/45"),
    ("v2", ".", (), "0"),
    ("v2", "/", (7,), "7"),
])
def test_encode_decode(kind, sep, coords, key):
    enc = ChunkKeyEncoding(kind, sep)
    assert enc.encode(coords) == key
    assert enc.decode(key, ndim=len(coords)) == coords


def test_default_separators():
    assert ChunkKeyEncoding().separator == "/"
    assert ChunkKeyEncoding("default").separator == "/"
    assert ChunkKeyEncoding("v2").separator == "."


@pytest.mark.parametrize("kind,sep,key", [
    ("default", "/", "zarr.json"), ("default", "/", "c.1"), ("default", "/", "c/1/x"),
    ("default", "/", "c//1"), ("default", "/", "c/-1"), ("default", "/", "c/01"),
    ("default", "/", "d/1"), ("v2", ".", ".zarray"), ("v2", ".", "1/2"), ("v2", ".", "1..2"),
    ("v2", ".", ""), ("v2", "/", "c/1"), ("v2", ".", "1.2e3"), ("v2", ".", "١"),
])
def test_decode_rejects_non_chunk_keys(kind, sep, key):
    assert ChunkKeyEncoding(kind, sep).decode(key) is None


def test_decode_checks_ndim():
    enc = ChunkKeyEncoding("default", "/")
    assert enc.decode("c/1/2") == (1, 2)
    assert enc.decode("c/1/2", ndim=3) is None
    v2 = ChunkKeyEncoding("v2", ".")
    assert v2.decode("0") == (0,)  # without ndim, "0" is 1-d
    assert v2.decode("0", ndim=0) == ()
    assert v2.decode("3", ndim=0) is None


def test_json_forms():
    assert ChunkKeyEncoding("v2", "/").to_json() == {"name": "v2", "configuration": {"separator": "/"}}
    assert ChunkKeyEncoding.from_json("default") == ChunkKeyEncoding("default", "/")
    assert ChunkKeyEncoding.from_json({"name": "v2"}) == ChunkKeyEncoding("v2", ".")
    assert ChunkKeyEncoding.from_json({"name": "default", "configuration": {"separator": "."}}) \
        == ChunkKeyEncoding("default", ".")
    for enc in (ChunkKeyEncoding("default", "."), ChunkKeyEncoding("v2", "/")):
        assert ChunkKeyEncoding.from_json(enc.to_json()) == enc


def test_bad_encodings():
    with pytest.raises(UnsupportedExtensionError, match="'flat'"):
        ChunkKeyEncoding.from_json({"name": "flat"})
    with pytest.raises(UnsupportedExtensionError, match="cannot read"):
        ChunkKeyEncoding("nested")
    with pytest.raises(InvalidMetadataError, match="separator"):
        ChunkKeyEncoding("default", "-")
    with pytest.raises(InvalidMetadataError, match="separator"):
        ChunkKeyEncoding.from_json({"name": "default", "configuration": {"separator": ":"}})
    with pytest.raises(InvalidMetadataError, match="unknown configuration"):
        ChunkKeyEncoding.from_json({"name": "default", "configuration": {"sep": "/"}})


def test_array_chunk_keys():
    v3 = ArrayMetadataV3.create((10, 10), (5, 5), "i4", 0, BYTES)
    assert v3.chunk_key((0, 1)) == "c/0/1"
    assert ArrayMetadataV3.create((), (), "i4", 0, BYTES).chunk_key(()) == "c"
    v3v2 = ArrayMetadataV3.create((10, 10), (5, 5), "i4", 0, BYTES,
                                  chunk_key_encoding={"name": "v2", "configuration": {"separator": "/"}})
    assert v3v2.chunk_key((0, 1)) == "0/1"
    v2 = ArrayMetadataV2.create((10, 10), (5, 5), "<i4", 0, None, None)
    assert v2.chunk_key((0, 1)) == "0.1"
    assert v2.chunk_key_encoding == ChunkKeyEncoding("v2", ".")
    v2n = v2.replace(dimension_separator="/")
    assert v2n.chunk_key((0, 1)) == "0/1"
    assert ArrayMetadataV2.create((), (), "<i4", 0, None, None).chunk_key(()) == "0"
    with pytest.raises(BoundsError, match="2 dimensions"):
        v2.chunk_key((1,))


@pytest.mark.parametrize("shape,chunks,grid", [((10, 10), (5, 3), (2, 4)), ((0, 7), (2, 7), (0, 1)),
                                               ((), (), ()), ((1,), (100,), (1,))])
def test_grid_shape(shape, chunks, grid):
    for m in (ArrayMetadataV3.create(shape, chunks, "u1", 0, BYTES),
              ArrayMetadataV2.create(shape, chunks, "|u1", 0, None, None)):
        assert m.grid_shape == grid and m.nchunks_per_dim == grid
