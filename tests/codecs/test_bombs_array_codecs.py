"""Bounded decoding of pcodec, zfpy and the v2 object codecs (issue 11).

The peak-memory bombs for these codecs are in ``test_bombs.py`` (``BOMBS``); this file
checks the header parsers bit by bit, the typed errors, and that what zarr-python and
numcodecs write still reads identically.
"""

from __future__ import annotations

import datetime
import decimal
import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import numcodecs
import numpy as np
import pytest

import exzarr as ez
from exzarr.codecs import ChunkSpec, CodecPipeline
from exzarr.codecs._base import DecodeContext
from exzarr.codecs.numcodecs_adapter import numcodecs_v3_codec
from exzarr.codecs.pco import PCO_TYPES, pco_header
from exzarr.codecs.zfp import check_zfp, zfp_header
from exzarr.errors import CodecNotAvailableError, DecompressionError, UnsafeDataError

from test_bombs import msgpack_bomb, pco_bomb, pco_header_bytes, pickle_bomb

CTX = DecodeContext(store="memory://t", key="c/0")
PCODEC_V3 = [{"name": "numcodecs.pcodec", "configuration": {"level": 8}}]


# -- pcodec ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["<f2", "<f4", "<f8", "<i2", "<i4", "<i8", "<u2", "<u4", "<u8"])
def test_pco_header_of_real_streams(dtype):
    data = np.arange(1000).astype(dtype)
    raw = bytes(numcodecs.PCodec().encode(data))
    head = pco_header(memoryview(raw))
    assert head.version == 3 and head.n_hint == 1000
    assert head.dtype == np.dtype(dtype) and head.first_n == 1000
    assert {dt: code for code, dt in PCO_TYPES.items()}[np.dtype(dtype)] == raw[len(pco_header_bytes(1000))]


def test_pco_header_hand_built():
    # n_hint 10: 6 bits (4 - 1) then 4 bits 0b1010, little-endian: 0x83 0x02
    assert pco_header_bytes(10)[6:8] == b"\x83\x02"
    head = pco_header(memoryview(pco_header_bytes(10) + b"\x05\x09\x00\x00"))
    assert (head.n_hint, head.first_type, head.first_n) == (10, np.dtype("<f4"), 10)
    empty = pco_header(memoryview(pco_header_bytes(0) + b"\x00"))
    assert empty.n_hint is None and empty.first_n is None
    for bad in (b"pcx!\x03\x00\x00\x04\x01\x00", b"pco!\x03", b"pco!\x03\x00\x83\x02\x04\x01\x0f\x00\x00\x00"):
        with pytest.raises(ValueError):
            pco_header(memoryview(bad))


@pytest.mark.parametrize("fmt", [2, 3])
def test_pcodec_roundtrip_and_exact_size(fmt, tmp_path):
    data = (np.arange(60_000, dtype="<f8") * 0.25).reshape(200, 300)
    kw = dict(compressor={"id": "pcodec", "level": 8}) if fmt == 2 else dict(codecs=PCODEC_V3)
    z = ez.create(str(tmp_path / "a"), shape=data.shape, chunks=(64, 128), dtype="<f8",
                  fill_value=0, zarr_format=fmt, **kw)
    z[...] = data
    r = ez.open(str(tmp_path / "a"), mode="r")
    np.testing.assert_array_equal(np.asarray(r[...]), data)
    np.testing.assert_array_equal(np.asarray(r[7:190, 3:299]), data[7:190, 3:299])


def _pcodec_pipes(n=10, dtype="<i4"):
    spec = ChunkSpec((n,), np.dtype(dtype), 0)
    return [CodecPipeline.from_v2({"id": "pcodec"}, None, spec), CodecPipeline.from_v3(PCODEC_V3, spec)]


def test_pcodec_wrong_count_or_type_is_refused():
    for pipe in _pcodec_pipes():
        enc = lambda a: bytes(numcodecs.PCodec().encode(a))  # noqa: E731
        assert list(pipe.decode(enc(np.arange(10, dtype="<i4")))) == list(range(10))
        with pytest.raises(DecompressionError, match="float32 numbers, but the chunk's data type is int32"):
            pipe.decode(enc(np.arange(10, dtype="<f4")), key="c/0")
        with pytest.raises(DecompressionError, match="a decompression bomb"):
            pipe.decode(enc(np.arange(11, dtype="<i4")), key="c/0")
        with pytest.raises(DecompressionError, match="holds 9 numbers"):
            pipe.decode(enc(np.arange(9, dtype="<i4")), key="c/0")
        with pytest.raises(DecompressionError, match="pco"):
            pipe.decode(b"not pcodec at all", key="c/0")


