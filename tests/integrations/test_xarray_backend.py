"""engine="exzarr": datasets written by xarray + zarr-python, and by exzarr itself."""

import warnings

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pd = pytest.importorskip("pandas")
pytest.importorskip("dask.array")

import exzarr as ez  # noqa: E402
from exzarr.integrations.xarray_backend import (ExzarrBackendArray,  # noqa: E402
                                                ExzarrBackendEntrypoint, ExzarrDataStore)
from exzarr.storage import LocalStore, register_scheme, unregister_scheme  # noqa: E402

from .conftest import RecordingLocalStore  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::FutureWarning", "ignore::RuntimeWarning")


def make_dataset():
    time = pd.date_range("2000-01-01", periods=6, freq="D")
    temp = np.arange(24, dtype="float32").reshape(6, 4)
    temp[1, 2] = np.nan
    temp[4, 0] = np.nan
    ds = xr.Dataset(
        {"temp": (("time", "x"), temp, {"units": "K", "long_name": "temperature"}),
         "count": (("x",), np.array([3, 1, 4, 1], dtype="int16")),
         "flag": ((), np.int8(7)),
         "elapsed": (("time",), pd.to_timedelta(np.arange(6), "h"))},
        coords={"time": time, "x": [10.0, 20.0, 30.0, 40.0],
                "label": ("x", np.array([1, 2, 3, 4], dtype="uint8"))},
        attrs={"title": "test", "version": 2})
    ds["temp"].encoding["chunks"] = (2, 2)
    return ds


def backend_array(da_):
    """The backend array under xarray's lazy wrappers (their nesting varies by version)."""
    a = da_.variable._data
    for _ in range(10):
        if isinstance(a, ExzarrBackendArray):
            return a
        a = getattr(a, "array", None)
    return a


