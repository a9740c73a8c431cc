"""Sharded reads from local files done by compiled code (``exzarr.array.shard_files``):
the caller plans each shard's coalesced ranges and hands the shard to the threads, which
read each range, decode its inner chunks and place their boxes
(``exzarr.kernels.read_scatter``).  Every read equals NumPy and the Python route (Numba
off); empty inner chunks and missing shards read as fill_value; a damaged inner chunk, a
range past the end of its shard and an index pointing far beyond it fail with the typed
errors of the Python route."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import exzarr as ez
from exzarr import config
from exzarr.codecs.checksum import crc32c_value
from exzarr.errors import CodecError, DecompressionError
from exzarr.storage import LocalStore
from exzarr.storage.direct_reads import functions
from exzarr.testing.strategies import basic_keys

shard_files = importlib.import_module("exzarr.array.shard_files")

from .routes import read_both

pytestmark = pytest.mark.skipif(functions() is None,
                                reason="compiled file reads: POSIX with Numba on only")

ZSTD = {"name": "zstd", "configuration": {"level": 1}}
SHAPE, CHUNKS, SHARDS = (60, 50), (6, 5), (24, 20)  # shards of 4 x 4 inner chunks


@pytest.fixture(autouse=True)
def small_inner_chunks_too(monkeypatch):
    """The inner chunks here are small: take the route whatever their size."""
    monkeypatch.setattr(shard_files, "MIN_INNER_BYTES", 0)


@pytest.fixture
def frames(spy_kernel):
    """(frames given, frames done) of every read_scatter call."""
    return spy_kernel("exzarr.kernels.read_scatter", "read_scatter", 8)


def stored(path, d=None, **kw):
    d = np.arange(np.prod(SHAPE), dtype="f4").reshape(SHAPE) * 0.5 if d is None else d
    z = ez.create(LocalStore(str(path)), shape=d.shape, chunks=CHUNKS, shards=SHARDS,
                  dtype=d.dtype, fill_value=-2, compressor=ZSTD, **kw)
    z[...] = d
    return z, d


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_reads_are_done_by_the_kernel_and_equal_numpy(tmp_path, frames, threads):
    z, d = stored(tmp_path / "a")
    with config.set(threads=threads):
        for key in [Ellipsis, (slice(3, 57), slice(2, 49)), (slice(None, None, -2), 7),
                    (slice(5, 41, 3), slice(48, 1, -4))]:
            frames.clear()
            np.testing.assert_array_equal(z[key].read(), d[key])
            rows, cols = (range(*k.indices(n)) if isinstance(k, slice) else [k]
                          for k, n in zip(key if key is not Ellipsis else
                                          (slice(None), slice(None)), SHAPE))
            inner = len({r // 6 for r in rows}) * len({c // 5 for c in cols})
            assert sum(done for _, done in frames) == inner  # every inner chunk, once
    np.testing.assert_array_equal(read_both(z, (slice(3, 57), slice(2, 49))), d[3:57, 2:49])


def test_empty_inner_chunks_and_missing_shards_read_as_fill_value(tmp_path, frames):
    z, d = stored(tmp_path / "a")
    z[0:6, 0:5] = -2  # an empty inner chunk (not stored)
    z.store.delete("c/1/1")  # a whole shard
    want = d.copy()
    want[0:6, 0:5] = -2
    want[24:48, 20:40] = -2
    with config.set(threads=2):
        np.testing.assert_array_equal(z[...].read(), want)
    np.testing.assert_array_equal(read_both(z, (slice(1, 50), slice(3, 44))), want[1:50, 3:44])


def _rewrite_index(path, change):
    """Change the shard's index entries (``change(entries)`` on its (n, 2) uint64 array)
    and give it a right checksum."""
    raw = bytearray(path.read_bytes())
    n = (SHARDS[0] // CHUNKS[0]) * (SHARDS[1] // CHUNKS[1])
    at = len(raw) - (16 * n + 4)
    entries = np.frombuffer(bytes(raw[at:at + 16 * n]), dtype="<u8").reshape(n, 2).copy()
    change(entries)
    body = entries.astype("<u8").tobytes()
    raw[at:] = body + crc32c_value(body).to_bytes(4, "little")
    path.write_bytes(bytes(raw))


def test_damaged_inner_chunks_fail_as_the_python_route_does(tmp_path):
    z, d = stored(tmp_path / "a")
    path = tmp_path / "a" / "c" / "0" / "1"
    raw = bytearray(path.read_bytes())
    raw[40:60] = b"\xff" * 20  # inside the first inner chunk's frame
    path.write_bytes(bytes(raw))
    with pytest.raises(CodecError) as fast:
        z[...].read()
    with config.set(jit=False), pytest.raises(CodecError) as slow:
        z[...].read()
    assert "c/0/1" in str(fast.value) and type(fast.value) is type(slow.value)


@pytest.mark.parametrize("past", [1, 1 << 62, (1 << 64) - 2 - 100])
def test_an_index_pointing_past_the_shard_is_a_typed_error(tmp_path, past):
    z, d = stored(tmp_path / "a")
    path = tmp_path / "a" / "c" / "1" / "0"
    size = path.stat().st_size

    def change(entries):
        entries[5, 0] = size + past if past < 1 << 62 else past

    _rewrite_index(path, change)
    with pytest.raises(DecompressionError, match="c/1/0"):
        z[...].read()
    with config.set(jit=False), pytest.raises(DecompressionError, match="c/1/0"):
        z[...].read()


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_reads_equal_numpy(tmp_path_factory, data):
    d = np.random.default_rng(4).integers(-50, 50, SHAPE).astype(
        data.draw(st.sampled_from(["i2", "f4", "f8"])))
    z, _ = stored(tmp_path_factory.mktemp("s") / "a", d)
    for shard in data.draw(st.lists(st.sampled_from(["c/0/0", "c/1/2", "c/2/1"]), max_size=2,
                                    unique=True)):
        z.store.delete(shard)
    want = np.asarray(read_both(z))
    key = data.draw(basic_keys(SHAPE))
    with config.set(threads=data.draw(st.sampled_from([1, 2]))):
        np.testing.assert_array_equal(z[key].read(), want[key])


@pytest.mark.parametrize("chunks, index_codecs, kernel", [
    ((32, 32), None, True), ((128, 128), None, True),
    ((32, 32), [{"name": "bytes"}, {"name": "crc32c"}, {"name": "crc32c"}], False),
    ((128, 128), [{"name": "bytes"}, {"name": "crc32c"}, {"name": "crc32c"}], True)])
def test_small_inner_chunks_go_to_the_kernel_where_it_plans_them(tmp_path, frames, monkeypatch,
                                                                 chunks, index_codecs, kernel):
    """Planned by compiled code (``array/shard_plan``), inner chunks of any size are read
    by the kernel; where the index is not one it plans (two checksums), below
    ``MIN_INNER_BYTES`` (64 KiB) the jobs cost more to set up in Python than the Python
    route's few ranges: 4 KiB inner chunks go that way, 64 KiB ones to the kernel."""
    monkeypatch.setattr(shard_files, "MIN_INNER_BYTES", 64 << 10)
    d = np.random.default_rng(6).standard_normal((256, 256)).astype("f4")
    codecs = None
    if index_codecs is not None:
        codecs = [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": list(chunks), "codecs": [{"name": "bytes"}, ZSTD],
            "index_codecs": index_codecs}}]
    where = LocalStore(str(tmp_path / "a"))
    if codecs is None:
        z = ez.create(where, shape=d.shape, chunks=chunks, shards=(256, 256), dtype="f4",
                      compressor=ZSTD)
    else:
        z = ez.create(where, shape=d.shape, chunks=(256, 256), dtype="f4", codecs=codecs)
    z[...] = d
    np.testing.assert_array_equal(z[5:250, 3:200].read(), d[5:250, 3:200])
    assert bool(frames) is kernel
