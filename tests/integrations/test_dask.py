"""exzarr.integrations.dask: to_dask reads lazily block by block; store writes."""

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

import exzarr as ez  # noqa: E402
from exzarr.errors import ShapeMismatchError  # noqa: E402
from exzarr.integrations.dask import chunks_aligned, from_dask, store, to_dask  # noqa: E402

from .conftest import RecordingLocalStore  # noqa: E402

DATA = np.arange(30 * 20, dtype="float64").reshape(30, 20)


@pytest.fixture
def filled(tmp_path):
    path = str(tmp_path / "src.zarr")
    z = ez.create(path, shape=DATA.shape, chunks=(10, 8), dtype="float64", compressor="zstd")
    z[:] = DATA
    return path


def test_to_dask_is_lazy_and_chunk_aligned(filled):
    store_ = RecordingLocalStore(filled, read_only=True)
    z = ez.open_array(store_, mode="r")
    d = to_dask(z)
    assert d.shape == z.shape and d.dtype == z.dtype
    assert d.chunks == ((10, 10, 10), (8, 8, 4))
    assert not any(k.startswith("c/") for k in store_.read_keys)     # nothing read yet
    with dask.config.set(scheduler="threads"):
        np.testing.assert_array_equal(d.compute(), DATA)
        n_all = len([k for k in store_.read_keys if k.startswith("c/")])
        assert n_all == 9
        store_.read_keys.clear()
        # one block: only its chunk is read
        np.testing.assert_array_equal(d.blocks[1, 2].compute(), DATA[10:20, 16:20])
        assert [k for k in store_.read_keys if k.startswith("c/")] == ["c/1/2"]
        assert float((d * 2).sum().compute()) == float(DATA.sum() * 2)


def test_blocks_materialise_through_exzarr_views(filled):
    z = ez.open(filled, mode="r")
    # what dask's getter does with each block: np.asarray(z[slices])
    view = z[np.s_[10:20, 8:16]]
    assert type(view).__name__ == "ZArray" and view.is_view
    np.testing.assert_array_equal(np.asarray(view), DATA[10:20, 8:16])
    d = to_dask(z, chunks=(7, 20))
    assert d.chunks == ((7, 7, 7, 7, 2), (20,))
    np.testing.assert_array_equal(d[3:25:2, ::3].compute(scheduler="threads"),
                                  DATA[3:25:2, ::3])
    np.testing.assert_array_equal(d[[0, 29, 5]].compute(scheduler="sync"), DATA[[0, 29, 5]])


def test_to_dask_of_a_view_and_sharded_array(tmp_path):
    z = ez.create(str(tmp_path / "s.zarr"), shape=(32, 32), chunks=(4, 4), shards=(16, 16),
                  dtype="int32")
    z[:] = np.arange(32 * 32).reshape(32, 32)
    d = to_dask(z)
    assert d.chunks[0] == (4,) * 8                           # inner chunks by default
    assert to_dask(z, chunks=z.shards).chunks == ((16, 16), (16, 16))
    v = to_dask(z[5:30, 3])
    assert v.shape == (25,)
    np.testing.assert_array_equal(v.compute(scheduler="threads"),
                                  np.arange(32 * 32).reshape(32, 32)[5:30, 3])


@pytest.mark.parametrize("dchunks", [(10, 8), (20, 16), (30, 20)])
def test_store_aligned(tmp_path, dchunks):
    out = ez.create(str(tmp_path / "o.zarr"), shape=DATA.shape, chunks=(10, 8), dtype="float64")
    src = da.from_array(DATA, chunks=dchunks) + 1
    assert chunks_aligned(src, out)
    store(src, out, scheduler="threads")
    np.testing.assert_array_equal(out.read(), DATA + 1)
    import zarr
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "o.zarr"), mode="r")[:],
                                  DATA + 1)