def test_pcodec_bombs_in_process():
    for pipe in _pcodec_pipes(1 << 18, "<f4"):
        for n_hint in (1 << 18, 0, None):  # a lying count, no count, the true count
            with pytest.raises(DecompressionError, match="bomb") as info:
                pipe.decode(pco_bomb(n_hint), key="c/0")
            assert "c/0" in str(info.value)


def test_pcodec_under_filters_is_bounded_by_the_limit():
    """A v2 filter before pcodec: the compressor's dtype is not the chunk's; the stream's own
    type and max_chunk_bytes bound it."""
    spec = ChunkSpec((1 << 18,), np.dtype("<f4"), 0)
    pipe = CodecPipeline.from_v2({"id": "pcodec"}, [{"id": "delta", "dtype": "<f4"}], spec)
    data = np.arange(1 << 18, dtype="<f4")
    np.testing.assert_array_equal(pipe.decode(pipe.encode(data)), data)
    with ez.config.set(max_chunk_bytes=1 << 20):
        with pytest.raises(DecompressionError, match="max_chunk_bytes"):
            pipe.decode(pco_bomb(0))


def test_pcodec_zarr_python_interop(tmp_path):
    import numcodecs.zarr3
    import zarr

    data = np.arange(50_000, dtype="<i8").reshape(100, 500) * 3
    path = str(tmp_path / "zp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = zarr.create_array(path, shape=data.shape, chunks=(30, 200), dtype="<i8",
                              serializer=numcodecs.zarr3.PCodec(level=5), compressors=None)
        a[...] = data
    np.testing.assert_array_equal(np.asarray(ez.open(path, mode="r")[...]), data)
    ours = str(tmp_path / "ours")
    z = ez.create(ours, shape=data.shape, chunks=(30, 200), dtype="<i8", fill_value=0,
                  codecs=PCODEC_V3)
    z[...] = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(zarr.open_array(ours, mode="r")[...], data)


# -- zfp headers (built bit by bit from zfp's zfp_write_header; zfpy is not needed) ----------