def write(ds, path, zarr_format, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.to_zarr(path, zarr_format=zarr_format, mode="w", consolidated=False, **kw)
    return str(path)


@pytest.fixture(scope="module", params=[2, 3], ids=["v2", "v3"])
def written(request, tmp_path_factory):
    ds = make_dataset()
    path = write(ds, tmp_path_factory.mktemp(f"xr{request.param}") / "d.zarr", request.param)
    return request.param, path, ds


def test_open_dataset_matches_open_zarr(written):
    fmt, path, original = written
    ours = xr.open_dataset(path, engine="exzarr")
    theirs = xr.open_zarr(path, chunks=None)
    # lazy before loading: data variables are backed by exzarr, not read yet
    assert not ours["temp"].variable._in_memory
    assert ours.identical(theirs)
    ours.load()
    theirs.load()
    assert ours.identical(theirs)
    assert ours.identical(original)
    assert ours["time"].dtype.kind == "M" and ours["elapsed"].dtype.kind == "m"
    assert np.isnan(ours["temp"].values[1, 2]) and np.isnan(ours["temp"].values[4, 0])
    assert ours["temp"].attrs == {"units": "K", "long_name": "temperature"}
    assert "label" in ours.coords and ours.attrs == {"title": "test", "version": 2}
    enc = ours["temp"].encoding
    assert enc["chunks"] == (2, 2) and enc["preferred_chunks"] == {"time": 2, "x": 2}
    assert np.isnan(enc["_FillValue"])
    assert ours["temp"].encoding["dtype"] == np.float32


def test_decoding_options_match_open_zarr(written):
    fmt, path, _ = written
    for kw in ({"mask_and_scale": False}, {"decode_times": False},
               {"decode_timedelta": False}, {"decode_coords": False}):
        ours = xr.open_dataset(path, engine="exzarr", **kw).load()
        theirs = xr.open_zarr(path, chunks=None, **kw).load()
        assert ours.identical(theirs), kw
    raw = xr.open_dataset(path, engine="exzarr", decode_times=False)
    assert raw["time"].dtype == np.int64 and raw["time"].attrs["units"].startswith("days")


def test_fill_value_as_mask_follows_the_zarr_engine(tmp_path):
    # an int array whose Zarr fill_value is 5 and which holds 5: masked for v2 (as
    # xarray.open_zarr does), not for v3; use_zarr_fill_value_as_mask does what it does
    # with engine="zarr" of the installed xarray (which, up to 2026.9 at least, ignores it)
    for fmt in (2, 3):
        p = str(tmp_path / f"f{fmt}.zarr")
        g = ez.group(p, zarr_format=fmt)
        a = g.create_array("v", shape=(4,), chunks=(2,), dtype="int32", fill_value=5,
                           **({"dimension_names": ["i"]} if fmt == 3 else
                              {"attributes": {"_ARRAY_DIMENSIONS": ["i"]}}))
        a[:] = [1, 5, 3, 5]
        ours = xr.open_dataset(p, engine="exzarr")
        theirs = xr.open_zarr(p, chunks=None)
        assert ours.load().identical(theirs.load())
        if fmt == 2:
            np.testing.assert_array_equal(ours["v"].values, [1, np.nan, 3, np.nan])
        else:
            assert ours["v"].values.tolist() == [1, 5, 3, 5]
            assert ours["v"].encoding["fill_value"] == 5
        for mask in (True, False, None):
            for ms in (True, False):
                kw = {"use_zarr_fill_value_as_mask": mask, "mask_and_scale": ms}
                o = xr.open_dataset(p, engine="exzarr", **kw).load()
                t = xr.open_dataset(p, engine="zarr", consolidated=False, **kw).load()
                assert o.identical(t), (fmt, kw)
                assert o["v"].encoding.get("fill_value") == t["v"].encoding.get("fill_value")
                assert o["v"].encoding.get("_FillValue") == t["v"].encoding.get("_FillValue")


def test_explicit_fill_value_mask_through_the_data_store(tmp_path):
    # the store-level choice applies whatever the entrypoint does (as ZarrStore.open_group's)
    p = str(tmp_path / "f.zarr")
    g = ez.group(p, zarr_format=3)
    g.create_array("v", shape=(4,), chunks=(2,), dtype="int32", fill_value=5,
                   dimension_names=["i"])[:] = [1, 5, 3, 5]
    for mask, want in ((True, [1, np.nan, 3, np.nan]), (False, [1, 5, 3, 5])):
        ds = xr.open_dataset(ExzarrDataStore(ez.open_group(p, mode="r"),
                                             use_zarr_fill_value_as_mask=mask))
        np.testing.assert_array_equal(ds["v"].values, want)


def test_time_zero_is_not_masked_unless_the_zarr_engine_masks_it(tmp_path):
    # xarray writes times as int64 "days since 1970-01-01" with Zarr fill_value 0 (v3)
    ds = xr.Dataset({"t": ("i", pd.to_datetime(["1970-01-01", "1970-01-02", "NaT"]))})
    for fmt in (2, 3):
        p = write(ds, tmp_path / f"t{fmt}.zarr", fmt)
        for mask in (None, True, False):
            kw = {} if mask is None else {"use_zarr_fill_value_as_mask": mask}
            o = xr.open_dataset(p, engine="exzarr", **kw).load()
            t = xr.open_dataset(p, engine="zarr", consolidated=False, **kw).load()
            assert o.identical(t), (fmt, kw)
            assert o["t"].values[0] == np.datetime64("1970-01-01")
            assert np.isnat(o["t"].values[2])


def test_opening_reads_no_data_chunk_and_reads_only_what_is_selected(written):
    fmt, path, original = written
    store = RecordingLocalStore(path, read_only=True)
    ds = xr.open_dataset(store, engine="exzarr")
    # dimension coordinates are read to build indexes (as with every xarray backend);
    # data variables and non-index coordinates are not
    for name in ("temp", "count", "flag", "elapsed", "label"):
        assert store.chunk_reads(name) == [], name
    assert isinstance(backend_array(ds["temp"]), ExzarrBackendArray)
    part = ds["temp"].isel(time=slice(2, 4), x=slice(0, 2)).values
    np.testing.assert_array_equal(part, original["temp"].values[2:4, 0:2])
    reads = store.chunk_reads("temp")
    assert len(reads) == 1 and reads[0].replace("/c/", "/").replace(".", "/").endswith("1/0")


def test_outer_and_vectorized_indexing(written):
    _, path, original = written
    ds = xr.open_dataset(path, engine="exzarr")
    sel = {"time": [5, 0, 3], "x": [3, 1]}
    np.testing.assert_array_equal(ds["temp"].isel(sel).values,
                                  original["temp"].isel(sel).values)
    ti = xr.DataArray([0, 2, 5, 5], dims="p")
    xi = xr.DataArray([3, 1, 0, 2], dims="p")
    np.testing.assert_array_equal(ds["temp"].isel(time=ti, x=xi).values,
                                  original["temp"].isel(time=ti, x=xi).values)
    ti2 = xr.DataArray([[0, 1], [5, 4]], dims=("a", "b"))
    got = ds["temp"].isel(time=ti2)
    assert got.dims == ("a", "b", "x")
    np.testing.assert_array_equal(got.values, original["temp"].isel(time=ti2).values)
    assert int(ds["flag"].values) == 7
    np.testing.assert_array_equal(ds["temp"][::-2, 1].values, original["temp"][::-2, 1].values)


def test_chunks_gives_dask_arrays_aligned_to_zarr_chunks(written):
    import dask
    import dask.array as da

    _, path, original = written
    ds = xr.open_dataset(path, engine="exzarr", chunks={})
    assert isinstance(ds["temp"].data, da.Array)
    assert ds["temp"].data.chunks == ((2, 2, 2), (2, 2))
    assert ds["temp"].variable.chunksizes == {"time": (2, 2, 2), "x": (2, 2)}
    assert all(isinstance(v.data, da.Array) for v in ds.data_vars.values() if v.ndim)
    with dask.config.set(scheduler="threads"):
        assert ds.compute().identical(xr.open_zarr(path).compute())
    mean = ds["temp"].mean("time").compute()
    np.testing.assert_allclose(mean.values, original["temp"].mean("time").values)


def test_drop_variables_and_group(tmp_path):
    ds = make_dataset()
    p = str(tmp_path / "g.zarr")
    write(ds, p, 3, group="sub/inner")
    sub = xr.open_dataset(p, engine="exzarr", group="sub/inner",
                          drop_variables=["count", "elapsed"])
    assert set(sub.data_vars) == {"temp", "flag"}
    assert sub.load().identical(ds.drop_vars(["count", "elapsed"]))
    assert sub.identical(xr.open_zarr(p, group="sub/inner", chunks=None,
                                      drop_variables=["count", "elapsed"]).load())
    root = xr.open_dataset(p, engine="exzarr")
    assert len(root.variables) == 0


def test_open_datatree(tmp_path):
    ds = make_dataset()
    p = str(tmp_path / "tree.zarr")
    write(ds, p, 3, group="a")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds[["count"]].to_zarr(p, group="a/b", zarr_format=3, mode="a", consolidated=False)
    tree = xr.open_datatree(p, engine="exzarr")
    assert tree["a"].to_dataset().load().identical(ds)
    assert tree["a/b"]["count"].values.tolist() == [3, 1, 4, 1]
    tree.close()


def test_storage_options_reach_the_store(tmp_path):
    path = write(make_dataset(), tmp_path / "so.zarr", 3)
    seen = []

    def factory(url, *, mode, storage_options):
        seen.append((url, mode, dict(storage_options or {})))
        return LocalStore(storage_options["root"], read_only=mode == "r")

    register_scheme("exzarrxtest", factory)
    try:
        ds = xr.open_dataset("exzarrxtest://anything", engine="exzarr",
                            storage_options={"root": path})
        assert ds["count"].values.tolist() == [3, 1, 4, 1]
    finally:
        unregister_scheme("exzarrxtest")
    assert seen == [("exzarrxtest://anything", "r", {"root": path})]


def test_guess_can_open_is_false_so_xarray_picks_its_zarr_engine(tmp_path, written):
    # exzarr is used only when asked for: a plain open_dataset keeps xarray's zarr engine
    _, path, _ = written
    ep = ExzarrBackendEntrypoint()
    assert not ep.guess_can_open(path) and not ep.guess_can_open(path + "/")
    g = ez.group("memory://xr-guess")
    assert not ep.guess_can_open("memory://xr-guess") and not ep.guess_can_open(g)
    assert "exzarr" in xr.backends.list_engines()
    assert xr.backends.plugins.guess_engine(path) == "zarr"
    ds = xr.open_dataset(path, chunks=None)
    assert not isinstance(backend_array(ds["temp"]), ExzarrBackendArray)
    assert isinstance(backend_array(xr.open_dataset(path, engine="exzarr")["temp"]),
                      ExzarrBackendArray)


def test_group_written_by_exzarr(tmp_path):
    for fmt in (3, 2):
        url = f"memory://xr-own-{fmt}"
        g = ez.group(url, zarr_format=fmt, attributes={"source": "exzarr"})
        names = ({"dimension_names": ["y", "x"]} if fmt == 3 else
                 {"attributes": {"_ARRAY_DIMENSIONS": ["y", "x"], "units": "m"}})
        h = g.create_array("height", shape=(5, 7), chunks=(2, 3), dtype="float64",
                           fill_value=np.nan if fmt == 2 else 0.0, **names)
        h[:] = np.arange(35.0).reshape(5, 7)
        if fmt == 3:
            h.attrs["units"] = "m"
        # (v2 arrays written by exzarr get fill_value 0 unless told None, and a v2
        # fill_value masks as _FillValue, as in xarray.open_zarr)
        y = g.create_array("y", shape=(5,), dtype="int32", fill_value=None,
                           **({"dimension_names": ["y"]} if fmt == 3 else
                              {"attributes": {"_ARRAY_DIMENSIONS": ["y"]}}))
        y[:] = np.arange(5) * 100
        g.create_array("noname", shape=(5, 2), chunks=(5, 2), dtype="uint8")[:] = 9
        g.create_array("other", shape=(3,), dtype="uint8")[:] = [1, 2, 3]
        ds = xr.open_dataset(url, engine="exzarr", chunks={})
        assert ds.attrs == {"source": "exzarr"}
        assert ds["height"].dims == ("y", "x") and ds["height"].attrs == {"units": "m"}
        assert ds["height"].data.chunks == ((2, 2, 1), (3, 3, 1))
        np.testing.assert_array_equal(ds["height"].values, np.arange(35.0).reshape(5, 7))
        assert ds.indexes["y"].tolist() == [0, 100, 200, 300, 400]
        assert ds["noname"].dims == ("dim_0", "dim_1") and int(ds["noname"].sum()) == 90
        # dim_0 is already 5 long: a 3-long unnamed axis gets its own name
        assert ds["other"].dims == ("other_dim_0",)
        assert ds["other"].values.tolist() == [1, 2, 3]


def test_zip_store_opened_and_closed(tmp_path):
    path = str(tmp_path / "d.zip")
    g = ez.group(path, attributes={"where": "zip"})
    g.create_array("v", shape=(6,), chunks=(3,), dtype="int64",
                   dimension_names=["i"])[:] = np.arange(6)
    g.store.close()
    with xr.open_dataset(path, engine="exzarr") as ds:
        assert ds.attrs == {"where": "zip"} and ds["v"].values.tolist() == list(range(6))
    tree = xr.open_datatree(path, engine="exzarr")
    assert tree["v"].values.tolist() == list(range(6))
    tree.close()


@pytest.mark.parametrize("fmt", [2, 3])
def test_string_coordinates_and_variables(tmp_path, fmt):
    ds = xr.Dataset({"t": (("x",), np.arange(3.0))},
                    coords={"x": ["a", "bb", "ccc"],
                            "label": ("x", np.array(["p", "ünï", ""], dtype=object))})
    p = str(tmp_path / f"s{fmt}.zarr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.to_zarr(p, zarr_format=fmt, mode="w")
        ours = xr.open_dataset(p, engine="exzarr").load()
        theirs = xr.open_zarr(p).load()
    assert ours.identical(theirs)
    assert ours.label.values.tolist() == ["p", "ünï", ""]


def _zarr_written(path, fmt, kind):
    zarr = pytest.importorskip("zarr")
    import numcodecs
    g = zarr.open_group(path, mode="w", zarr_format=fmt)
    kw = {"dimension_names": ["y", "x"]} if fmt == 3 else {}
    if kind == "default":
        pass
    elif kind == "none":
        kw["compressors"] = None
    elif kind == "blosc":
        kw["compressors"] = ((zarr.codecs.BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle"),)
                             if fmt == 3 else (numcodecs.Blosc("lz4", 5, 2),))
    elif kind == "gzip+filters":
        if fmt == 3:
            kw["filters"] = (zarr.codecs.TransposeCodec(order=(1, 0)),)
            kw["compressors"] = (zarr.codecs.GzipCodec(level=3), zarr.codecs.Crc32cCodec())
        else:
            kw["filters"] = (numcodecs.Delta(dtype="<f8"),)
            kw["compressors"] = (numcodecs.GZip(3),)
    elif kind == "sharded":
        if fmt == 2:
            return None
        kw["shards"] = (4, 4)
        kw["compressors"] = (zarr.codecs.ZstdCodec(level=2),)
    a = g.create_array("v", shape=(8, 4), chunks=(2, 2), dtype="<f8", **kw)
    if fmt == 2:
        a.attrs["_ARRAY_DIMENSIONS"] = ["y", "x"]
    a[:] = np.arange(32.0).reshape(8, 4)
    s = g.create_array("s", shape=(3,), dtype=str,
                       **({"dimension_names": ["z"]} if fmt == 3 else {}))
    if fmt == 2:
        s.attrs["_ARRAY_DIMENSIONS"] = ["z"]
    s[:] = np.array(["a", "bb", ""], dtype=object)
    return path


CODEC_KEYS = ("compressors", "filters", "serializer", "shards", "chunks", "fill_value")


@pytest.mark.parametrize("fmt", [2, 3])
@pytest.mark.parametrize("kind", ["default", "none", "blosc", "gzip+filters", "sharded"])
def test_codec_encoding_as_the_zarr_engine_reports_it(tmp_path, fmt, kind):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = _zarr_written(str(tmp_path / "c.zarr"), fmt, kind)
    if path is None:
        pytest.skip("no shards in v2")
    ours = xr.open_dataset(path, engine="exzarr")
    theirs = xr.open_dataset(path, engine="zarr", consolidated=False)
    assert ours.load().identical(theirs.load())
    for name in ("v", "s"):
        o, t = ours[name].encoding, theirs[name].encoding
        assert set(o) == set(t), name
        for k in CODEC_KEYS:
            assert (k in o) == (k in t), k
            if k in t:
                assert o[k] == t[k] and type(o[k]) is type(t[k]), (name, k, o[k], t[k])
    assert ("serializer" in ours["v"].encoding) == (fmt == 3)


@pytest.mark.parametrize("fmt", [2, 3])
def test_codec_encoding_of_arrays_exzarr_writes_and_rewrite_keeps_codecs(tmp_path, fmt):
    p = str(tmp_path / "e.zarr")
    g = ez.group(p, zarr_format=fmt)
    names = ({"dimension_names": ["i"]} if fmt == 3 else
             {"attributes": {"_ARRAY_DIMENSIONS": ["i"]}})
    g.create_array("a", shape=(10,), chunks=(5,), dtype="int16", compressor="zstd",
                   fill_value=None if fmt == 2 else 0, **names)[:] = np.arange(10)
    ours = xr.open_dataset(p, engine="exzarr")
    theirs = xr.open_dataset(p, engine="zarr", consolidated=False)
    for k in ("compressors", "filters", "serializer"):
        assert ours["a"].encoding.get(k) == theirs["a"].encoding.get(k), k
    # the encoding goes back to to_zarr as the zarr engine's does
    out = write(ours, tmp_path / "out.zarr", fmt)
    back = xr.open_dataset(out, engine="zarr", consolidated=False)
    assert back["a"].encoding["compressors"] == theirs["a"].encoding["compressors"]
    assert back["a"].values.tolist() == list(range(10))


def test_codec_encoding_without_zarr_python_is_json(tmp_path, monkeypatch):
    import builtins

    from exzarr.integrations.xarray_backend import codec_encoding
    z3 = ez.create(str(tmp_path / "a3.zarr"), shape=(4,), chunks=(2,), shards=(4,),
                   dtype="int32", compressor="gzip")
    z2 = ez.create(str(tmp_path / "a2.zarr"), shape=(4,), chunks=(2,), dtype="int32",
                   zarr_format=2, compressor="zlib")
    real_import = builtins.__import__

    def no_zarr(name, *a, **kw):
        if name == "zarr" or name.startswith("zarr."):
            raise ImportError(name)
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_zarr)
    e3, e2 = codec_encoding(z3), codec_encoding(z2)
    assert e3["serializer"]["name"] == "bytes"
    assert [c["name"] for c in e3["compressors"]] == ["gzip"] and e3["filters"] == ()
    assert e2 == {"compressors": (z2.metadata.to_json()["compressor"],), "filters": ()}