@pytest.mark.parametrize("sharded", [False, True])
def test_store_unaligned_concurrent_writes_lose_nothing(tmp_path, sharded):
    kw = {"chunks": (4, 4), "shards": (8, 8)} if sharded else {"chunks": (8, 8)}
    shape = (48, 48)
    expect = np.arange(48 * 48, dtype="int64").reshape(shape)
    for attempt in range(3):
        out = ez.create(str(tmp_path / f"u{attempt}.zarr"), shape=shape, dtype="int64",
                        overwrite=True, **kw)
        src = da.from_array(expect, chunks=(3, 5))           # every chunk shared by tasks
        assert not chunks_aligned(src, out)
        with dask.config.set(scheduler="threads", num_workers=8):
            from_dask(src, out)
        np.testing.assert_array_equal(out.read(), expect)


def test_aligned_means_shards_for_sharded_targets(tmp_path):
    out = ez.create(str(tmp_path / "sh.zarr"), shape=(32,), chunks=(4,), shards=(16,),
                    dtype="uint8")
    assert not chunks_aligned(da.zeros(32, chunks=4, dtype="uint8"), out)
    assert chunks_aligned(da.zeros(32, chunks=16, dtype="uint8"), out)


def test_store_region_and_delayed(tmp_path):
    out = ez.create(str(tmp_path / "r.zarr"), shape=(20, 20), chunks=(5, 5), dtype="int16",
                    fill_value=-1)
    src = da.ones((10, 5), chunks=(5, 5), dtype="int16") * 3
    region = (slice(5, 15), slice(10, 15))
    assert chunks_aligned(src, out, region)
    assert not chunks_aligned(src, out, (slice(4, 14), slice(10, 15)))
    job = store(src, out, region=region, compute=False)
    assert (out.read() == -1).all()                          # nothing written yet
    job.compute(scheduler="threads")
    expect = np.full((20, 20), -1, dtype="int16")
    expect[5:15, 10:15] = 3
    np.testing.assert_array_equal(out.read(), expect)
    with pytest.raises(ShapeMismatchError, match="shapes differ"):
        store(src, out)


def test_roundtrip_through_dask_computation(filled, tmp_path):
    z = ez.open(filled, mode="r")
    out = ez.create(str(tmp_path / "out.zarr"), shape=(20, 30), chunks=(8, 10),
                    dtype="float64", compressor="zstd")
    store(to_dask(z).T.rechunk((8, 10)) ** 2, out, scheduler="threads")
    np.testing.assert_array_equal(out.read(), DATA.T ** 2)


def test_processes_scheduler_reopens_the_array_in_each_worker(filled, tmp_path):
    import pickle

    from exzarr.integrations.dask import DaskAdapter

    z = ez.open(filled, mode="r")
    back = pickle.loads(pickle.dumps(DaskAdapter(z[3:7, ::5])))
    np.testing.assert_array_equal(back[:, 1:], DATA[3:7, ::5][:, 1:])
    out = ez.create(str(tmp_path / "p.zarr"), shape=DATA.shape, chunks=(10, 8),
                    dtype="float64")
    with dask.config.set(scheduler="processes", num_workers=2):
        d = to_dask(z)
        assert float(d.sum().compute()) == float(DATA.sum())
        store(d - 1, out)                                    # aligned: whole chunks
    np.testing.assert_array_equal(out.read(), DATA - 1)


def test_distributed_local_cluster(filled, tmp_path):
    pytest.importorskip("distributed")  # not a dependency: runs only where installed
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=2, processes=True) as cluster, \
            Client(cluster):
        d = to_dask(ez.open(filled, mode="r"))
        np.testing.assert_array_equal(d.compute(), DATA)
        out = ez.create(str(tmp_path / "dist.zarr"), shape=DATA.shape, chunks=(10, 8),
                        dtype="float64")
        store(d + 1, out)
        np.testing.assert_array_equal(out.read(), DATA + 1)