def zfp_header_bytes(ztype: int, sizes: tuple[int, ...], mode: int = 2048 + 128,
                     version: int = 5, magic: bytes = b"zfp") -> bytes:
    """A zfp header: 8-bit 'z','f','p',version; 52-bit meta (type - 1, dims - 1, then the
    sizes minus one, x first, 48/24/16/12 bits each); a 12-bit short or 64-bit long mode.
    ``ztype`` is zfp_type (1 int32, 2 int64, 3 float, 4 double); ``sizes`` are nx, ny, ..."""
    width = {1: 48, 2: 24, 3: 16, 4: 12}[len(sizes)]
    meta = 0
    for n in reversed(sizes):
        meta = (meta << width) | (n - 1)
    meta = (meta << 2 | (len(sizes) - 1)) << 2 | (ztype - 1)
    bits = int.from_bytes(magic + bytes([version]), "little") | meta << 32 | mode << 84
    nbits = 84 + (64 if mode > 4094 else 12)
    return bits.to_bytes((nbits + 7) // 8, "little") + b"\xab" * 16  # + "compressed blocks"


def test_zfp_header_fields():
    h = zfp_header(memoryview(zfp_header_bytes(4, (300, 200))))  # double a[200][300]
    assert (h.codec_version, h.dtype, h.shape, h.mode, h.nbits) == (5, np.dtype("<f8"), (200, 300), 2176, 96)
    h = zfp_header(memoryview(zfp_header_bytes(1, (7,), mode=5)))
    assert (h.dtype, h.shape, h.mode) == (np.dtype("<i4"), (7,), 5)
    h = zfp_header(memoryview(zfp_header_bytes(3, (4, 5, 6, 7))))
    assert (h.dtype, h.shape) == (np.dtype("<f4"), (7, 6, 5, 4))
    h = zfp_header(memoryview(zfp_header_bytes(2, (65536, 2, 3))))
    assert (h.dtype, h.shape, h.size) == (np.dtype("<i8"), (3, 2, 65536), 3 * 2 * 65536)
    # a long mode word: 0xfff, then minbits-1, maxbits-1 (15 bits), maxprec-1 (7), minexp
    long_mode = 0xFFF | (0 << 12) | (4095 << 27) | (63 << 42) | (16495 - 1074) << 49
    h = zfp_header(memoryview(zfp_header_bytes(4, (10,), mode=long_mode)))
    assert (h.nbits, h.mode, h.shape) == (148, long_mode, (10,))


def test_zfp_header_byte_layout():
    """Bit-exact: 1D float, nx = 2: meta = (1 << 4) | (0 << 2) | 2 = 0x12 lands at bit 32."""
    raw = zfp_header_bytes(3, (2,), mode=0)
    assert raw[:4] == b"zfp\x05" and raw[4] == 0x12 and raw[5:10] == bytes(5)
    assert raw[10] == 0 and raw[11] == 0  # mode 0 in bits 84..95


@pytest.mark.parametrize("bad", [b"zfq\x05" + bytes(12), b"zfp\x05" + bytes(4), b""])
def test_zfp_without_a_header_is_refused(bad):
    with pytest.raises(ValueError):
        zfp_header(memoryview(bad))
    with pytest.raises(DecompressionError, match="zfp"):
        check_zfp(memoryview(bad), CTX, np.dtype("<f8"), (10,))


def test_zfp_header_checked_against_the_chunk():
    ctx = CTX.bounded(expected=200 * 300 * 8)
    check_zfp(memoryview(zfp_header_bytes(4, (300, 200))), ctx, np.dtype("<f8"), (200, 300))
    with pytest.raises(DecompressionError, match="bomb"):  # 2**24 * 2**24 doubles
        check_zfp(memoryview(zfp_header_bytes(4, (1 << 24, 1 << 24))), ctx, np.dtype("<f8"), (200, 300))
    with pytest.raises(DecompressionError, match="float32 values"):
        check_zfp(memoryview(zfp_header_bytes(3, (300, 200))), ctx, np.dtype("<f8"), (200, 300))
    with pytest.raises(DecompressionError, match="declares shape"):
        check_zfp(memoryview(zfp_header_bytes(4, (200, 300))), ctx, np.dtype("<f8"), (200, 300))
    with pytest.raises(DecompressionError, match="declares shape"):
        check_zfp(memoryview(zfp_header_bytes(4, (100,))), ctx, np.dtype("<f8"), (200, 300))
    # without the chunk's type/shape (a v2 filter before zfpy): max_chunk_bytes bounds it
    with ez.config.set(max_chunk_bytes=1 << 20):
        with pytest.raises(DecompressionError, match="max_chunk_bytes"):
            check_zfp(memoryview(zfp_header_bytes(4, (1 << 20,))), CTX)


def test_zfpy_v3_codec_checks_the_header_before_needing_zfpy():
    codec = numcodecs_v3_codec("zfpy")()
    spec = ChunkSpec((200, 300), np.dtype("<f8"), 0)
    with pytest.raises(DecompressionError, match="bomb"):
        codec.decode(zfp_header_bytes(4, (1 << 24, 1 << 24)), spec, CTX)
    with pytest.raises(DecompressionError, match="no zfp header"):
        codec.decode(b"\0" * 64, spec, CTX)
    if "zfpy" not in numcodecs.registry.codec_registry:  # a valid header: now zfpy is needed
        with pytest.raises(CodecNotAvailableError, match="zfpy"):
            codec.decode(zfp_header_bytes(4, (300, 200)), spec, CTX)


def test_numcodecs_failing_to_import_is_a_typed_error(tmp_path):
    """A zfpy distribution whose version numcodecs cannot parse (as zfpy 1.0.1.post0)
    makes ``import numcodecs`` raise ValueError; exzarr says so with a typed error."""
    fake = tmp_path / "site" / "zfpy-1.0.1.post0.dist-info"
    fake.mkdir(parents=True)
    (fake / "METADATA").write_text("Metadata-Version: 2.1\nName: zfpy\nVersion: 1.0.1.post0\n")
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path / "site")!r})
        import numpy as np, exzarr as ez
        from exzarr.errors import CodecNotAvailableError
        try:  # the first import of numcodecs is exzarr's
            z = ez.create("memory://broken", shape=(4,), chunks=(4,), dtype="i4", fill_value=0,
                          zarr_format=2, compressor={{"id": "zlib", "level": 1}})
            z[...] = np.arange(4)
            print("numcodecs imported")
        except CodecNotAvailableError as e:
            print("typed:", e)
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=100)
    assert res.returncode == 0, res.stderr[-2000:]
    if "numcodecs imported" in res.stdout:
        pytest.skip("this numcodecs parses the fake zfpy version")
    assert "typed:" in res.stdout and "failed to import" in res.stdout and "zfpy" in res.stdout


