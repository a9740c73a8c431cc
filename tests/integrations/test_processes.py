"""Arrays, groups and lazy expressions travel to other processes: pickling, process pools,
dask's processes scheduler and a LocalCluster with process workers; a memory:// store
refuses to be used from another process instead of reading an empty array."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import pickle

import numpy as np
import pytest

import exzarr as ez
from exzarr.errors import StoreNotSharedError

da = pytest.importorskip("dask.array")


def _sum_in_child(z):
    return float(np.asarray(z).sum())


def _write_in_child(z):
    z[0, :] = 42
    return True


def _evaluate_in_child(e):
    return np.asarray(e)


def _touch_memory(z):
    return float(z[0, 0].item())


@pytest.fixture
def local(tmp_path):
    a = np.arange(400, dtype="f8").reshape(20, 20)
    z = ez.array(a, str(tmp_path / "a.zarr"), chunks=(6, 7))
    return a, z


def _pool():
    return cf.ProcessPoolExecutor(2, mp_context=mp.get_context("spawn"))


def test_arrays_views_groups_and_expressions_pickle(local, tmp_path):
    a, z = local
    for obj, want in [(z, a), (z[2:9, ::3], a[2:9, ::3]), (z.T, a.T),
                      (ez.array_api.sqrt(z) + z.mean(axis=0), np.sqrt(a) + a.mean(axis=0)),
                      (ez.array_api.arange(5) * 2, np.arange(5) * 2)]:
        clone = pickle.loads(pickle.dumps(obj))
        np.testing.assert_allclose(np.asarray(clone), want)
    g = ez.open_group(str(tmp_path / "g.zarr"), mode="w")
    g.create_array("x", shape=(3,), dtype="i4")[:] = 7
    g2 = pickle.loads(pickle.dumps(g))
    assert list(g2) == ["x"] and g2["x"][:].tolist() == [7, 7, 7]


def test_process_pool_reads_and_writes(local):
    a, z = local
    with _pool() as pool:
        assert pool.submit(_sum_in_child, z[::2]).result() == a[::2].sum()
        assert pool.submit(_write_in_child, z).result()
        got = pool.submit(_evaluate_in_child, ez.array_api.cumulative_sum(z, axis=1)).result()
    a[0, :] = 42
    np.testing.assert_array_equal(z.read(), a)
    np.testing.assert_allclose(got, np.cumsum(a, axis=1))


def test_memory_store_refuses_another_process():
    z = ez.array(np.ones((4, 4)), "memory://shared-by-name", chunks=(2, 2))
    with _pool() as pool:
        with pytest.raises(StoreNotSharedError, match="in-memory store"):
            pool.submit(_touch_memory, z).result()
    ctx = mp.get_context("fork")
    with cf.ProcessPoolExecutor(1, mp_context=ctx) as pool:  # a forked copy, not the data
        with pytest.raises(StoreNotSharedError):
            pool.submit(_touch_memory, z).result()
    assert z[0, 0].item() == 1.0  # still fine in its own process


def test_dask_processes_scheduler_on_arrays_and_expressions(local):
    from exzarr.integrations.dask import to_dask
    a, z = local
    d = da.from_array(z, chunks=(10, 10))
    assert float(d.sum().compute(scheduler="processes", num_workers=2)) == a.sum()
    e = ez.array_api.sqrt(z) * 2 - z.mean(axis=0)
    de = to_dask(e)
    assert de.chunks and de.npartitions >= 1
    np.testing.assert_allclose(de.compute(scheduler="processes", num_workers=2),
                               np.sqrt(a) * 2 - a.mean(axis=0))


@pytest.mark.slow
def test_dask_distributed_local_cluster_with_processes(local, tmp_path):
    distributed = pytest.importorskip("distributed")
    from exzarr.integrations.dask import store, to_dask
    a, z = local
    out = ez.zeros(str(tmp_path / "out.zarr"), shape=a.shape, chunks=(10, 10), dtype="f8")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster, \
            distributed.Client(cluster) as client:
        e = (z - z.mean(axis=0)) * 2
        np.testing.assert_allclose(to_dask(e, chunks=(10, 10)).compute(),
                                   (a - a.mean(axis=0)) * 2)
        store(to_dask(z, chunks=(10, 10)) + 1, out)
        del client
    np.testing.assert_array_equal(out.read(), a + 1)


def _batches_in_child(ds):
    return sorted(int(v) for b in ds for v in np.asarray(b)[:, 0])


def test_loader_dataset_travels_to_a_spawned_worker(local):
    from exzarr.integrations.torch import LoaderDataset
    a, z = local
    ds = LoaderDataset(z, 4, shuffle=True, seed=3)
    with _pool() as pool:
        got = pool.submit(_batches_in_child, ds).result()
    assert got == sorted(int(v) for v in a[:, 0])
