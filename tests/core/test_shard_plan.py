"""Sharded reads from local files planned by compiled code (``exzarr.array.shard_plan``,
``exzarr.kernels.shard_plan``): each shard's index read and checked and its inner chunks
coalesced into the jobs of ``read_scatter`` without the GIL.  The plan must be the one
the checked route (Python, ``shard_files._CheckedShards``) makes, job for job, on any
layout of a shard (inner chunks in any order, gaps, empty and shared entries); every read
equals NumPy and the Python route; a damaged index (a checksum that does not match, an
entry half empty, a file shorter than its index) makes the kernel stop and the checked
route say what is wrong, from that shard on."""

from __future__ import annotations

import functools
import importlib
import pathlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import exzarr as ez
from exzarr import config
from exzarr.codecs.byte_ranges import coalesce
from exzarr.codecs.checksum import crc32c_value
from exzarr.errors import ChecksumMismatchError, DecompressionError
from exzarr.indexing.parse import parse_key
from exzarr.indexing.plan import plan_selection
from exzarr.storage import LocalStore
from exzarr.storage.direct_reads import functions
from exzarr.testing.strategies import basic_keys

from .routes import read_both

shard_files = importlib.import_module("exzarr.array.shard_files")
shard_plan = importlib.import_module("exzarr.array.shard_plan")
reader = importlib.import_module("exzarr.array.reader")

pytestmark = pytest.mark.skipif(functions() is None,
                                reason="compiled file reads: POSIX with Numba on only")

SHAPE, INNER, SHARD = (60, 50), (6, 5), (24, 20)  # shards of 4 x 4 inner chunks
N_INNER = 16
BYTES = {"name": "bytes", "configuration": {"endian": "little"}}
ZSTD = {"name": "zstd", "configuration": {"level": 1}}
CRC = {"name": "crc32c"}


@pytest.fixture(autouse=True)
def small_inner_chunks_too(monkeypatch):
    """The inner chunks here are small: take the route whatever their size."""
    monkeypatch.setattr(shard_files, "MIN_INNER_BYTES", 0)


def stored(path, index_codecs=(BYTES, CRC), location="end"):
    d = (np.arange(np.prod(SHAPE), dtype="f4").reshape(SHAPE) * 0.5) % 97
    codecs = [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": list(INNER), "codecs": [BYTES, ZSTD],
        "index_codecs": list(index_codecs), "index_location": location}}]
    z = ez.create(LocalStore(str(path)), shape=SHAPE, chunks=SHARD, dtype="f4",
                  fill_value=-2, codecs=codecs)
    z[...] = d
    return z, d


def _index(raw: bytes, location: str, crc: bool) -> tuple[np.ndarray, int, int]:
    """The shard's (N_INNER, 2) entries, and where its index starts and ends."""
    size = 16 * N_INNER + 4 * crc
    at = len(raw) - size if location == "end" else 0
    entries = np.frombuffer(raw[at:at + 16 * N_INNER], dtype="<u8").reshape(N_INNER, 2)
    return entries.copy(), at, at + size


def _write_index(path, change, location="end", crc=True):
    """Change the shard's entries (``change(entries)``), with a right checksum."""
    raw = bytearray(path.read_bytes())
    entries, a, b = _index(bytes(raw), location, crc)
    change(entries)
    body = entries.astype("<u8").tobytes()
    raw[a:b] = body + (crc32c_value(body).to_bytes(4, "little") if crc else b"")
    path.write_bytes(bytes(raw))


def relayout(path, rng, *, location="end", crc=True, share=False):
    """Rewrite a shard with its inner chunks in a random order, random gaps between them
    and, when ``share``, one inner chunk's entry pointing at another's bytes (equal
    chunks: both are all fill or share a value); the data it holds is unchanged."""
    raw = path.read_bytes()
    entries, a, b = _index(raw, location, crc)
    index_size = b - a
    present = [e for e in range(N_INNER) if entries[e, 0] != 2**64 - 1]
    body = bytearray(b"\0" * (index_size if location == "start" else 0))
    new = np.full((N_INNER, 2), 2**64 - 1, dtype=np.uint64)
    for e in rng.permutation(present).tolist():
        body += rng.integers(0, 256, int(rng.choice([0, 0, 3, 100]))).astype(np.uint8).tobytes()
        off, n = int(entries[e, 0]), int(entries[e, 1])
        new[e] = (len(body), n)
        body += raw[off:off + n]
    if share and len(present) > 1:
        # a second entry for the bytes of an inner chunk of the same value: the same frame
        e, f = present[0], present[1]
        if raw[int(entries[e, 0]):int(entries[e, 0] + entries[e, 1])] == \
                raw[int(entries[f, 0]):int(entries[f, 0] + entries[f, 1])]:
            new[f] = new[e]
    packed = new.astype("<u8").tobytes()
    index = packed + (crc32c_value(packed).to_bytes(4, "little") if crc else b"")
    if location == "start":
        body[:index_size] = index
    else:
        body += index
    path.write_bytes(bytes(body))