# -- object codecs -----------------------------------------------------------------------------

OBJ = ChunkSpec((4,), np.dtype(object), "")


def _obj_pipe(codec_id, n=4):
    return CodecPipeline.from_v2(None, [{"id": codec_id}], ChunkSpec((n,), np.dtype(object), ""))


@pytest.mark.parametrize("codec_id", ["json2", "msgpack2", "pickle"])
def test_object_item_count_must_match_the_chunk(codec_id):
    codec = numcodecs.get_codec({"id": codec_id})
    pipe = _obj_pipe(codec_id)
    good = np.array(["a", "bb", "", "d"], dtype=object)
    assert list(pipe.decode(codec.encode(good))) == list(good)
    with pytest.raises(DecompressionError, match="holds 4 items|\\(5 items\\)|holds 5 items"):
        pipe.decode(codec.encode(np.array(list("abcde"), dtype=object)), key="0")
    with pytest.raises(DecompressionError):
        pipe.decode(codec.encode(np.array(list("abc"), dtype=object)), key="0")


def test_object_shape_lies_are_refused():
    pipe = _obj_pipe("json2")
    with pytest.raises(DecompressionError, match="134217728 items"):
        pipe.decode(b'["a","b","c","d","|O",[134217728]]', key="0")
    with pytest.raises(DecompressionError, match="top level"):
        pipe.decode(b'["a","b","|O",[4]]', key="0")
    with pytest.raises(DecompressionError, match="dtype"):
        pipe.decode(b'[1,2,3,4,"<f8",[4]]', key="0")
    with pytest.raises(DecompressionError, match="not valid JSON"):
        pipe.decode(b'["a",', key="0")
    with pytest.raises(DecompressionError, match="nested too deeply"):
        pipe.decode(b"[" * 100_000 + b"]" * 100_000, key="0")
    with pytest.raises(DecompressionError, match="msgpack"):
        _obj_pipe("msgpack2").decode(msgpack_bomb(), key="0")


def test_object_chunk_over_the_limit_is_refused():
    pipe = _obj_pipe("json2")
    raw = numcodecs.JSON().encode(np.array(["x" * 5000] * 4, dtype=object))
    with ez.config.set(max_chunk_bytes=4096):
        with pytest.raises(DecompressionError, match="max_chunk_bytes"):
            pipe.decode(raw, key="0")
    assert pipe.decode(raw)[3] == "x" * 5000


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_with_a_forbidden_global_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "ran"
    raw = pickle.dumps(np.array([_Evil(marker), "x", "y", "z"], dtype=object))
    with pytest.raises(UnsafeDataError, match="system") as info:
        _obj_pipe("pickle").decode(raw, key="0")
    assert isinstance(info.value, DecompressionError) and "'0'" in str(info.value)
    assert "vlen-utf8" in str(info.value)  # says what to do
    assert not marker.exists()
    for glob in (b"cbuiltins\neval\n", b"cbuiltins\ngetattr\n", b"cnumpy\nload\n"):
        with pytest.raises(UnsafeDataError):
            _obj_pipe("pickle").decode(b"\x80\x02" + glob + b"(X\x01\x00\x00\x001tR.")


