"""Decoding the start of a zstd chunk only (``codecs/zstd_prefix``), and reads that use it
for elements near a chunk's start."""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numcodecs import zstd

import exzarr as ez
import exzarr.codecs.zstd_prefix as zstd_prefix
from exzarr.array.gather import prefix_nbytes
from exzarr.codecs.direct import ZstdInto, native_zstd
from exzarr.errors import DecompressionError

pytestmark = pytest.mark.skipif(native_zstd() is None or native_zstd().prefix is None,
                                reason="libzstd's streaming API is not bound here")

DATA = np.random.default_rng(0).integers(0, 1000, (512, 512)).astype("f4")
REF = DATA.view(np.uint8).reshape(-1)
FRAME = zstd.compress(DATA.tobytes(), 1)


def _prefix(frame: bytes, need: int, nbytes: int = DATA.nbytes):
    out = np.zeros(nbytes, np.uint8)
    return ZstdInto(nbytes).prefix(memoryview(frame), out, need), out


@pytest.mark.parametrize("need", [1, 4, 4097, 131072, 131073, 600_000,
                                  DATA.nbytes - zstd_prefix.BLOCK_BYTES])
def test_prefix_is_the_start_of_the_whole_decode(need):
    ok, out = _prefix(FRAME, need)
    assert ok
    np.testing.assert_array_equal(out[:need], REF[:need])


@pytest.mark.parametrize("frame, need, why", [
    (FRAME, 0, "nothing wanted"),
    (FRAME, DATA.nbytes, "all of it: one-call decode"),
    (FRAME, DATA.nbytes + 1, "more than the chunk"),
    (FRAME, DATA.nbytes - zstd_prefix.BLOCK_BYTES + 1, "ends in the last block"),
    (zstd.Zstd(level=1, checksum=True).encode(DATA.tobytes()), 100, "a checksum to check"),
    (FRAME + FRAME, 100, "bytes after the frame"),
    (FRAME[:-100], 100, "a truncated frame"),
    (zstd.compress(DATA[:256].tobytes(), 1), 100, "another content size"),
    (b"\x00" * 64, 100, "not zstd"),
])
def test_refusals_decode_nothing(frame, need, why):
    ok, out = _prefix(frame, need)
    assert not ok, why


def test_a_chunk_of_one_block_is_never_decoded_in_part():
    one_block = DATA[:64]  # 128 KiB: one zstd block
    frame = zstd.compress(one_block.tobytes(), 1)
    assert not _prefix(frame, 4, one_block.nbytes)[0]


def test_contexts_are_per_thread():
    decoder = native_zstd().prefix
    mine = decoder._context()
    assert decoder._context() == mine
    theirs = []
    t = threading.Thread(target=lambda: theirs.append(decoder._context()))
    t.start()
    t.join()
    assert theirs[0] != mine


def test_no_streaming_api_means_no_prefix(monkeypatch):
    monkeypatch.setattr(native_zstd(), "prefix", None)
    assert _prefix(FRAME, 100)[0] is False


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_prefix_nbytes_is_one_past_the_last_selected_byte(data):
    shape = tuple(data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=4)))
    inner = []
    for n in shape:
        if data.draw(st.booleans()):
            inner.append(data.draw(st.integers(0, n - 1)))
        else:
            inner.append(slice(data.draw(st.none() | st.integers(-n - 1, n + 1)),
                               data.draw(st.none() | st.integers(-n - 1, n + 1)),
                               data.draw(st.sampled_from([None, 1, 2, 3, -1, -2]))))
    flat = np.arange(int(np.prod(shape))).reshape(shape)[tuple(inner)]
    want = 0 if np.size(flat) == 0 else (int(np.max(flat)) + 1) * 8
    assert prefix_nbytes(tuple(inner), shape, 8) == want


ZSTD3 = {"name": "zstd", "configuration": {"level": 1, "checksum": False}}
LAYOUTS = {
    "v3": dict(zarr_format=3, compressor=ZSTD3),
    "v2": dict(zarr_format=2, compressor={"id": "zstd", "level": 1}),
    "sharded": dict(zarr_format=3, compressor=ZSTD3, shards=(40, 60)),
}


