"""store() into a ZArray with blocks that share chunks: exzarr's per-chunk locks keep it
right within one process; from other processes without a lock it warns once."""

import multiprocessing as mp
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

import exzarr as ez  # noqa: E402
from exzarr.integrations.dask import UnalignedWriteWarning, from_dask, store  # noqa: E402


@pytest.fixture
def target(tmp_path):
    return ez.zeros(str(tmp_path / "t.zarr"), shape=(40, 40), chunks=(10, 10), dtype="f8")


def _store(*args, **kw):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        store(*args, **kw)
    return [w for w in seen if issubclass(w.category, UnalignedWriteWarning)]


ODD = (15, 15)


@pytest.mark.parametrize("scheduler", ["threads", "sync", "thread-pool"])
def test_in_process_schedulers_take_the_chunk_locks_and_do_not_warn(target, scheduler):
    if scheduler == "thread-pool":
        with ThreadPoolExecutor(4) as pool:
            assert _store(da.ones((40, 40), chunks=ODD), target, scheduler=pool) == []
    else:
        assert _store(da.ones((40, 40), chunks=ODD), target, scheduler=scheduler) == []
    assert target.read().sum() == 1600


def test_processes_warn_once_when_unaligned(target):
    seen = _store(da.ones((40, 40), chunks=ODD) * 2, target, scheduler="processes")
    assert len(seen) == 1
    msg = str(seen[0].message)
    assert "(10, 10)" in msg and "lock=" in msg and "rechunk" in msg
    assert seen[0].filename == __file__                     # points at the caller
    with warnings.catch_warnings(record=True) as w:         # from_dask too, same caller
        warnings.simplefilter("always")
        from_dask(da.ones((40, 40), chunks=ODD), target, scheduler="processes")
    assert [x.filename for x in w if x.category is UnalignedWriteWarning] == [__file__]


def test_processes_do_not_warn_when_aligned_or_locked(target):
    # (compute=False: the check happens when the store is set up, under the configured
    # scheduler)
    with dask.config.set(scheduler="processes"):
        assert _store(da.ones((40, 40), chunks=(20, 10)), target, compute=False) == []
        assert _store(da.ones((20, 40), chunks=(10, 20)), target, compute=False,
                      region=(slice(10, 30), slice(0, 40))) == []
        # a region that starts mid-chunk shares chunks with what lies around it
        assert len(_store(da.ones((20, 40), chunks=(10, 20)), target, compute=False,
                          region=(slice(5, 25), slice(0, 40)))) == 1
        assert len(_store(da.ones((40, 40), chunks=ODD), target, compute=False)) == 1
    with mp.Manager() as manager:
        assert _store(da.ones((40, 40), chunks=ODD), target, lock=manager.Lock(),
                      scheduler="processes") == []
    assert target.read().sum() == 1600


def test_process_pool_executor_warns(target):
    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as pool:
        assert len(_store(da.ones((40, 40), chunks=ODD), target, scheduler=pool)) == 1


def test_sharded_targets_need_blocks_aligned_to_shards(tmp_path):
    z = ez.zeros(str(tmp_path / "s.zarr"), shape=(40, 40), chunks=(10, 10), shards=(20, 20),
                 dtype="f8")
    with dask.config.set(scheduler="processes"):
        seen = _store(da.ones((40, 40), chunks=(10, 10)), z, compute=False)
        assert len(seen) == 1 and "shards (20, 20)" in str(seen[0].message)
    assert _store(da.ones((40, 40), chunks=(20, 20)), z, scheduler="processes") == []
    assert z.read().sum() == 1600


@pytest.mark.slow
def test_distributed_warns_for_process_workers_only(target):
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=4,
                            dashboard_address=None):
        assert _store(da.ones((40, 40), chunks=ODD), target) == []
    np.testing.assert_array_equal(target.read(), 1.0)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster, \
            distributed.Client(cluster):
        assert len(_store(da.ones((40, 40), chunks=ODD) * 3, target)) == 1
        assert _store(da.ones((40, 40), chunks=ODD) * 3, target,
                      lock=distributed.Lock("exzarr-test")) == []
        assert _store(da.ones((40, 40), chunks=(10, 20)) * 3, target) == []
    np.testing.assert_array_equal(target.read(), 3.0)
