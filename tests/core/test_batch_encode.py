"""Chunks encoded in compiled calls (``exzarr.array.batch_encode`` /
``exzarr.kernels.encode_gather``): the inner chunks of a shard many at a time, an
unsharded chunk one per call; taken for plain zstd chunks a write covers whole, inside the
array, from a value whose chunk rows are contiguous.  The stored bytes are exactly those
of the per-chunk path (numcodecs' zstd), all-fill chunks are left out as before, and the
data always equals NumPy."""

from __future__ import annotations

import importlib
import threading

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import exzarr as ez
from exzarr import config
from exzarr.codecs import native_encode
from exzarr.kernels import jit
from exzarr.storage import LocalStore, MemoryStore
from exzarr.testing.strategies import basic_keys

from .markers import needs_compiled_zstd

kernel_module = importlib.import_module("exzarr.kernels.encode_gather")
batch_encode = importlib.import_module("exzarr.array.batch_encode")
fresh_bytes = importlib.import_module("exzarr.array.fresh_bytes")

pytestmark = needs_compiled_zstd

SHAPE, CHUNKS, SHARDS = (100, 90), (8, 6), (32, 24)   # 4 x 4 = 16 inner chunks per shard
ZSTD = {"name": "zstd", "configuration": {"level": 1}}


@pytest.fixture
def batches(encode_calls):
    """The (chunks given, chunks done) of every encode_gather call (conftest)."""
    return encode_calls


def data(shape=SHAPE, seed=7):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 8).round(2).astype("f4")


def contents(store) -> dict:
    return {k: store.get(k) for k in sorted(store.list())}


def write_both(value, key=Ellipsis, dtype="f4", prefill=None, **kw):
    """The same write with batches and without JIT: (stores, arrays)."""
    out = []
    for jit_on in (True, False):
        store = MemoryStore()
        z = ez.create(store, shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype=dtype,
                      compressor=kw.get("compressor", ZSTD), fill_value=kw.get("fill_value", 0),
                      **{k: v for k, v in kw.items() if k not in ("compressor", "fill_value")})
        if prefill is not None:
            z[...] = prefill
        with config.set(jit=jit_on):
            z[key] = value
        out.append((store, z))
    return out


