"""ez.loader: batches over ZArrays, NumPy as the oracle.

Plans (which sample goes where) are checked exhaustively with hypothesis without reading;
reads are checked against NumPy on real arrays (v2, v3, sharded, views, memory and local
stores).  No timing assertions.
"""

from __future__ import annotations

import gc
import threading
import tracemalloc
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import exzarr as ez
from exzarr.errors import ShapeMismatchError
from exzarr.storage import MemoryStore
from exzarr.integrations.loader import Loader

from .conftest import RecordingLocalStore

MODES = [False, "chunks", True]


def _ranks(n: int, b: int, world: int, mode: Any, drop_last: bool, seed: int = 0,
           epoch: int = 0, **kw: Any) -> list[list[np.ndarray]]:
    src = np.zeros((n, 1), dtype="u1")  # a NumPy array: plans only, nothing is read
    out = []
    for r in range(world):
        ld = ez.loader(src, b, shuffle=mode, seed=seed, drop_last=drop_last, rank=r,
                       world_size=world, **kw)
        out.append(ld.batch_indices(epoch))
        assert len(ld) == len(out[-1])
    return out


def _feasible(n: int, b: int, w: int) -> bool:
    k = -(-n // (w * b))
    return w == 1 or k == 0 or n // w >= (k - 1) * b + 1


# -- every sample exactly once, equal batch counts ------------------------------------------

@settings(max_examples=150, deadline=None)
@given(n=st.integers(0, 300), b=st.integers(1, 40), world=st.integers(1, 5),
       mode=st.sampled_from(MODES), drop_last=st.booleans(), seed=st.integers(0, 2**32),
       buffer=st.integers(1, 4))
def test_every_sample_once_per_epoch_and_equal_batch_counts(n, b, world, mode, drop_last,
                                                            seed, buffer):
    if not drop_last and not _feasible(n, b, world):
        with pytest.raises(ShapeMismatchError, match="drop_last=True"):
            _ranks(n, b, world, mode, drop_last, seed)
        return
    ranks = _ranks(n, b, world, mode, drop_last, seed,
                   shuffle_buffer=buffer if mode == "chunks" else None)
    counts = {len(r) for r in ranks}
    assert len(counts) == 1                                   # equal batch counts
    seen = np.concatenate([i for r in ranks for i in r] or [np.zeros(0, np.int64)])
    assert len(np.unique(seen)) == len(seen)                  # nobody sees a sample twice
    for r in ranks:
        assert all(1 <= len(i) <= b for i in r)
        assert all(len(i) == b for i in r[:-1])               # only the last may be short
        if drop_last:
            assert all(len(i) == b for i in r)
    if drop_last:
        assert len(seen) == world * b * (n // (world * b))
    else:
        assert np.array_equal(np.sort(seen), np.arange(n))    # every sample, exactly once
    if mode is False:
        assert np.array_equal(seen, np.sort(seen))            # sequential stays in order


def test_uneven_split_that_cannot_be_balanced_says_what_to_do():
    with pytest.raises(ShapeMismatchError, match=r"5 samples cannot be split over world_size=4"):
        ez.loader(np.zeros(5), 1, world_size=4, rank=0)
    assert len(ez.loader(np.zeros(5), 1, world_size=4, rank=3, drop_last=True)) == 1


@pytest.mark.parametrize("mode", MODES)
def test_chunk_buffer_and_sequential_windows_respect_chunks(mode):
    z = ez.create("memory://win", shape=(1000,), chunks=(64,), dtype="i4", overwrite=True)
    ld = ez.loader(z, 50, shuffle=mode, seed=3, shuffle_buffer=3, window=2)
    for w in ld.plan().window_indices():
        chunks = np.unique(w // 64)
        if mode == "chunks":
            assert len(chunks) <= 3                    # the buffer holds 3 chunks
            assert len(w) == sum(min(64, 1000 - 64 * c) for c in chunks)  # whole chunks
        elif mode is False:
            assert len(w) >= 100 or w[-1] == 999       # >= window samples
            assert w[-1] % 64 == 63 or w[-1] == 999    # ends on a chunk boundary
        else:
            assert len(w) <= 100                       # window=2 batches of 50
    if mode != True:  # noqa: E712 - each chunk in exactly one window per epoch
        owners = [set(np.unique(w // 64).tolist()) for w in ld.plan().window_indices()]
        assert sum(len(o) for o in owners) == len(set().union(*owners)) == 16


# -- reading: NumPy is the oracle ---------------------------------------------------------

def _pair(tmp_path, fmt=3, shards=None, n=517, chunks=40):
    x = np.arange(n * 6, dtype="f4").reshape(n, 2, 3)
    y = np.arange(n, dtype="i8") * 10
    kw: dict[str, Any] = {"zarr_format": fmt}
    if shards:
        kw["shards"] = (shards, 2, 3)
    zx = ez.create(str(tmp_path / f"x{fmt}{shards}.zarr"), shape=x.shape, chunks=(chunks, 2, 3),
                   dtype="f4", compressor="zstd", **kw)
    zx[:] = x
    kwy = {"shards": (shards,)} if shards else {}
    zy = ez.create(str(tmp_path / f"y{fmt}{shards}.zarr"), shape=y.shape, chunks=(chunks,),
                   dtype="i8", zarr_format=fmt, **kwy)
    zy[:] = y
    return zx, zy, x, y


@pytest.mark.parametrize("layout", ["v2", "v3", "sharded"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("prefetch", [0, 2])
def test_batches_match_numpy_and_stay_aligned(tmp_path, layout, mode, prefetch):
    zx, zy, x, y = _pair(tmp_path, fmt=2 if layout == "v2" else 3,
                         shards=120 if layout == "sharded" else None)
    ld = ez.loader((zx, zy), 64, shuffle=mode, seed=7, prefetch=prefetch, shuffle_buffer=2,
                   window=3)
    expected = ld.batch_indices()
    got = list(ld)
    assert len(got) == len(expected) == len(ld) == 9
    for (bx, by), idx in zip(got, expected):
        assert isinstance(bx, np.ndarray) and bx.dtype == x.dtype
        np.testing.assert_array_equal(bx, x[idx])
        np.testing.assert_array_equal(by, y[idx])
    assert sorted(np.concatenate([b for _, b in got]).tolist()) == sorted(y.tolist())


@pytest.mark.parametrize("mode", MODES)
def test_views_and_other_axes(tmp_path, mode):
    zx, _, x, _ = _pair(tmp_path)
    cases = [
        (zx[100:, :, ::2], x[100:, :, ::2], 0),
        (zx[::-3], x[::-3], 0),
        (zx.oindex[[5, 3, 400, 2, 77]], x[[5, 3, 400, 2, 77]], 0),
        (zx[:, 1], x[:, 1], 1),                       # samples along the last axis
        (zx[:, 0].T, x[:, 0].T, 1),                  # a transposed view
    ]
    for view, ref, axis in cases:
        ld = ez.loader(view, 7, shuffle=mode, seed=1, axis=axis, window=2, shuffle_buffer=2)
        for batch, idx in zip(ld, ld.batch_indices(0)):
            np.testing.assert_array_equal(batch, np.take(ref, idx, axis=axis))


def test_determinism_per_seed_and_per_epoch():
    src = np.arange(1000)
    for mode in ["chunks", True]:
        a = ez.loader(src, 32, shuffle=mode, seed=5)
        b = ez.loader(src, 32, shuffle=mode, seed=5)
        ea = [np.concatenate(list(a)) for _ in range(3)]    # epochs 0, 1, 2
        eb = [np.concatenate(list(b)) for _ in range(3)]
        for u, v in zip(ea, eb):
            assert np.array_equal(u, v)                       # same seed, same batches
        assert not np.array_equal(ea[0], ea[1])               # epochs differ
        assert not np.array_equal(ea[1], ea[2])
        b.set_epoch(1)
        assert np.array_equal(np.concatenate(list(b)), ea[1])  # set_epoch replays epoch 1
        assert b.epoch == 2
        c = ez.loader(src, 32, shuffle=mode, seed=6)
        assert not np.array_equal(np.concatenate(list(c)), ea[0])
        g1 = ez.loader(src, 32, shuffle=mode, seed=np.random.default_rng(9))
        g2 = ez.loader(src, 32, shuffle=mode, seed=np.random.default_rng(9))
        assert np.array_equal(np.concatenate(list(g1)), np.concatenate(list(g2)))


def test_global_shuffle_is_a_uniform_permutation():
    # the first position takes every value about equally often over many epochs
    ld = ez.loader(np.arange(8), 8, shuffle=True, seed=0)
    firsts = np.bincount([int(ld.batch_indices(e)[0][0]) for e in range(4000)], minlength=8)
    assert firsts.min() > 400 and firsts.max() < 600


# -- errors ----------------------------------------------------------------------------------

def test_misaligned_arrays_and_bad_arguments_raise_typed_errors():
    a, b = ez.zeros("memory://a1", shape=(10, 3), overwrite=True), ez.zeros("memory://b1", shape=(9,), overwrite=True)
    with pytest.raises(ShapeMismatchError, match=r"arrays\[0\] has 10, arrays\[1\] has 9"):
        ez.loader((a, b), 2)
    with pytest.raises(ShapeMismatchError, match="no axis 1"):
        ez.loader((a, ez.zeros("memory://b2", shape=(10,), overwrite=True)), 2, axis=1)
    with pytest.raises(ValueError, match="needs a seed"):
        ez.loader(a, 2, shuffle=True, world_size=2)
    with pytest.raises(ValueError, match="rank=2 must be < world_size=2"):
        ez.loader(a, 2, rank=2, world_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        ez.loader(a, 0)
    with pytest.raises(ValueError, match="shuffling mode"):
        ez.loader(a, 2, shuffle="yes")
    with pytest.raises(TypeError, match="seed"):
        ez.loader(a, 2, seed=1.5)


def test_a_failing_read_raises_in_the_loop():
    class Broken:
        shape = (100,)
        dtype = np.dtype("f8")

        def __getitem__(self, key):
            raise OSError("disk on fire at key " + repr(key))

    with pytest.raises(OSError, match="disk on fire"):
        list(ez.loader(Broken(), 10, prefetch=2))


# -- xp --------------------------------------------------------------------------------------

def test_xp_numpy_and_array_api_strict():
    xps = pytest.importorskip("array_api_strict")
    z = ez.create("memory://xp", shape=(50, 4), chunks=(16, 4), dtype="f8", overwrite=True)
    z[:] = np.arange(200.0).reshape(50, 4)
    for xp in (None, np):
        assert all(type(b) is np.ndarray for b in ez.loader(z, 8, xp=xp))
    ld = ez.loader((z, z[:, 0]), 8, shuffle=True, seed=1, xp=xps)
    for (bx, b0), idx in zip(ld, ld.batch_indices(0)):
        assert type(bx).__module__.startswith("array_api_strict")
        assert bx.shape == (len(idx), 4)
        np.testing.assert_array_equal(np.asarray(xps.asarray(b0)), np.arange(200.0).reshape(50, 4)[idx, 0])
        np.testing.assert_array_equal(np.from_dlpack(bx), np.arange(200.0).reshape(50, 4)[idx])
    with pytest.raises(TypeError, match="not an array namespace"):
        ez.loader(z, 8, xp=object())


# -- progress and len --------------------------------------------------------------------------

def test_progress_bar(capsys):
    pytest.importorskip("tqdm")
    ld = ez.loader(np.arange(100), 10, progress=True)
    assert len(ld) == 10 and len(list(ld)) == 10
    err = capsys.readouterr().err
    assert "10/10" in err and "epoch 0" in err


# -- prefetching: early stop, no threads left behind, bounded read-ahead ------------------------

class SlowSource:
    """A NumPy-backed array-like that records reads and how many are running."""

    def __init__(self, data: np.ndarray, chunks: int, delay: float = 0.0) -> None:
        self.data, self.shape, self.dtype = data, data.shape, data.dtype
        self.chunks = (chunks,) + data.shape[1:]
        self.delay = delay
        self.reads: list[np.ndarray] = []
        self.running = 0
        self.max_running = 0
        self.lock = threading.Lock()
        self.event = threading.Event()

    def __getitem__(self, key):
        with self.lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        try:
            if self.delay:
                self.event.wait(self.delay)
            k = key[0]
            idx = np.arange(self.shape[0])[k]
            with self.lock:
                self.reads.append(idx)
            return self.data[k]
        finally:
            with self.lock:
                self.running -= 1


def _exzarr_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t is not threading.current_thread()}


@pytest.mark.parametrize("how", ["break", "exception", "gc"])
def test_early_stop_leaves_no_reads_running_and_no_new_threads(how):
    with ez.config.set(threads=2):
        list(ez.loader(SlowSource(np.arange(10_000), 100), 100, shuffle=True, seed=0))  # warm pools
        before = _exzarr_threads()
        for _ in range(5):
            src = SlowSource(np.arange(10_000), 100, delay=0.02)
            ld = ez.loader(src, 100, shuffle=True, seed=0, window=2, prefetch=3)
            if how == "break":
                for _ in ld:
                    break
            elif how == "exception":
                with pytest.raises(RuntimeError):
                    for _ in ld:
                        raise RuntimeError("stop")
            else:
                it = iter(ld)
                next(it)
                del it
                gc.collect()
            assert src.running == 0             # nothing still reading after the stop
            n_reads = len(src.reads)
            assert n_reads <= 1 + 3 + 1         # the window consumed + prefetch + 1
            assert src.max_running <= 2
        after = _exzarr_threads()
    assert after <= before | {t for t in after if t.name.startswith("exzarr")}
    assert len(after) <= len(before)            # no thread was added by the loaders


@pytest.mark.parametrize("prefetch", [0, 1, 3])
def test_read_ahead_is_bounded_by_prefetch(prefetch):
    src = SlowSource(np.arange(20_000), 100)
    ld = ez.loader(src, 100, shuffle="chunks", seed=0, shuffle_buffer=2, prefetch=prefetch)
    plan = ld.plan()
    starts = np.cumsum([0] + [b - a for a, b in plan.windows])
    for i, _ in enumerate(ld):
        window = int(np.searchsorted(starts, i * 100, side="right")) - 1
        assert len(src.reads) <= window + 1 + prefetch + 1
    # chunk buffer: each read is whole chunks of one buffer, each chunk read once an epoch
    chunk_reads = [np.unique(r // 100) for r in src.reads]
    assert all(len(c) <= 2 for c in chunk_reads)
    flat = np.concatenate(chunk_reads)
    assert sorted(flat.tolist()) == list(range(200))


def test_chunk_buffer_memory_is_bounded_by_the_buffer(tmp_path):
    n, chunk = 4096, 64                                 # 16 MiB of float32 samples
    z = ez.create("memory://mem", shape=(n, 16, 64), chunks=(chunk, 16, 64), dtype="f4",
                  compressor="zstd", overwrite=True)
    z[:] = np.random.default_rng(0).random((n, 16, 64), dtype="f4")
    buffer_bytes = 4 * chunk * 16 * 64 * 4               # shuffle_buffer=4 chunks: 1 MiB
    ld = ez.loader(z, 32, shuffle="chunks", seed=0, shuffle_buffer=4, prefetch=1)
    gc.collect()
    tracemalloc.start()
    try:
        total = 0
        for batch in ld:
            total += batch.shape[0]
            del batch
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == n
    # (prefetch + 2) buffers, a batch, read scratch: far below the 16 MiB array
    assert peak < 6 * buffer_bytes, peak


def test_global_shuffle_decodes_each_chunk_once_per_window(tmp_path):
    path = str(tmp_path / "g.zarr")
    z = ez.create(path, shape=(2000, 8), chunks=(100, 8), dtype="f4", compressor="zstd")
    z[:] = np.arange(16000, dtype="f4").reshape(2000, 8)
    store = RecordingLocalStore(path, read_only=True)
    zr = ez.open_array(store, mode="r")
    ld = ez.loader(zr, 50, shuffle=True, seed=2, window=8)
    windows = ld.plan().window_indices()
    store.read_keys.clear()
    out = np.concatenate(list(ld))
    assert sorted(out[:, 0].tolist()) == list(range(0, 16000, 8))
    reads = [k for k in store.read_keys if k.startswith("c/")]
    expected = sum(len(np.unique(w // 100)) for w in windows)
    assert len(reads) == expected                      # one decode per chunk per window
    assert len(reads) < len(out)                       # far fewer than one per sample


def test_sequential_and_chunk_buffer_decode_each_chunk_once_per_epoch(tmp_path):
    path = str(tmp_path / "s.zarr")
    z = ez.create(path, shape=(1000,), chunks=(30,), dtype="i4")
    z[:] = np.arange(1000)
    store = RecordingLocalStore(path, read_only=True)
    zr = ez.open_array(store, mode="r")
    for mode in [False, "chunks"]:
        store.read_keys.clear()
        out = np.concatenate(list(ez.loader(zr, 64, shuffle=mode, seed=0, window=1,
                                            shuffle_buffer=3)))
        assert sorted(out.tolist()) == list(range(1000))
        reads = [k for k in store.read_keys if k.startswith("c/")]
        assert sorted(reads) == sorted(f"c/{i}" for i in range(34))


def test_nested_prefetch_in_a_sharded_read_does_not_deadlock(tmp_path):
    # sharded reads use executor.prefetch themselves, inside the loader's prefetch tasks
    z = ez.create(str(tmp_path / "sh.zarr"), shape=(4000, 4), chunks=(10, 4),
                  shards=(500, 4), dtype="i4")
    z[:] = np.arange(16000).reshape(4000, 4)
    with ez.config.set(threads=4):
        out = np.concatenate(list(ez.loader(z, 100, shuffle=True, seed=0, window=2,
                                            prefetch=4)))
    assert sorted(out[:, 0].tolist()) == list(range(0, 16000, 4))


def test_loader_repr_and_options():
    ld = ez.loader(np.zeros((100, 2)), 16, shuffle="chunks", seed=1)
    assert isinstance(ld, Loader) and "batch_size=16" in repr(ld) and "7 batches" in repr(ld)
    assert ld.options.shuffle.value == "chunks" and ld.options.seed == 1
    with pytest.raises(Exception):
        ld.options.batch_size = 3  # type: ignore[misc]  # frozen


def test_loader_over_lazy_expressions_keeps_features_and_labels_aligned():
    """Lazy expressions of the computation engine load like stored arrays."""
    a = np.arange(2000.0).reshape(500, 4)
    z = ez.array(a, MemoryStore(), chunks=(64, 4))
    e = (z * 2 + 1)[100:]
    got = np.concatenate([np.asarray(b) for b in ez.loader(e, 32, shuffle="chunks", seed=1)])
    assert sorted(got[:, 0].tolist()) == sorted(((a * 2 + 1)[100:, 0]).tolist())
    for f, lab in ez.loader((e, z[100:, 0]), 50, shuffle=True, seed=2):
        np.testing.assert_allclose(np.asarray(f)[:, 0], np.asarray(lab) * 2 + 1)


def test_chunk_buffer_reuses_its_buffers_and_batches_stay_independent(tmp_path):
    from exzarr.integrations.loader_source import BufferPool, Source
    z = ez.create(str(tmp_path / "b.zarr"), shape=(640, 4), chunks=(32, 4), dtype="i4")
    z[:] = np.arange(2560).reshape(640, 4)
    src, pool = Source(z, 0, "array"), BufferPool(keep=2)
    idx = np.random.default_rng(0).permutation(np.r_[0:32, 96:128])   # two whole chunks
    part = src.read_part(idx, pool)
    assert part.order is not None                     # decoded in place, gathered per batch
    first = part.take(0, 10)
    np.testing.assert_array_equal(first, np.arange(2560).reshape(640, 4)[idx[:10]])
    buf = part.data
    part.release()
    again = src.read_part(np.r_[200:232, 64:96], pool)
    assert again.data is buf                          # the released buffer, reused
    np.testing.assert_array_equal(first, np.arange(2560).reshape(640, 4)[idx[:10]])
    # a whole epoch: batches kept by the caller are unaffected by later buffer reuse
    ld = ez.loader(z, 16, shuffle="chunks", seed=3, shuffle_buffer=2, prefetch=1)
    kept = list(ld)
    for batch, want in zip(kept, ld.batch_indices(0)):
        np.testing.assert_array_equal(batch, np.arange(2560).reshape(640, 4)[want])