def both_plans(z, key, tail=0, max_size=2 << 20):
    """The jobs (key, start, length, frames) and fills (task numbers) of the compiled
    planning and of the checked route, for ``z[key]`` (one thread: planned in order)."""
    st_ = z._state
    sel = parse_key(key, tuple(z.shape))
    plan = plan_selection(sel, INNER)
    out = np.empty(sel.out_shape, z.dtype)
    _, decode, _, prefix = reader.chunk_geometry(st_)
    scatter = reader._basic_handlers(st_, plan, out, decode, False, prefix)[3]
    most = shard_files.sharded.longest_job(st_.pipeline.inner_spec.nbytes)
    compiled = shard_plan.CompiledShards.make(st_, plan, scatter, tail, max_size, most)
    assert compiled is not None
    fed = list(compiled.feed(1, lambda s: pytest.fail(f"the kernel stopped at shard {s}")))
    got = []
    for keys, jobs in compiled.batches:
        paths, starts, lengths, first, fa, fb, boxes = (a.tolist() for a in jobs.args)
        got += [(keys[paths[k]], starts[k], lengths[k],
                 [(fa[j], fb[j], boxes[j]) for j in range(first[k], first[k + 1])])
                for k in range(len(starts))]
    assert len(fed) == len(compiled.batches)
    fills = sorted(i for f in compiled.fills for i in f.tolist())
    monkey = pytest.MonkeyPatch()
    monkey.setattr(shard_files.sharded, "RANGE_TASK_BYTES", max_size)
    checked = shard_files._CheckedShards(st_, plan, scatter, tail, most)
    list(checked.feed(1, 0))
    monkey.undo()
    want = []
    for one in checked.shards:
        if one.jobs is None:
            continue
        _, starts, lengths, first, fa, fb, boxes = (a.tolist() for a in one.jobs.args)
        want += [(one.key, starts[k], lengths[k],
                  [(fa[j], fb[j], boxes[j]) for j in range(first[k], first[k + 1])])
                 for k in range(len(starts))]
    return (got, fills), (want, sorted(t.index for t, _, _ in checked.empty))


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_plan_is_the_checked_routes_on_any_layout(tmp_path_factory, data):
    location = data.draw(st.sampled_from(["start", "end"]))
    crc = data.draw(st.booleans())
    z, d = stored(tmp_path_factory.mktemp("p") / "a", (BYTES, CRC) if crc else (BYTES,),
                  location)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    if data.draw(st.booleans()):
        z[0:6, 0:5] = -2  # an empty inner chunk
    for name in ["c/0/0", "c/1/1", "c/2/2"]:
        if data.draw(st.booleans()):
            relayout(_file(z, name), rng, location=location, crc=crc,
                     share=data.draw(st.booleans()))
    if data.draw(st.booleans()):
        z.store.delete("c/1/0")  # a missing shard
    key = data.draw(basic_keys(SHAPE))
    tail = data.draw(st.sampled_from([0, 1, 3, 40]))
    max_size = data.draw(st.sampled_from([1, 150, 400, 2 << 20]))
    if np.empty(SHAPE)[key].size == 0:
        return
    compiled, checked = both_plans(z, key, tail, max_size)
    assert compiled == checked
    with config.set(threads=data.draw(st.sampled_from([1, 2, 3]))):
        np.testing.assert_array_equal(read_both(z, key), np.asarray(read_both(z))[key])


def _file(z, name) -> pathlib.Path:
    return pathlib.Path(z.store._path(name))


@pytest.mark.parametrize("codecs, location", [((BYTES, CRC), "end"), ((BYTES,), "end"),
                                              ((BYTES, CRC), "start"), ((BYTES,), "start")])
def test_reads_of_each_index_form_are_planned_by_the_kernel(tmp_path, monkeypatch, codecs,
                                                            location):
    z, d = stored(tmp_path / "a", codecs, location)
    batches = []
    real = shard_plan.CompiledShards._plan

    def spy(self, s0, s1):
        planned = real(self, s0, s1)
        batches.append((s0, s1, planned is not False))
        return planned
    monkeypatch.setattr(shard_plan.CompiledShards, "_plan", spy)
    with config.set(threads=2):
        np.testing.assert_array_equal(z[2:59, 1:48].read(), d[2:59, 1:48])
    # 3 x 3 shards: batches of 1, 1, 2, 4 and the last one, every one planned
    assert batches == [(0, 1, True), (1, 2, True), (2, 4, True), (4, 8, True), (8, 9, True)]


def test_an_index_of_two_checksums_goes_the_checked_way(tmp_path):
    z, d = stored(tmp_path / "a", (BYTES, CRC, CRC))
    sel = parse_key(Ellipsis, SHAPE)
    plan = plan_selection(sel, INNER)
    assert shard_plan.CompiledShards.make(z._state, plan, None, 0, 1, 1) is None
    np.testing.assert_array_equal(read_both(z), d)