def test_pickle_numpy_states_are_validated():
    pipe = _obj_pipe("pickle", 1)
    with pytest.raises(DecompressionError, match="1 items"):  # crashes numpy's own setstate
        pipe.decode(pickle_bomb(), key="0")

    class FieldOutside:  # a structured dtype whose field lies outside its item
        def __reduce__(self):
            return (np.dtype, ("V8", False, True),
                    (3, "|", None, ("a",), {"a": (np.dtype("f8"), 100)}, 8, 1, 16))

    arr = np.empty(1, dtype=object)
    arr[0] = FieldOutside()
    with pytest.raises(DecompressionError, match="structured"):
        pipe.decode(pickle.dumps(arr), key="0")

    class SetAttrOnAllowed:  # BUILD on an allowed callable (would monkeypatch exzarr)
        def __reduce__(self):
            return (complex, (1, 2), None)

    raw = pickle.dumps(np.array([1j], dtype=object))
    assert pipe.decode(raw)[0] == 1j
    evil = b"\x80\x04cbuiltins\ncomplex\n(}X\x08\x00\x00\x00__call__N}\x86b."
    with pytest.raises(DecompressionError):
        pipe.decode(evil)
    assert pipe.decode(raw)[0] == 1j  # still the checked callable


VALUES = ["a", b"b", 1, 2.5, None, True, 1 + 2j, [1, "x"], {"k": (1, 2)}, {1, 2}, frozenset({3}),
          np.float32(1.5), np.int64(7), np.datetime64("2020-01-01"), np.bool_(True),
          np.array([1.0, 2.0]), np.array(["x", None], dtype=object),
          np.array([[1, 2], [3, 4]], dtype=">i2", order="F"),
          datetime.datetime(2020, 1, 2, 3, tzinfo=datetime.timezone.utc), datetime.date(2020, 1, 1),
          datetime.timedelta(3), decimal.Decimal("1.5"), bytearray(b"xy"), np.dtype("f8"),
          np.str_("s"), np.complex128(1j)]


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_reads_what_numcodecs_pickle_writes(protocol):
    arr = np.empty(len(VALUES), dtype=object)
    arr[:] = VALUES
    raw = numcodecs.Pickle(protocol=protocol).encode(arr)
    got = _obj_pipe("pickle", len(VALUES)).decode(raw)
    want = pickle.loads(raw)  # the reference (trusted here: we made it)
    for g, w in zip(got, want):
        assert type(g) is type(w) and repr(g) == repr(w)


def _v2_object_array(path, codec, chunks, data):
    """A v2 object array as zarr-python 2 writes it: .zarray + chunks encoded by numcodecs."""
    os.makedirs(path)
    meta = {"zarr_format": 2, "shape": list(data.shape), "chunks": list(chunks), "dtype": "|O",
            "fill_value": None, "order": "C", "compressor": None, "filters": [codec.get_config()]}
    with open(os.path.join(path, ".zarray"), "w") as f:
        json.dump(meta, f)
    for i in range(0, data.shape[0], chunks[0]):
        block = np.empty(chunks, dtype=object)
        block[...] = None
        part = data[i:i + chunks[0]]
        block[:part.shape[0]] = part
        with open(os.path.join(path, f"{i // chunks[0]}.0"), "wb") as f:
            f.write(bytes(codec.encode(block)))


@pytest.mark.parametrize("codec_id", ["pickle", "json2", "msgpack2"])
def test_numcodecs_written_object_arrays_read_identically(codec_id, tmp_path):
    data = np.empty((7, 3), dtype=object)
    data[...] = [["a", 1, None], [2.5, "déf", "x" * 300], ["", [1, 2], {"k": "v"}],
                 ["α", True, 3], ["p", "q", "r"], [None, None, None], ["z", 0, -1]]
    if codec_id == "pickle":
        data[1, 0] = np.float32(2.5)
    codec = numcodecs.get_codec({"id": codec_id})
    path = str(tmp_path / codec_id)
    _v2_object_array(path, codec, (3, 3), data)
    got = np.asarray(ez.open(path, mode="r")[...])
    assert got.dtype == object and got.shape == data.shape
    for g, w in zip(got.ravel(), data.ravel()):
        assert g == w and type(g) is type(w)


@pytest.mark.parametrize("codec_id", ["pickle", "json2", "msgpack2"])
def test_zarr_python_written_object_arrays_read_identically(codec_id, tmp_path):
    import zarr

    data = np.array(["a", "bc", "déf", "", "x" * 100, "y", "z"], dtype=object)
    path = str(tmp_path / codec_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = zarr.create_array(path, shape=data.shape, chunks=(3,), dtype=str, zarr_format=2,
                              filters=[numcodecs.get_codec({"id": codec_id})], compressors=None)
        a[...] = data
    got = np.asarray(ez.open(path, mode="r")[...])
    assert got.dtype == object and list(got) == list(data)