@pytest.mark.parametrize("kind", ["memory", "local"])
def test_whole_inner_chunks_are_encoded_in_batches(kind, tmp_path, batches):
    d = data()
    store = MemoryStore() if kind == "memory" else LocalStore(tmp_path / "a")
    z = ez.create(store, shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="f4",
                  compressor=ZSTD, fill_value=0)
    z[...] = d
    assert batches and all(done == given for given, done in batches)
    np.testing.assert_array_equal(z[...].read(), d)
    # every inner chunk inside the array went through the kernel
    inside = (SHAPE[0] // CHUNKS[0]) * (SHAPE[1] // CHUNKS[1])
    assert sum(done for _, done in batches) == inside


def test_stored_bytes_equal_the_per_chunk_path():
    (fast, _), (slow, _) = write_both(data())
    assert contents(fast) == contents(slow)


@pytest.mark.parametrize("level,checksum", [(-3, False), (0, False), (3, True), (9, False)])
def test_levels_and_checksums_match_numcodecs(level, checksum):
    compressor = {"name": "zstd", "configuration": {"level": level, "checksum": checksum}}
    (fast, _), (slow, _) = write_both(data(), compressor=compressor)
    assert contents(fast) == contents(slow)


def test_all_fill_inner_chunks_and_shards_are_left_out(batches):
    d = data()
    d[:32, :24] = 0          # shard (0, 0) entirely fill_value: not stored
    d[32:40, 24:30] = 0      # one inner chunk of shard (1, 1): absent from its index
    (fast, z), (slow, _) = write_both(d)
    assert contents(fast) == contents(slow)
    assert fast.get("c/0/0") is None and fast.get("c/1/1") is not None
    np.testing.assert_array_equal(z[...].read(), d)
    assert batches


def test_negative_zero_is_not_fill():
    d = np.zeros(SHAPE, "f4")
    d[5, 5] = -0.0
    (fast, z), (slow, _) = write_both(d)
    assert contents(fast) == contents(slow)
    got = z[...].read()
    assert np.signbit(got[5, 5]) and not np.signbit(got[5, 6])


@pytest.mark.parametrize("fill", [1.5, -7.0])
def test_nonzero_fill(fill, batches):
    d = data()
    d[:32, :24] = fill
    (fast, z), (slow, _) = write_both(d, fill_value=fill)
    assert contents(fast) == contents(slow)
    assert batches
    np.testing.assert_array_equal(z[...].read(), d)


def test_nan_fill_takes_the_per_chunk_path(batches):
    d = data()
    d[:32, :24] = np.nan
    (fast, z), (slow, _) = write_both(d, fill_value=float("nan"))
    assert batches == []
    assert contents(fast) == contents(slow)
    np.testing.assert_array_equal(z[...].read(), d)


@pytest.mark.parametrize("dtype", ["i2", "u8", "f2", "c8", "?", "M8[s]", "S3"])
def test_other_dtypes(dtype, batches):
    base = np.arange(np.prod(SHAPE)).reshape(SHAPE)
    d = (base % 7 == 0) if dtype == "?" else base.astype(dtype)
    (fast, z), (slow, _) = write_both(d, dtype=dtype, fill_value=None)
    assert contents(fast) == contents(slow)
    np.testing.assert_array_equal(z[...].read(), d)
    assert batches


def test_big_endian_dtype_takes_the_per_chunk_path(batches):
    d = data().astype(">f4")
    (fast, z), (slow, _) = write_both(d, dtype=">f4")
    assert contents(fast) == contents(slow)
    np.testing.assert_array_equal(z[...].read(), d)


def test_partial_writes_keep_the_rest_of_each_shard(batches):
    before, d = data(seed=1), data(seed=2)
    key = (slice(5, 93), slice(7, 80))
    (fast, z), (slow, _) = write_both(d[key], key=key, prefill=before)
    assert contents(fast) == contents(slow)
    want = before.copy()
    want[key] = d[key]
    np.testing.assert_array_equal(z[...].read(), want)


@pytest.mark.parametrize("view", ["transposed", "strided rows", "strided columns", "reversed"])
def test_source_layouts(view, batches):
    d = data((200, 200))
    src = {"transposed": d.T[:100, :90], "strided rows": d[::2, :90],
           "strided columns": d[:100, :180:2], "reversed": d[::-1, ::-1][:100, :90]}[view]
    (fast, z), (slow, _) = write_both(src)
    assert contents(fast) == contents(slow)
    np.testing.assert_array_equal(z[...].read(), src)
    took = bool(batches)
    assert took == (view == "strided rows")  # rows of each chunk contiguous, strides >= 0


def test_write_empty_chunks(batches):
    d = np.zeros(SHAPE, "f4")
    (fast, _), (slow, _) = write_both(d, write_empty_chunks=True)
    assert contents(fast) == contents(slow)


def test_a_row_broadcast_down_the_array(batches):
    row = data((1, SHAPE[1]))
    (fast, z), (slow, _) = write_both(row)
    assert batches  # the rows of every chunk are contiguous (the same source row)
    assert contents(fast) == contents(slow)
    np.testing.assert_array_equal(z[...].read(), np.broadcast_to(row, SHAPE))


def test_scalar_broadcast_value_takes_the_per_chunk_path(batches):
    (fast, z), (slow, _) = write_both(3.0)
    assert batches == []
    assert contents(fast) == contents(slow)
    assert np.all(z[...].read() == 3.0)


@pytest.mark.parametrize("shards", [(16, 20), None])
@settings(max_examples=40, deadline=None)
@given(st.data())
def test_writes_match_numpy(shards, d):
    a = np.zeros((70, 50), "f4")
    layout = dict(shape=a.shape, chunks=(4, 5), shards=shards, dtype="f4", compressor=ZSTD,
                  fill_value=0)
    z = ez.create(MemoryStore(), **layout)
    for seed in range(2):
        key = d.draw(basic_keys(a.shape))
        value = data(np.shape(a[key]), seed=seed)
        a[key] = value
        z[key] = value
    np.testing.assert_array_equal(z[...].read(), a)
    ref, fresh = MemoryStore(), MemoryStore()
    with config.set(jit=False):
        ez.create(ref, **layout)[...] = a
    ez.create(fresh, **layout)[...] = a
    assert contents(fresh) == contents(ref)


def test_concurrent_writes_share_no_state(batches):
    d = data((128, 96))
    z = ez.create(MemoryStore(), shape=d.shape, chunks=CHUNKS, shards=SHARDS, dtype="f4",
                  compressor=ZSTD, fill_value=0)
    errors = []

    def work(i):
        try:
            for _ in range(5):
                rows = slice(32 * i, 32 * (i + 1))
                z[rows] = d[rows]
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and batches
    np.testing.assert_array_equal(z[...].read(), d)


def test_kernel_refuses_what_does_not_fit():
    comp = native_encode.zstd_encoder(1, False)
    memmove = comp.memmove
    ctx = comp.context()
    src = data((16, 16))
    rows = np.arange(8, dtype=np.int64) * src.strides[0]
    bases = np.array([0, 8 * 4, 8 * src.strides[0]], np.int64)
    fill = np.zeros(32, np.uint64)
    gathered = np.zeros(32, np.uint64)
    sizes = np.full(3, -9, np.int64)
    enc = kernel_module.encode_gather
    big = np.empty(3 * comp.bound(256), np.uint8)
    assert enc(comp.address, ctx, memmove, src, bases, rows, 32, 256, fill, True, gathered, big,
               sizes) == 3
    assert (sizes > 0).all()
    # too little room: the first frame that does not fit is refused
    sizes[:] = -9
    small = np.empty(int(sizes.size and comp.bound(256) + 10), np.uint8)
    done = enc(comp.address, ctx, memmove, src, bases, rows, 32, 256, fill, True, gathered, small,
               sizes)
    assert done in (1, 2) and sizes[done] == -9 and sizes[0] > 0
    # a gather buffer or fill pattern shorter than a chunk: nothing done
    assert enc(comp.address, ctx, memmove, src, bases, rows, 32, 256, fill[:8], True, gathered,
               big, sizes) == 0
    assert enc(comp.address, ctx, memmove, src, bases, rows, 32, 256, fill, True, gathered[:8],
               big, sizes) == 0
    # rows that do not make up the chunk: nothing done
    assert enc(comp.address, ctx, memmove, src, bases, rows[:4], 32, 256, fill, True, gathered,
               big, sizes) == 0


def test_sources_outside_the_value_are_never_read(batches, monkeypatch):
    """The encoder checks each chunk's place against the value's shape before the call."""
    enc = batch_encode.BatchEncoder
    calls = []
    real = enc.encode

    def spy(self, items, **kw):
        out = real(self, items, **kw)
        calls.append(len(out))
        return out
    monkeypatch.setattr(enc, "encode", spy)
    # every piece claims a whole chunk starting far outside the value
    monkeypatch.setattr(batch_encode.BasicTuples, "_whole_start", lambda self, i, p: 10_000)
    d = data()
    (fast, z), (slow, _) = write_both(d)
    assert calls and all(n == 0 for n in calls) and batches == []
    np.testing.assert_array_equal(z[...].read(), d)


# -- unsharded arrays: a chunk the write covers whole is encoded in one compiled call -----

def write_plain(value, key=Ellipsis, jit_on=True, store=None, prefill=None, **kw):
    store = MemoryStore() if store is None else store
    z = ez.create(store, shape=SHAPE, chunks=(16, 12), dtype=kw.pop("dtype", "f4"),
                  compressor=kw.pop("compressor", ZSTD), fill_value=kw.pop("fill_value", 0),
                  **kw)
    if prefill is not None:
        z[...] = prefill
    with config.set(jit=jit_on):
        z[key] = value
    return store, z


@pytest.mark.parametrize("compressor", [ZSTD, {"name": "zstd", "configuration":
                                              {"level": 5, "checksum": True}}])
def test_unsharded_chunks_match_the_per_chunk_path(compressor, batches):
    d = data()
    d[:16, :12] = 0  # one chunk all fill_value: not stored
    fast, z = write_plain(d, compressor=compressor)
    slow, _ = write_plain(d, compressor=compressor, jit_on=False)
    assert contents(fast) == contents(slow)
    assert fast.get("c/0/0") is None
    inside = (SHAPE[0] // 16) * (SHAPE[1] // 12)  # edge chunks take the per-chunk path
    assert sum(done for _, done in batches) == inside
    np.testing.assert_array_equal(z[...].read(), d)


def test_unsharded_local_store(tmp_path, batches):
    d = data()
    fast, z = write_plain(d, store=LocalStore(tmp_path / "a"))
    slow, _ = write_plain(d, store=LocalStore(tmp_path / "b"), jit_on=False)
    assert contents(fast) == contents(slow) and batches
    np.testing.assert_array_equal(ez.open(str(tmp_path / "a"))[...].read(), d)


def test_unsharded_overwrite_with_fill_deletes_and_write_empty_keeps(batches):
    d = data()
    store, z = write_plain(np.zeros(SHAPE, "f4"), prefill=d)
    assert [k for k in store.list() if k.startswith("c/")] == []
    store2, z2 = write_plain(np.zeros(SHAPE, "f4"), write_empty_chunks=True)
    slow2, _ = write_plain(np.zeros(SHAPE, "f4"), write_empty_chunks=True, jit_on=False)
    assert contents(store2) == contents(slow2)
    assert store2.get("c/0/0") is not None


def test_unsharded_partial_write(batches):
    before, d = data(seed=3), data(seed=4)
    key = (slice(3, 97), slice(13, 90))
    fast, z = write_plain(d[key], key=key, prefill=before)
    slow, _ = write_plain(d[key], key=key, prefill=before, jit_on=False)
    assert contents(fast) == contents(slow)
    want = before.copy()
    want[key] = d[key]
    np.testing.assert_array_equal(z[...].read(), want)


def test_other_layouts_take_the_per_chunk_path(batches):
    d = data()
    for kw in ({"compressor": {"name": "gzip", "configuration": {"level": 1}}},
               {"zarr_format": 2, "compressor": {"id": "zstd", "level": 1},
                "filters": [{"id": "shuffle", "elementsize": 4}]},
               {"zarr_format": 2, "compressor": {"id": "zstd", "level": 1}, "order": "F"},
               {"dtype": ">f4"}, {"fill_value": float("nan")}):
        value = d.astype(kw["dtype"]) if "dtype" in kw else d
        fast, z = write_plain(value, **kw)
        np.testing.assert_array_equal(z[...].read(), value)
    assert batches == []


def test_complex_fill_with_a_zero_part_follows_the_value_rule(batches):
    """fill 1+0j: a chunk of 1-0j counts as fill by value (the rule), not by bits."""
    d = np.full(SHAPE, complex(1, -0.0), "c8")
    assert np.signbit(d.imag).all()
    d[40:, :] = 2 + 3j
    (fast, z), (slow, _) = write_both(d, dtype="c8", fill_value=1 + 0j)
    assert contents(fast) == contents(slow)
    np.testing.assert_array_equal(z[...].read(), d)


def test_memory_store_keeps_the_bytes_object_the_frame_was_written_in(batches, monkeypatch):
    if not fresh_bytes.available():
        pytest.skip("bytes objects cannot be filled in place here")
    made = []
    real = batch_encode.BatchEncoder.encode_values

    def spy(self, tasks, **kw):
        values = real(self, tasks, **kw)
        made.extend(values)
        return values
    monkeypatch.setattr(batch_encode.BatchEncoder, "encode_values", spy)
    d = data()
    d[:16, :12] = 0  # all fill_value: deleted, not stored
    fast, z = write_plain(d)
    slow, _ = write_plain(d, jit_on=False)
    assert contents(fast) == contents(slow)
    inside = (SHAPE[0] // 16) * (SHAPE[1] // 12)
    assert len(made) == inside and made.count(None) == 1
    kept = {id(v) for v in fast._data.values()}
    assert all(id(v) in kept for v in made if v is not None)  # the very objects, not copies
    np.testing.assert_array_equal(z[...].read(), d)


def test_without_in_place_bytes_the_memory_store_gets_a_copy(batches, monkeypatch):
    monkeypatch.setattr(fresh_bytes, "available", lambda: False)
    monkeypatch.setattr(batch_encode.BatchEncoder, "encode_values",
                        lambda *a, **k: pytest.fail("no in-place bytes here"))
    d = data()
    fast, z = write_plain(d)
    slow, _ = write_plain(d, jit_on=False)
    assert contents(fast) == contents(slow) and batches
    np.testing.assert_array_equal(z[...].read(), d)


def test_local_store_writes_from_the_thread_buffer(tmp_path, batches, monkeypatch):
    monkeypatch.setattr(batch_encode.BatchEncoder, "encode_values",
                        lambda *a, **k: pytest.fail("a local store writes the buffer itself"))
    d = data()
    fast, z = write_plain(d, store=LocalStore(tmp_path / "a"))
    assert batches
    np.testing.assert_array_equal(z[...].read(), d)


# -- unsharded chunks in groups ------------------------------------------------------------

writer = importlib.import_module("exzarr.array.writer")


@pytest.mark.parametrize("store_kind", ["memory", "local"])
@pytest.mark.parametrize("threads", [1, 2])
def test_unsharded_chunks_are_encoded_in_groups(store_kind, threads, tmp_path, batches):
    """A write of many chunks encodes several per compiled call (up to GROUP_MAX); the
    edge chunks of a group go the per-chunk way; the bytes are the per-chunk path's."""
    shape = (16 * 20 + 5, 12 * 6)  # 120 whole chunks and an edge row
    d = np.random.default_rng(2).standard_normal(shape).astype("f4").round(2)
    d[:16, :12] = 0  # one chunk all fill_value
    stores = []
    for jit_on in (True, False):
        store = MemoryStore() if store_kind == "memory" else LocalStore(tmp_path / str(jit_on))
        z = ez.create(store, shape=shape, chunks=(16, 12), dtype="f4", compressor=ZSTD,
                      fill_value=0)
        with config.set(jit=jit_on, threads=threads):
            z[...] = d
        stores.append(store)
        np.testing.assert_array_equal(z[...].read(), d)
    assert contents(stores[0]) == contents(stores[1])
    assert "c/0/0" not in contents(stores[0])
    size = writer.group_size(21 * 6, threads)
    assert size > 1 and max(given for given, _ in batches) == size
    assert sum(done for _, done in batches) == 120


def test_a_chunk_refused_in_a_group_and_those_after_it_go_the_per_chunk_way(
        batches, monkeypatch):
    real = kernel_module.encode_gather  # (the ``batches`` spy, which records the real)
    refused = []

    def refuse_the_second(*args):
        done = real(*args)
        refused.append(len(args[4]) - min(done, 1))
        return min(done, 1)  # the first of each group taken, the others handed back
    monkeypatch.setattr(kernel_module, "encode_gather", refuse_the_second)
    shape = (16 * 16, 12 * 4)
    d = data(shape)
    stores = []
    for jit_on in (True, False):
        store = MemoryStore()
        z = ez.create(store, shape=shape, chunks=(16, 12), dtype="f4", compressor=ZSTD,
                      fill_value=0)
        with config.set(jit=jit_on, threads=2):
            z[...] = d
        stores.append(store)
        np.testing.assert_array_equal(z[...].read(), d)
    assert contents(stores[0]) == contents(stores[1])
    assert batches and all(given > 1 for given, _ in batches) and sum(refused) > 0


def test_group_size():
    assert writer.group_size(256, 2) == writer.GROUP_MAX
    assert writer.group_size(16, 2) == 2
    assert writer.group_size(3, 2) == 1
    assert writer.group_size(0, 4) == 1
    assert writer.group_size(256, 2, 1 << 20) == 1  # buffers written: 1 MiB per call
    assert writer.group_size(256, 2, 1 << 17) == 8
    assert writer.group_size(256, 2, 300_000) == 3


@pytest.mark.parametrize("cache_bytes", [0, 4 << 20])
def test_fill_patterns_made_or_reused_leave_the_same_chunks_out(cache_bytes, batches,
                                                                monkeypatch):
    monkeypatch.setattr(batch_encode, "FILL_CACHE_BYTES", cache_bytes)
    for fill in (0.0, 2.5, 0.0):  # the first pattern again: reused (or made again)
        d = data()
        d[:16, :12] = fill
        fast, z = write_plain(d, fill_value=fill)  # unsharded: 16 x 12 chunks
        slow, _ = write_plain(d, fill_value=fill, jit_on=False)
        assert contents(fast) == contents(slow) and "c/0/0" not in contents(fast)
        np.testing.assert_array_equal(z[...].read(), d)


# -- every task's place in the value, looked up in one table per write -----------------

@st.composite
def _plans(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(0, 30), min_size=ndim, max_size=ndim)))
    chunks = tuple(draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim)))
    return shape, chunks, draw(basic_keys(shape))


