"""Unsharded reads of several chunks from local files done by compiled code
(``exzarr.array.file_scatter``, ``exzarr.kernels.read_scatter``): every thread of the
read takes chunk after chunk from a shared counter, reads its file, decodes it and places
its box.  Every read equals NumPy and the Python route (Numba off); missing chunks read
as fill_value; a chunk the kernel does not do (a damaged frame, a file larger than the
thread's buffer, a folder where a file should be) goes through the checked route, which
fills it or says what is wrong; each job is taken by exactly one thread."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import exzarr as ez
from exzarr import config
from exzarr.codecs import zstd_prefix
from exzarr.errors import CodecError
from exzarr.storage.direct_reads import DirectReads, functions
from exzarr.testing.strategies import basic_keys

from .counting import CountingLocal, stored_local
from .routes import read_both

pytestmark = pytest.mark.skipif(functions() is None,
                                reason="compiled file reads: POSIX with Numba on only")

ZSTD = {"name": "zstd", "configuration": {"level": 1}}


@pytest.fixture
def jobs(spy_kernel):
    """(jobs given, frames done) of every read_scatter call."""
    return spy_kernel("exzarr.kernels.read_scatter", "read_scatter", 2)


stored = stored_local


def chunk_gets(store) -> list[str]:
    return [k for k in store.gets if k.startswith("c/") or k[:1].isdigit()]


@pytest.mark.parametrize("threads", [1, 2])
def test_reads_are_done_by_the_kernel_and_equal_numpy(tmp_path, jobs, threads):
    d = np.random.default_rng(0).standard_normal((64, 50)).astype("f4")
    store, z = stored(tmp_path / "a", d, (16, 12))
    with config.set(threads=threads):
        for key in [Ellipsis, (slice(3, 62), slice(5, 49)), (slice(20, 64), 7),
                    (slice(None, None, -3), slice(49, 2, -5))]:
            store.gets.clear()
            np.testing.assert_array_equal(z[key].read(), d[key])
            assert not chunk_gets(store)  # every chunk read by the kernel
    # one call per thread (the first with all the jobs), every frame of the read done
    assert jobs and all(given >= 2 for given, _ in jobs)
    assert sum(done for _, done in jobs) == 20 + 20 + 3 + 20
    assert len(jobs) == 4 * threads
    np.testing.assert_array_equal(read_both(z, (slice(3, 62), slice(5, 49))), d[3:62, 5:49])


@pytest.mark.parametrize("fmt", [2, 3])
def test_missing_chunks_and_the_start_of_chunks_go_the_checked_way(tmp_path, jobs, fmt):
    d = np.random.default_rng(1).standard_normal((40, 36)).astype("f8")
    store = CountingLocal(str(tmp_path / "a"))
    z = ez.create(store, shape=d.shape, chunks=(10, 9), dtype=d.dtype, fill_value=-1.5,
                  compressor=ZSTD, zarr_format=fmt)
    z[...] = d
    key = "1.2" if fmt == 2 else "c/1/2"
    store.delete(key)
    want = d.copy()
    want[10:20, 18:27] = -1.5
    with config.set(threads=2):
        store.gets.clear()
        np.testing.assert_array_equal(z[...].read(), want)
        assert not chunk_gets(store)  # (the missing one: fill_value, after the kernel)
        # the first rows of each chunk of a row of chunks: chunks of one zstd block are
        # decoded whole, so they stay with the kernel; where a prefix would end before a
        # chunk's last block (here: blocks taken as empty), decoded only up to them, alone
        store.gets.clear()
        np.testing.assert_array_equal(z[0:2, :].read(), want[0:2, :])
        assert not chunk_gets(store)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(zstd_prefix, "BLOCK_BYTES", 0)
            np.testing.assert_array_equal(z[0:2, :].read(), want[0:2, :])
        assert len(chunk_gets(store)) == 4
    np.testing.assert_array_equal(read_both(z, (slice(5, 33), slice(None, None, 2))),
                                  want[5:33, ::2])


def test_damaged_chunks_fail_as_the_python_route_does(tmp_path, jobs):
    d = np.arange(64 * 50, dtype="f4").reshape(64, 50)
    store, z = stored(tmp_path / "a", d, (16, 12))
    path = tmp_path / "a" / "c" / "2" / "3"
    frame = path.read_bytes()
    path.write_bytes(frame[: len(frame) // 2])  # truncated
    with pytest.raises(CodecError) as fast:
        z[...].read()
    with config.set(jit=False), pytest.raises(CodecError) as slow:
        z[...].read()
    assert "c/2/3" in str(fast.value) and type(fast.value) is type(slow.value)
    # a file longer than the thread's buffer (a frame and then junk): read whole, refused
    path.write_bytes(frame + b"\0" * (16 * 12 * 4 * 2 + 8192))
    with pytest.raises(CodecError):
        z[...].read()
    assert jobs and all(done < given for given, done in jobs if given == 4 * 5)


def test_a_folder_where_a_chunk_file_should_be_reads_as_fill_value(tmp_path):
    d = np.ones((30, 30), dtype="i4")
    store, z = stored(tmp_path / "a", d, (10, 10))
    os.remove(tmp_path / "a" / "c" / "1" / "1")
    os.mkdir(tmp_path / "a" / "c" / "1" / "1")
    want = d.copy()
    want[10:20, 10:20] = 0
    np.testing.assert_array_equal(z[...].read(), want)
    with config.set(jit=False):
        np.testing.assert_array_equal(z[...].read(), want)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_reads_equal_numpy(tmp_path_factory, data):
    shape = tuple(data.draw(st.lists(st.integers(1, 24), min_size=1, max_size=3)))
    chunks = tuple(data.draw(st.integers(1, max(1, s // 2) + 1)) for s in shape)
    dtype = data.draw(st.sampled_from(["u1", "i2", "f4", "f8", "c16"]))
    d = np.random.default_rng(len(shape)).integers(0, 200, size=shape).astype(dtype)
    path = tmp_path_factory.mktemp("r")
    store, z = stored(path / "a", d, chunks)
    gone = data.draw(st.lists(st.sampled_from(sorted(k for k in store.list() if "zarr.json" not in k)),
                              max_size=2, unique=True))
    for k in gone:
        store.delete(k)
    want = np.asarray(read_both(z))
    key = data.draw(basic_keys(shape))
    with config.set(threads=data.draw(st.sampled_from([1, 2]))):
        np.testing.assert_array_equal(z[key].read(), want[key])


def test_blosc_by_blocks_keeps_the_group_route(tmp_path, jobs):
    d = np.random.default_rng(2).standard_normal((64, 50)).astype("f4")
    _, z = stored(tmp_path / "a", d, (16, 12), compressor={
        "name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle"}})
    np.testing.assert_array_equal(z[...].read(), d)
    assert not jobs


# -- the kernel itself ------------------------------------------------------------------


def _frames(tmp_path, n, nbytes=4096):
    """n files of one zstd frame each (chunks of nbytes float64 bytes), and their data."""
    from exzarr.codecs.direct import native_zstd

    native = native_zstd()
    if native is None:
        pytest.skip("no native zstd")
    import numcodecs

    rng = np.random.default_rng(3)
    chunks = [rng.integers(0, 50, nbytes // 8).astype("f8") for _ in range(n)]
    paths = []
    for i, c in enumerate(chunks):
        p = tmp_path / f"f{i}"
        p.write_bytes(numcodecs.Zstd(level=1).encode(c))
        paths.append(str(p))
    return native, chunks, paths


def _run(native, files, starts, lengths, first, fstarts, fstops, boxes, n_out, nbytes,
         threads=1, room=None):
    from exzarr.kernels.read_scatter import read_scatter

    item = 8
    per = nbytes // item
    out = np.zeros(n_out * per, dtype="f8")
    flat = out.view(np.uint8)
    bases = np.arange(n_out, dtype=np.int64) * nbytes
    skips = np.zeros(n_out, dtype=np.int64)
    extents = np.full((n_out, 1), per, dtype=np.int64)
    strides = np.array([item], dtype=np.int64)
    status = np.zeros(len(boxes), dtype=np.int8)
    counter = np.zeros(1, dtype=np.int64)
    i64 = lambda v: np.asarray(v, dtype=np.int64)  # noqa: E731
    done = []

    def work():
        cs, dec, ctx, copy = native.frame_functions()
        buf = np.zeros(room or nbytes * 4, dtype=np.uint8)
        done.append(read_scatter(files.fs, files.names, files.paths, i64(starts), i64(lengths),
                                 i64(first), i64(fstarts), i64(fstops), i64(boxes), counter,
                                 status, cs, dec, ctx, copy, buf, nbytes,
                                 np.zeros(nbytes, np.uint8), flat, bases, skips, extents,
                                 strides, strides, item))
    ts = [threading.Thread(target=work) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out.reshape(n_out, per), status, done, counter[0]


def test_every_job_is_taken_by_one_thread(tmp_path):
    from exzarr.kernels.job_status import DONE

    native, chunks, paths = _frames(tmp_path, 200)
    files = DirectReads(functions(), paths)
    n = len(paths)
    out, status, done, counter = _run(native, files, [0] * n, [-1] * n, range(n + 1),
                                      [0] * n, [-1] * n, list(range(n))[::-1], n, 4096,
                                      threads=4)
    assert (status == DONE).all() and sum(done) == n and counter >= n
    np.testing.assert_array_equal(out, np.array(chunks[::-1]))


def test_ranges_of_several_frames_and_what_is_refused(tmp_path):
    from exzarr.kernels.job_status import DONE, MISSING, REFUSED, WAITING

    native, chunks, paths = _frames(tmp_path, 3)
    blobs = [open(p, "rb").read() for p in paths]
    joined = tmp_path / "joined"
    joined.write_bytes(b"xx" + b"".join(blobs))  # a shard-like file: frames side by side
    ends = np.cumsum([len(b) for b in blobs]) + 2
    files = DirectReads(functions(), [str(joined), str(tmp_path / "none"), str(joined),
                                      str(joined), str(joined)])
    a, b = int(ends[0]), int(ends[2])
    out, status, done, _ = _run(
        native, files,
        starts=[2, 0, 0, 2, a],
        lengths=[b - 2, -1, b + 10, -1, b - a],   # (job 2: past the end of the file)
        first=[0, 3, 4, 5, 6, 7],
        fstarts=[0, a - 2, int(ends[1]) - 2, 0, 0, 0, 0],
        fstops=[a - 2, int(ends[1]) - 2, b - 2, -1, -1, -1, b - a],
        boxes=[2, 1, 0, 3, 3, 3, 3], n_out=4, nbytes=4096)
    # job 0: three frames of one range; job 1: no such file; job 2: the file ends first;
    # job 3: the whole file is not one frame; job 4: two frames taken as one
    assert status.tolist() == [DONE, DONE, DONE, MISSING, REFUSED, REFUSED, REFUSED]
    assert done == [3]
    np.testing.assert_array_equal(out[:3], np.array(chunks[::-1]))
    assert not out[3].any()  # nothing written by a refused frame
    # frames out of order in ``first`` are not taken (the caller does them)
    _, status, _, _ = _run(native, files, [2], [b - 2], [1, 0], [0], [-1], [0], 1, 4096)
    assert status.tolist() == [WAITING]


def test_a_whole_file_as_large_as_the_buffer_is_refused(tmp_path):
    from exzarr.kernels.job_status import REFUSED

    native, _, paths = _frames(tmp_path, 1)
    size = os.path.getsize(paths[0])
    files = DirectReads(functions(), paths)
    _, status, _, _ = _run(native, files, [0], [-1], [0, 1], [0], [-1], [0], 1, 4096,
                           room=size)
    assert status.tolist() == [REFUSED]  # (it may go on past the buffer)