def _damage(path, how):
    if how == "checksum":
        raw = bytearray(path.read_bytes())
        raw[-1] ^= 0xFF
        path.write_bytes(bytes(raw))
    elif how == "half empty":
        _write_index(path, lambda e: e.__setitem__((3, 1), 2**64 - 1))
    else:  # shorter than its index
        path.write_bytes(path.read_bytes()[-100:])


@pytest.mark.parametrize("how, error", [("checksum", ChecksumMismatchError),
                                        ("half empty", DecompressionError),
                                        ("short", DecompressionError)])
@pytest.mark.parametrize("threads", [1, 2])
def test_a_damaged_index_is_a_typed_error_from_the_checked_route(tmp_path, monkeypatch, how,
                                                                 error, threads):
    """The kernel stops at the damaged shard (the 5th: in the third batch) and the checked
    route plans it and the rest, and says what is wrong, as it does with Numba off."""
    z, d = stored(tmp_path / "a")
    _damage(_file(z, "c/1/1"), how)
    stops = []
    real = shard_files._CheckedShards.feed

    def spy(self, threads, skip):
        stops.append(skip)
        return real(self, threads, skip)
    monkeypatch.setattr(shard_files._CheckedShards, "feed", spy)
    with config.set(threads=threads), pytest.raises(error, match="c/1/1"):
        z[...].read()
    assert stops == [4]  # (the batch of shards 4-7: planned from the 5th on)
    with config.set(jit=False), pytest.raises(error, match="c/1/1"):
        z[...].read()
    # the other shards read as they are
    np.testing.assert_array_equal(z[0:24, 0:20].read(), d[0:24, 0:20])


@settings(max_examples=200, deadline=None)
@given(spans=st.lists(st.tuples(st.integers(0, 300), st.integers(0, 40)), min_size=1,
                      max_size=30),
       max_gap=st.sampled_from([0, 1, 10, 100]), max_size=st.sampled_from([1, 20, 60, 1000]))
def test_the_kernels_coalescing_is_coalesce(spans, max_gap, max_size):
    """The kernel's sort and coalescing against ``byte_ranges.coalesce`` (overlapping,
    equal and empty ranges included)."""
    run = _coalesce_kernel()
    work = np.zeros((7, len(spans) + 1), dtype=np.int64)
    for i, (a, n) in enumerate(spans):
        work[0, i], work[1, i], work[2, i] = a, a + n, i
    n_ranges = run(work, len(spans), max_gap, max_size)
    got = []
    for r in range(n_ranges):
        start = int(work[4, r])
        parts = tuple((int(work[2, work[3, p]]), int(work[0, work[3, p]]) - start,
                       int(work[1, work[3, p]]) - start)
                      for p in range(work[6, r], work[6, r + 1]))
        got.append(((start, int(work[5, r])), parts))
    want = coalesce([(i, a, a + n) for i, (a, n) in enumerate(spans)], max_gap=max_gap,
                    max_size=max_size)
    assert got == [(r.byte_range, r.parts) for r in want]


@functools.cache
def _coalesce_kernel():
    import numba
    from exzarr.kernels import shard_plan as kernel

    @numba.njit
    def run(work, m, max_gap, max_size):
        kernel._sort(work, m)
        return kernel._coalesce(work, m, max_gap, max_size)
    return run


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=200), pad=st.integers(0, 7))
def test_the_kernels_crc32c_is_the_crc32c_packages(data, pad):
    buf = np.frombuffer(data + b"\x5a" * pad, dtype=np.uint8)
    assert int(_crc_kernel()(buf, len(data))) == crc32c_value(data)


@functools.cache
def _crc_kernel():
    import numba
    from exzarr.kernels.crc32c import crc32c

    return numba.njit(lambda b, n: crc32c(b, n))


_entry = st.one_of(
    st.just((2**64 - 1, 2**64 - 1)),  # empty
    st.tuples(st.integers(0, 3000), st.integers(0, 600)),  # in the file, or past its end
    st.tuples(st.integers(0, 2**64 - 2), st.integers(0, 2**64 - 2)),  # anywhere
    st.tuples(st.just(2**64 - 1), st.integers(0, 100)),  # half empty
    st.tuples(st.integers(2**62 - 10, 2**62 + 10), st.integers(0, 20)))  # near 2**62


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.tuples(st.integers(0, N_INNER - 1), _entry), max_size=4),
       threads=st.sampled_from([1, 2]))
def test_a_fuzzed_index_reads_as_it_does_with_numba_off(tmp_path_factory, entries, threads):
    """Entries of any value with a right checksum: the read gives what the Python route
    gives (Numba off), the same array or an error of the same type."""
    z, d = stored(tmp_path_factory.mktemp("f") / "a")

    def change(e):
        for at, value in entries:
            e[at] = value
    _write_index(_file(z, "c/1/1"), change)
    results = []
    for jit in (True, False):
        with config.set(jit=jit, threads=threads):
            try:
                results.append(z[...].read())
            except Exception as e:  # noqa: BLE001 (compared below)
                results.append(type(e))
    fast, slow = results
    if isinstance(slow, type):
        assert fast is slow
    else:
        np.testing.assert_array_equal(fast, slow)