@settings(max_examples=300, deadline=None)
@given(_plans())
def test_the_table_of_whole_chunks_agrees_with_each_task(case):
    """``BasicTuples.whole_bases`` gives, for every task, what ``whole_chunk_origin``
    gives it (as a byte offset in the value, -1 where it is None or past the value's
    end), and a task it calls whole covers a chunk that lies inside the array (the
    unsharded writer takes such tasks without checking again)."""
    from exzarr.array.gather import BasicTuples, basic_view
    from exzarr.indexing.parse import parse_key
    from exzarr.indexing.plan import plan_selection
    shape, chunks, key = case
    plan = plan_selection(parse_key(key, shape), chunks)
    view = basic_view(plan, np.empty(plan.selection.out_shape, dtype="f4"))
    tuples = BasicTuples(plan)
    full = view.ndim == len(chunks)
    limit = (tuple(n - c for n, c in zip(view.shape, chunks)) if full
             else (0,) * view.ndim)
    table = tuples.whole_bases(view.strides, limit)
    assert table.shape == (plan.nchunks,)
    for task in plan:
        at = tuples.whole_chunk_origin(task)
        inside = at is not None and all(0 <= o <= m for o, m in zip(at, limit))
        expected = sum(o * s for o, s in zip(at, view.strides)) if inside else -1
        assert table[task.index] == expected
        if expected >= 0:
            assert plan.covers_chunk(task, shape)
            assert all(min(c, n - k * c) == c for c, n, k in zip(chunks, shape, task.coords))


@pytest.mark.parametrize("sharded", [False, True])
def test_a_plan_too_large_for_the_table_takes_each_tasks_own_place(sharded, monkeypatch,
                                                                    batches):
    """Past ``TABLE_MAX`` tasks the encoder looks each task's place up on its own (no
    table of the whole plan): the same chunks batched, the same bytes stored."""
    before, d = data(seed=3), data(seed=4)
    key = (slice(3, 97), slice(13, 90))  # edge and partly covered chunks among them
    write = (lambda **kw: write_both(d[key], key=key, prefill=before, **kw)[0]) if sharded \
        else (lambda **kw: write_plain(d[key], key=key, prefill=before, **kw))
    table, z = write()
    with_table = list(batches)
    batches.clear()
    monkeypatch.setattr(batch_encode, "TABLE_MAX", 0)
    own, _ = write()
    assert contents(own) == contents(table)
    assert sorted(batches) == sorted(with_table) and sum(done for _, done in batches) > 0
    want = before.copy()
    want[key] = d[key]
    np.testing.assert_array_equal(z[...].read(), want)