@contextlib.contextmanager
def any_prefix_allowed():
    """Prefixes of chunks of one block allowed, so that the small chunks of the tests
    below take the prefix route (they would be decoded whole)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(zstd_prefix, "BLOCK_BYTES", 0)
        yield


@pytest.fixture
def any_prefix():
    with any_prefix_allowed():
        yield


@pytest.fixture
def prefix_calls(monkeypatch):
    calls = []
    real = zstd_prefix.PrefixDecoder.__call__

    def spy(self, src, out, need):
        ok = real(self, src, out, need)
        calls.append((need, out.nbytes, ok))
        return ok
    monkeypatch.setattr(zstd_prefix.PrefixDecoder, "__call__", spy)
    return calls


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@settings(max_examples=60, deadline=None)
@given(st.data())
def test_reads_near_chunk_starts_match_numpy(layout, data):
    with any_prefix_allowed():  # (a function-scoped fixture would span all examples)
        _reads_near_chunk_starts_match_numpy(layout, data)


def _reads_near_chunk_starts_match_numpy(layout, data):
    d = np.arange(80 * 120, dtype="f8").reshape(80, 120) * 1.5
    z = ez.create("memory://", shape=d.shape, chunks=(20, 30), dtype="f8", fill_value=0,
                  **LAYOUTS[layout])
    z[...] = d
    key = []
    for n in d.shape:
        if data.draw(st.booleans()):
            key.append(data.draw(st.integers(-n, n - 1)))
        else:
            key.append(slice(data.draw(st.none() | st.integers(-n, n)),
                             data.draw(st.none() | st.integers(-n, n)),
                             data.draw(st.sampled_from([None, 1, 3, -1, -4]))))
    np.testing.assert_array_equal(np.asarray(z[tuple(key)].read()), d[tuple(key)])


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_point_reads_decode_a_prefix(layout, prefix_calls, any_prefix):
    d = np.arange(80 * 120, dtype="f8").reshape(80, 120)
    z = ez.create("memory://", shape=d.shape, chunks=(20, 30), dtype="f8", fill_value=-1,
                  **LAYOUTS[layout])
    z[...] = d
    for i, j in [(0, 0), (21, 31), (45, 100), (79, 119)]:
        assert z[i, j].read() == d[i, j]
    # (0, 0): a chunk's first element; (21, 31): row 1, column 1 of its chunk; (45, 100):
    # row 5, column 10; (79, 119): its chunk's last element, decoded whole
    assert [need for need, _, ok in prefix_calls if ok] == [8, (30 + 1 + 1) * 8,
                                                            (5 * 30 + 10 + 1) * 8]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_prefix_only_where_it_skips_a_block(layout, prefix_calls):
    # chunks of 512 KiB (four zstd blocks) and 256 KiB (two): PREFIX_FRACTION (3/4) of
    # the former ends in its first three blocks, of the latter in its last block
    d = np.arange(512 * 512, dtype="f4").reshape(512, 512)
    kw = LAYOUTS[layout] | ({"shards": (512, 512)} if layout == "sharded" else {})
    z = ez.create("memory://", shape=d.shape, chunks=(256, 512), dtype="f4", fill_value=0, **kw)
    z[...] = d
    y = ez.create("memory://", shape=d.shape, chunks=(128, 512), dtype="f4", fill_value=0, **kw)
    y[...] = d
    for a, i, j in [(z, 0, 0), (z, 140, 5), (z, 200, 0), (y, 10, 0), (y, 70, 0)]:
        assert a[i, j].read() == d[i, j]
    # z (0, 0) and (140, 5): prefixes within the first three blocks; (200, 0): past 3/4,
    # decoded whole without asking; y (10, 0): first block; (70, 0): 140 KiB, in its
    # second and last block: decoded whole without asking either (the readers ask only
    # for prefixes that end before a chunk's last block, ``reader.prefix_most``)
    assert [(need, ok) for need, _, ok in prefix_calls] == [
        (4, True), ((140 * 512 + 5 + 1) * 4, True), ((10 * 512 + 1) * 4, True)]
    assert y[70, 0].read() == d[70, 0]


def test_chunks_of_one_block_never_ask_for_a_prefix(prefix_calls):
    # 64 KiB chunks (one zstd block): a point read near a chunk's start goes straight to
    # the whole decode, without a call the decoder would refuse
    d = np.arange(256 * 256, dtype="f4").reshape(256, 256)
    z = ez.create("memory://", shape=d.shape, chunks=(128, 128), dtype="f4", fill_value=0,
                  compressor={"name": "zstd", "configuration": {"level": 1}})
    z[...] = d
    assert [z[i, j].read() for i, j in [(0, 0), (1, 2), (130, 129)]] == \
        [d[0, 0], d[1, 2], d[130, 129]]
    np.testing.assert_array_equal(z[:3, :5].read(), d[:3, :5])
    assert prefix_calls == []


def test_checksummed_chunks_are_decoded_whole(prefix_calls):
    z = ez.create("memory://", shape=(40, 40), chunks=(20, 20), dtype="f4", fill_value=0,
                  compressor={"name": "zstd", "configuration": {"level": 1, "checksum": True}})
    z[...] = 7
    assert z[0, 0].read() == 7
    assert all(not ok for _, _, ok in prefix_calls)


def test_truncated_chunk_fails_a_point_read_too():
    store = ez.storage.MemoryStore()
    z = ez.create(store, shape=(40, 40), chunks=(20, 20), dtype="f4", fill_value=0,
                  compressor=ZSTD3)
    z[...] = np.arange(1600, dtype="f4").reshape(40, 40)
    store.set("c/0/0", store.get("c/0/0")[:-8])
    with pytest.raises(DecompressionError, match="c/0/0"):
        z[0, 0].read()
