"""Registry: available(), get() in every accepted form, register(), missing libraries."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import exzarr.codecs as codecs
from exzarr.codecs import BytesBytesCodec, ChunkSpec, CodecPipeline, available, get, register
from exzarr.errors import CodecNotAvailableError, InvalidMetadataError, UnknownCodecError

from codec_helpers import BYTES_LE

numcodecs = pytest.importorskip("numcodecs")
SPEC = ChunkSpec((4, 5), np.dtype("<i4"), 0)
DATA = np.arange(20, dtype="<i4").reshape(4, 5)


def test_import_is_light():
    code = ("import sys, exzarr.codecs; "
            "bad = [m for m in ('numcodecs', 'numba', 'crc32c', 'zarr', 'snappy') if m in sys.modules]; "
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_available():
    names = available()
    assert list(names) == sorted(names)
    for name in ["bytes", "transpose", "gzip", "zstd", "blosc", "crc32c", "sharding_indexed",
                 "zlib", "lz4", "bz2", "lzma", "delta", "fixedscaleoffset", "quantize", "astype",
                 "packbits", "categorize", "shuffle", "bitround", "snappy", "numcodecs.zlib"]:
        assert names[name] is True, name
    assert all(isinstance(v, bool) for v in names.values())


def test_get_forms():
    z = get("zstd")
    assert z.to_json() == {"name": "zstd", "configuration": {"level": 0, "checksum": False}}
    assert get({"name": "gzip", "configuration": {"level": 3}}).to_json() == \
        {"name": "gzip", "configuration": {"level": 3}}
    assert get({"name": "crc32c"}).to_json() == {"name": "crc32c"}
    nc = get({"id": "zlib", "level": 2})
    assert isinstance(nc, numcodecs.Zlib) and nc.level == 2
    inst = numcodecs.Zstd(level=4)
    assert get(inst) is inst
    assert get(inst, zarr_format=3).to_json() == {"name": "zstd", "configuration": {"level": 4, "checksum": False}}
    assert get(numcodecs.Blosc(cname="lz4", shuffle=2), zarr_format=3).to_json()["configuration"]["shuffle"] == "bitshuffle"
    assert get({"id": "lz4"}, zarr_format=3).to_json() == {"name": "numcodecs.lz4", "configuration": {}}
    assert get("lz4").name == "numcodecs.lz4"
    assert isinstance(get("zstd", zarr_format=2), numcodecs.Zstd)
    assert isinstance(get({"name": "gzip", "configuration": {"level": 1}}, zarr_format=2), numcodecs.GZip)
    assert get(z) is z
    with pytest.raises(InvalidMetadataError, match="no Zarr v2"):
        get("bytes", zarr_format=2)
    with pytest.raises(InvalidMetadataError):
        get(42)


def test_unknown_codec_lists_available():
    for bad in ("nope", {"name": "nope"}, {"name": "numcodecs.nope"}):
        with pytest.raises(UnknownCodecError) as e:
            get(bad)
        assert "zstd" in str(e.value) and "nope" in str(e.value)
    with pytest.raises(UnknownCodecError, match="gzip"):
        get({"id": "nope"})
    with pytest.raises(UnknownCodecError):
        CodecPipeline.from_v3([BYTES_LE, {"name": "nope"}], SPEC)
    with pytest.raises(UnknownCodecError):
        CodecPipeline.from_v2({"id": "nope"}, None, SPEC)
    assert isinstance(UnknownCodecError("x"), ValueError)


def test_invalid_configs():
    cases = [
        [BYTES_LE, {"name": "gzip", "configuration": {"level": 20}}],
        [BYTES_LE, {"name": "zstd", "configuration": {"level": 1, "checksum": "yes"}}],
        [BYTES_LE, {"name": "blosc", "configuration": {"cname": "xz"}}],
        [BYTES_LE, {"name": "blosc", "configuration": {"shuffle": 1}}],
        [BYTES_LE, {"name": "gzip", "configuration": {"lvl": 1}}],
        [{"name": "bytes", "configuration": {"endian": "middle"}}],
        [{"name": "transpose", "configuration": {"order": [0, 0]}}, BYTES_LE],
        [BYTES_LE, BYTES_LE],
        [{"name": "zstd"}],
        [{"name": "gzip"}, BYTES_LE],
        [BYTES_LE, {"name": "transpose", "configuration": {"order": [1, 0]}}],
        [BYTES_LE, {"name": "numcodecs.zlib", "configuration": {"bogus": 1}}],
        [{"name": "bytes", "configuration": {"endian": "little"}, "extra": 1}],
    ]
    for chain in cases:
        with pytest.raises(InvalidMetadataError):
            CodecPipeline.from_v3(chain, SPEC)


class XorCodec(BytesBytesCodec):
    """A toy third-party bytes -> bytes codec."""

    name = "test.xor"

    def __init__(self, key: int = 0x5A):
        self.key = key

    def configuration(self):
        return {"key": self.key}

    def encode(self, data, spec):
        return (np.frombuffer(data, np.uint8) ^ self.key).tobytes()

    def decode(self, data, spec, ctx=None):
        return (np.frombuffer(data, np.uint8) ^ self.key).tobytes()


def test_register_custom_v3_codec():
    assert register(XorCodec) is XorCodec
    assert available()["test.xor"] is True
    chain = [BYTES_LE, {"name": "test.xor", "configuration": {"key": 7}}, {"name": "zstd"}]
    p = CodecPipeline.from_v3(chain, SPEC)
    raw = p.encode(DATA)
    np.testing.assert_array_equal(p.decode(raw), DATA)
    assert p.to_json()[1] == {"name": "test.xor", "configuration": {"key": 7}}
    with pytest.raises(InvalidMetadataError):
        register(type("NoName", (BytesBytesCodec,), {}))
    with pytest.raises(InvalidMetadataError):
        register(int)


class Negate(numcodecs.abc.Codec):
    codec_id = "test-negate"

    def encode(self, buf):
        return (255 - np.frombuffer(memoryview(buf).cast("B"), np.uint8)).tobytes()

    def decode(self, buf, out=None):
        res = 255 - np.frombuffer(memoryview(buf).cast("B"), np.uint8)
        return numcodecs.compat.ndarray_copy(res, out)


class Reverse(numcodecs.abc.Codec):
    codec_id = "test-reverse"

    def encode(self, buf):
        return bytes(memoryview(buf).cast("B"))[::-1]

    def decode(self, buf, out=None):
        return numcodecs.compat.ndarray_copy(np.frombuffer(bytes(memoryview(buf).cast("B"))[::-1], np.uint8), out)


def test_register_numcodecs_codec_for_v2_and_v3():
    register(Negate)
    for p in (CodecPipeline.from_v2({"id": "test-negate"}, None, SPEC),
              CodecPipeline.from_v2(None, [{"id": "test-negate"}], SPEC),
              CodecPipeline.from_v3([BYTES_LE, {"name": "numcodecs.test-negate", "configuration": {}}], SPEC)):
        raw = p.encode(DATA)
        assert raw == (255 - DATA.view(np.uint8).ravel()).tobytes()
        np.testing.assert_array_equal(p.decode(raw), DATA)
    # registered straight with numcodecs (not through exzarr): honoured too
    numcodecs.register_codec(Reverse)
    p = CodecPipeline.from_v2({"id": "test-reverse"}, None, SPEC)
    np.testing.assert_array_equal(p.decode(p.encode(DATA)), DATA)
    assert available()["test-reverse"] is True


def test_missing_library_names_package(monkeypatch):
    class NeedsLib(BytesBytesCodec):
        name = "test.needs-lib"
        requires = (("exzarr_no_such_module", "exzarr-no-such-package"),)

        def encode(self, data, spec):
            return bytes(data)

        def decode(self, data, spec, ctx=None):
            return data

    register(NeedsLib)
    assert available()["test.needs-lib"] is False
    with pytest.raises(CodecNotAvailableError, match="pip install exzarr-no-such-package"):
        get("test.needs-lib")
    with pytest.raises(ImportError):  # CodecNotAvailableError is an ImportError too
        CodecPipeline.from_v3([BYTES_LE, {"name": "test.needs-lib"}], SPEC)


def test_missing_snappy_library(monkeypatch):
    from exzarr.codecs import snappy as snappy_mod

    monkeypatch.setitem(sys.modules, "snappy", None)
    monkeypatch.setitem(sys.modules, "cramjam", None)
    with pytest.raises(CodecNotAvailableError) as e:
        CodecPipeline.from_v2({"id": "snappy"}, None, SPEC).encode(DATA)
    assert "python-snappy" in str(e.value) and 'exzarr[snappy]' in str(e.value)
    with pytest.raises(CodecNotAvailableError):
        snappy_mod.snappy_backend()
    assert available()["snappy"] is False


def test_missing_crc32c_library(monkeypatch):
    monkeypatch.setitem(sys.modules, "crc32c", None)
    with pytest.raises(CodecNotAvailableError, match="pip install crc32c"):
        get({"name": "crc32c"})


def test_snappy_falls_back_to_cramjam(monkeypatch):
    pytest.importorskip("cramjam")
    import snappy as real_snappy

    from exzarr.codecs.snappy import Snappy

    data = DATA.tobytes() * 3
    monkeypatch.setitem(sys.modules, "snappy", None)
    codec = Snappy()
    raw = codec.encode(np.frombuffer(data, np.uint8))
    assert real_snappy.uncompress(raw) == data
    assert bytes(codec.decode(real_snappy.compress(data))) == data


def test_public_names():
    for name in ["available", "register", "get", "Codec", "ChunkSpec", "CodecPipeline"]:
        assert hasattr(codecs, name)


def test_transpose_legacy_order_json_round_trips(tmp_path):
    # regression: the legacy order "F" was written to JSON as ["F"], which no reader accepts
    codec = get({"name": "transpose", "configuration": {"order": "F"}})
    assert codec.to_json() == {"name": "transpose", "configuration": {"order": "F"}}
    assert get(codec.to_json()) == codec
    spec = ChunkSpec((4, 5), np.dtype("<i4"), 0)
    p = CodecPipeline.from_v3([codec.to_json(), BYTES_LE], spec)
    assert p.to_json()[0] == {"name": "transpose", "configuration": {"order": [1, 0]}}
    np.testing.assert_array_equal(p.decode(p.encode(DATA)), DATA)

    import exzarr as ez
    z = ez.create(str(tmp_path / "t.zarr"), shape=(4, 5), chunks=(2, 5), dtype="<i4",
                  codecs=[{"name": "transpose", "configuration": {"order": "F"}}, BYTES_LE])
    z[...] = DATA
    np.testing.assert_array_equal(ez.open(str(tmp_path / "t.zarr"))[...], DATA)


def test_a_codec_module_found_once_is_not_looked_up_at_every_open(monkeypatch):
    import importlib.util

    from exzarr.codecs._base import BytesBytesCodec

    class NeedsFake(BytesBytesCodec):
        name = "needs-fake"
        requires = (("exzarr_fake_codec_module", "exzarr-fake"),)

    calls = []
    real = importlib.util.find_spec

    def counting(name, *a, **k):
        if name == "exzarr_fake_codec_module":
            calls.append(name)
            # "installed", never imported; None once sys.modules says it is missing
            return None if name in sys.modules and sys.modules[name] is None else object()
        return real(name, *a, **k)
    monkeypatch.setattr(importlib.util, "find_spec", counting)
    NeedsFake.check_available(load=False)
    NeedsFake.check_available(load=False)
    assert calls == ["exzarr_fake_codec_module"]  # looked up once
    # a module made unimportable later (sys.modules entry None) is refused again
    monkeypatch.setitem(sys.modules, "exzarr_fake_codec_module", None)
    with pytest.raises(CodecNotAvailableError, match="pip install exzarr-fake"):
        NeedsFake.check_available(load=False)
