"""Hypothesis round trips: from_json(to_json(m)) == m and from_bytes(to_bytes(m)) == m."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from exzarr.metadata import (
    ArrayMetadataV2,
    ArrayMetadataV3,
    ChunkKeyEncoding,
    GroupMetadataV3,
    dtype_to_v2,
    parse_dtype_v2,
)

V3_DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
             "float16", "float32", "float64", "complex64", "complex128"]
V2_SIMPLE = ["|b1", "|i1", "|u1"] + [f"{o}{k}{n}" for o in "<>" for k, ns in
                                       (("i", (2, 4, 8)), ("u", (2, 4, 8)), ("f", (2, 4, 8)),
                                        ("c", (8, 16))) for n in ns]
V2_OTHER = ["<M8[ns]", ">M8[s]", "<M8[D]", "<m8[ms]", ">m8[us]", "|S1", "|S7", "<U1", ">U4",
            "|V3", [["x", "<f4"], ["y", "|u1"]], [["a", ">i2", [2]], ["b", "|S2"]]]

json_scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12)
attributes = st.dictionaries(st.text(max_size=8), json_values, max_size=5)


@st.composite
def shapes_and_chunks(draw):
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.lists(st.integers(0, 10**6), min_size=ndim, max_size=ndim)))
    chunks = tuple(draw(st.lists(st.integers(1, 10**5), min_size=ndim, max_size=ndim)))
    return shape, chunks


def fill_for(dtype):
    if dtype.kind == "V" and dtype.fields is None:
        return st.binary(min_size=dtype.itemsize, max_size=dtype.itemsize)
    if dtype.kind in "fc":  # any bit pattern, NaN payloads included
        return st.binary(min_size=dtype.itemsize, max_size=dtype.itemsize).map(
            lambda b: np.frombuffer(b, dtype=dtype)[0])
    return hnp.from_dtype(dtype).map(lambda v: np.array(v, dtype=dtype)[()])


@st.composite
def v3_metadata(draw):
    shape, chunks = draw(shapes_and_chunks())
    dtype = np.dtype(draw(st.sampled_from(V3_DTYPES)))
    fill = draw(st.none() | fill_for(dtype))
    codecs = draw(st.lists(st.sampled_from([
        "crc32c", {"name": "bytes", "configuration": {"endian": "big"}},
        {"name": "zstd", "configuration": {"level": 3, "checksum": True}},
        {"name": "gzip", "configuration": {}}]), min_size=1, max_size=3))
    cke = draw(st.builds(ChunkKeyEncoding, st.sampled_from(["default", "v2"]),
                         st.sampled_from(["/", "."])))
    names = draw(st.none() | st.lists(st.none() | st.text(max_size=5), min_size=len(shape),
                                      max_size=len(shape)))
    return ArrayMetadataV3.create(shape, chunks, dtype, fill, codecs, chunk_key_encoding=cke,
                                  dimension_names=names, attributes=draw(attributes))


@st.composite
def v2_metadata(draw):
    shape, chunks = draw(shapes_and_chunks())
    dtype = parse_dtype_v2(draw(st.sampled_from(V2_SIMPLE + V2_OTHER)))
    fill = draw(st.none() | fill_for(dtype))
    compressor = draw(st.none() | st.just({"id": "zlib", "level": 1}))
    filters = draw(st.none() | st.just([{"id": "delta", "dtype": dtype_to_v2(dtype)}]))
    return ArrayMetadataV2.create(shape, chunks, dtype, fill, compressor, filters,
                                  order=draw(st.sampled_from("CF")),
                                  dimension_separator=draw(st.sampled_from("./")),
                                  attributes=draw(attributes))


def float_bits(x):
    a = np.asarray(x)
    return a.view(f"u{a.dtype.itemsize}").tolist() if a.dtype.kind == "f" else a.tobytes()


@settings(max_examples=300, deadline=None)
@given(v3_metadata())
def test_v3_round_trip(m):
    assert ArrayMetadataV3.from_json(m.to_json()) == m
    again = ArrayMetadataV3.from_bytes(m.to_bytes())
    assert again == m
    # v3 keeps fill values bit-exact, NaN payloads included (hex form)
    assert float_bits(again.fill_value) == float_bits(m.fill_value)
    assert again.to_bytes() == m.to_bytes()


@settings(max_examples=300, deadline=None)
@given(v2_metadata())
def test_v2_round_trip(m):
    again = ArrayMetadataV2.from_json(m.to_json(), attributes=m.attributes)
    assert again == m
    assert ArrayMetadataV2.from_bytes(m.to_bytes(), zattrs=m.attrs_to_bytes()) == m
    if m.fill_value is not None and m.dtype.kind == "f" and not math.isnan(m.fill_value):
        assert float_bits(again.fill_value) == float_bits(m.fill_value)
    assert again.to_bytes() == m.to_bytes()


@settings(max_examples=100, deadline=None)
@given(attributes)
def test_group_round_trip(attrs):
    g = GroupMetadataV3(attributes=attrs)
    assert GroupMetadataV3.from_bytes(g.to_bytes()) == g


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["default", "v2"]), st.sampled_from(["/", "."]),
       st.lists(st.integers(0, 10**12), max_size=5))
def test_chunk_key_round_trip(kind, sep, coords):
    enc = ChunkKeyEncoding(kind, sep)
    assert enc.decode(enc.encode(tuple(coords)), ndim=len(coords)) == tuple(coords)
