"""Datasets opened with engine="exzarr" travel to other processes: they pickle, a spawned
process pool reads them, and ``chunks={}`` datasets compute on a dask.distributed
LocalCluster with process workers (as with xarray's own zarr engine)."""

import concurrent.futures as cf
import multiprocessing as mp
import pickle
import warnings

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pd = pytest.importorskip("pandas")
pytest.importorskip("dask.array")

from exzarr.integrations.xarray_backend import ExzarrBackendArray  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::FutureWarning", "ignore::RuntimeWarning")


def _backend_array(var):
    a = var.variable._data
    for _ in range(10):
        if isinstance(a, ExzarrBackendArray):
            return a
        a = getattr(a, "array", None)
    return a


@pytest.fixture(params=[2, 3], ids=["v2", "v3"])
def path(request, tmp_path):
    temp = np.arange(6 * 8, dtype="float64").reshape(6, 8)
    temp[2, 3] = np.nan
    ds = xr.Dataset({"temp": (("time", "x"), temp, {"units": "K"}),
                     "n": (("x",), np.arange(8, dtype="int32"))},
                    coords={"time": pd.date_range("2001-01-01", periods=6),
                            "x": np.arange(8) * 10})
    p = str(tmp_path / "d.zarr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.to_zarr(p, zarr_format=request.param, mode="w", consolidated=False,
                   encoding={"temp": {"chunks": (2, 4)}})
    return p


def _summary(ds):
    return {k: float(v) for k, v in ds.sum(skipna=True).compute().data_vars.items()}


def test_datasets_and_variables_pickle(path):
    ds = xr.open_dataset(path, engine="exzarr")
    clone = pickle.loads(pickle.dumps(ds))
    assert isinstance(_backend_array(clone["temp"]), ExzarrBackendArray)  # still lazy
    assert not clone["temp"].variable._in_memory
    assert clone.identical(ds)
    assert clone.load().identical(xr.open_dataset(path, engine="zarr").load())
    da_ = pickle.loads(pickle.dumps(ds["temp"].isel(time=slice(1, 4))))
    np.testing.assert_array_equal(da_.values, ds["temp"].values[1:4])
    chunked = xr.open_dataset(path, engine="exzarr", chunks={})
    assert pickle.loads(pickle.dumps(chunked)).compute().identical(chunked.compute())


def test_spawned_process_pool_reads_a_dataset(path):
    ds = xr.open_dataset(path, engine="exzarr")
    with cf.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        got = pool.submit(_summary, ds).result()
    assert got == _summary(xr.open_dataset(path, engine="zarr"))


def test_dask_processes_scheduler(path):
    ds = xr.open_dataset(path, engine="exzarr", chunks={})
    got = ds["temp"].mean("time").compute(scheduler="processes", num_workers=2)
    want = xr.open_dataset(path, engine="zarr", chunks={})["temp"].mean("time").compute()
    assert got.identical(want)


@pytest.mark.slow
def test_local_cluster_with_process_workers(path):
    distributed = pytest.importorskip("distributed")
    ds = xr.open_dataset(path, engine="exzarr", chunks={})
    assert ds["temp"].data.chunks == ((2, 2, 2), (4, 4))
    ref = xr.open_dataset(path, engine="zarr", chunks={})
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster, \
            distributed.Client(cluster):
        got = ds.mean("time").compute()
        anomalies = (ds["temp"] - ds["temp"].mean("time")).compute()
        persisted = ds.persist()
        assert _summary(persisted) == _summary(ref)
    assert got.identical(ref.mean("time").compute())
    assert anomalies.identical((ref["temp"] - ref["temp"].mean("time")).compute())
