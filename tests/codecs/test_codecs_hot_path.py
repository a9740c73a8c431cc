"""decode(out=) hands the caller's buffer to the decompressor (no intermediate copy)."""

from __future__ import annotations

import numpy as np
import pytest

from exzarr.codecs import ChunkSpec, CodecPipeline

from codec_helpers import BYTES_BE, BYTES_LE

SPEC = ChunkSpec((32, 16), np.dtype("<f4"), 0)
DATA = np.linspace(0, 1, 512, dtype="<f4").reshape(32, 16)


class Spy:
    """Wraps a numcodecs codec and records whether decode got an ``out`` buffer."""

    def __init__(self, codec):
        self.codec, self.outs = codec, []

    def __getattr__(self, name):
        return getattr(self.codec, name)

    def decode(self, buf, out=None):
        self.outs.append(out)
        return self.codec.decode(buf, out=out)


def _spy_v3(pipe):
    codec = pipe.chain.bytes_bytes[0]
    spy = Spy(codec._nc)
    codec.__dict__["_nc"] = spy
    return spy


def _shares(a, b):
    return a is not None and np.shares_memory(np.asarray(a), b)


@pytest.mark.parametrize("comp", [{"name": "zstd"}, {"name": "blosc", "configuration": {"cname": "lz4"}},
                                  {"name": "numcodecs.lz4", "configuration": {}}])
def test_v3_compressor_decodes_into_out(comp):
    pipe = CodecPipeline.from_v3([BYTES_LE, comp, {"name": "crc32c"}], SPEC)
    raw = pipe.encode(DATA)
    spy = _spy_v3(pipe)
    out = np.empty(SPEC.shape, SPEC.dtype)
    assert pipe.decode(raw, out=out) is out
    np.testing.assert_array_equal(out, DATA)
    assert len(spy.outs) == 1 and _shares(spy.outs[0], out)
    # without out, the freshly allocated result is the decompressor's target too
    res = pipe.decode(raw)
    assert _shares(spy.outs[1], res) and res.flags.writeable and res.flags.c_contiguous


def test_v3_byte_swap_cannot_decode_in_place_but_is_correct():
    pipe = CodecPipeline.from_v3([BYTES_BE, {"name": "zstd"}], SPEC)
    raw = pipe.encode(DATA)
    spy = _spy_v3(pipe)
    out = np.empty(SPEC.shape, SPEC.dtype)
    pipe.decode(raw, out=out)
    assert spy.outs == [None]
    np.testing.assert_array_equal(out, DATA)


def test_v2_compressor_decodes_into_out():
    pipe = CodecPipeline.from_v2({"id": "zstd", "level": 1}, None, SPEC)
    raw = pipe.encode(DATA)
    spy = Spy(pipe.compressor)
    pipe.compressor = spy
    out = np.empty(SPEC.shape, SPEC.dtype)
    assert pipe.decode(raw, out=out) is out
    assert _shares(spy.outs[0], out)
    np.testing.assert_array_equal(out, DATA)


def test_big_endian_v2_decodes_into_big_endian_out():
    spec = ChunkSpec((32, 16), np.dtype(">f4"), 0)
    pipe = CodecPipeline.from_v2({"id": "blosc"}, None, spec)
    data = DATA.astype(">f4")
    raw = pipe.encode(data)
    spy = Spy(pipe.compressor)
    pipe.compressor = spy
    out = np.empty(spec.shape, spec.dtype)
    pipe.decode(raw, out=out)
    assert _shares(spy.outs[0], out)
    np.testing.assert_array_equal(out, data)


def test_sharded_inner_chunks_decode_into_out_slices():
    pipe = CodecPipeline.from_v3([{"name": "sharding_indexed", "configuration": {
        "chunk_shape": [8, 16], "codecs": [BYTES_LE, {"name": "zstd"}]}}], SPEC)
    raw = pipe.encode(DATA)
    spy = Spy(pipe.sharding.inner.bytes_bytes[0]._nc)
    pipe.sharding.inner.bytes_bytes[0].__dict__["_nc"] = spy
    out = np.empty(SPEC.shape, SPEC.dtype)
    pipe.decode(raw, out=out)
    np.testing.assert_array_equal(out, DATA)
    assert len(spy.outs) == 4 and all(_shares(o, out) for o in spy.outs)
