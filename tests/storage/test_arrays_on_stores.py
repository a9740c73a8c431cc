"""Arrays of every layout round-trip through every store, and zarr-python interop on S3."""

import numpy as np
import pytest

import exzarr as ez
from exzarr.storage import open_store

from ._helpers import s3_options, unique_name

pytestmark = pytest.mark.timeout(180)

LAYOUTS = {
    "v2-blosc": dict(zarr_format=2, compressor={"id": "blosc", "cname": "lz4", "clevel": 5,
                                                 "shuffle": 1, "blocksize": 0}),
    "v2-F-nested": dict(zarr_format=2, order="F", dimension_separator="/", compressor="zlib"),
    "v3-zstd-crc": dict(codecs=[{"name": "bytes", "configuration": {"endian": "little"}},
                                {"name": "zstd", "configuration": {"level": 1, "checksum": False}},
                                {"name": "crc32c"}]),
    "v3-sharded": dict(chunks=(4, 5), shards=(8, 10)),
}


def _s3(moto_endpoint):
    import s3fs
    opts = s3_options(moto_endpoint)
    bucket = unique_name("arrays")
    s3fs.S3FileSystem(**opts).mkdir(bucket)
    return f"s3://{bucket}/a.zarr", opts


def _az(conn):
    import adlfs
    c = unique_name("arrays")
    adlfs.AzureBlobFileSystem(connection_string=conn).mkdir(c)
    return f"az://{c}/a.zarr", {"connection_string": conn}


def _gcs(endpoint):
    import gcsfs
    opts = {"endpoint_url": endpoint, "token": "anon", "project": "test"}
    b = unique_name("arrays")
    gcsfs.GCSFileSystem(**opts).mkdir(b)
    return f"gs://{b}/a.zarr", opts


@pytest.fixture(params=["memory", "local", "zip", "sqlite", "s3", "s3fs", "azure", "gcs"])
def target(request, tmp_path):
    """(url, storage_options, closer) of a fresh location on each kind of store."""
    kind = request.param
    if kind == "memory":
        return f"memory://{unique_name('arrays')}", None
    if kind == "local":
        return str(tmp_path / "a.zarr"), None
    if kind == "zip":
        return str(tmp_path / "a.zip"), None
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'a.db'}", None
    if kind == "s3":  # the default back end: obstore (the options say where the bucket is)
        return _s3(request.getfixturevalue("moto_endpoint"))
    if kind == "s3fs":
        url, opts = _s3(request.getfixturevalue("moto_endpoint"))
        return url, {**opts, "backend": "fsspec"}
    if kind == "azure":
        return _az(request.getfixturevalue("azurite_connection_string"))
    return _gcs(request.getfixturevalue("gcs_endpoint"))


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_array_roundtrip_through_store(target, layout):
    url, opts = target
    kw = dict(LAYOUTS[layout])
    kw.setdefault("chunks", (4, 5))
    a = np.arange(13 * 17, dtype="<f8").reshape(13, 17) / 7
    with open_store(url, mode="w", storage_options=opts) as store:
        z = ez.create(store, shape=a.shape, dtype="f8", **kw)
        z[...] = a
        z[2:11:3, ::-2] = -1.0
        a[2:11:3, ::-2] = -1.0
        np.testing.assert_array_equal(z.read(), a)
    with open_store(url, mode="r", storage_options=opts) as store:
        r = ez.open(store, mode="r")
        np.testing.assert_array_equal(r.read(), a)
        np.testing.assert_array_equal(r.vindex[[0, 12], [16, 0]].read(), a[[0, 12], [16, 0]])


def test_http_read_only_array(range_http_root):
    base, directory = range_http_root
    name = unique_name("arr")
    a = np.arange(60, dtype="i4").reshape(6, 10)
    z = ez.create(str(directory / name), shape=a.shape, chunks=(4, 4), shards=(4, 8), dtype="i4")
    z[...] = a
    r = ez.open(f"{base}/{name}", mode="r")
    np.testing.assert_array_equal(r.read(), a)
    assert r[5, 9].read() == 59  # ranged index + inner-chunk reads over HTTP


def test_zarr_python_interop_on_s3(moto_endpoint):
    zarr = pytest.importorskip("zarr")
    url, opts = _s3(moto_endpoint)
    a = np.arange(200, dtype="i2").reshape(10, 20)
    z = ez.create(url, shape=a.shape, chunks=(3, 7), shards=(6, 14), dtype="i2",
                  storage_options=opts, attributes={"by": "exzarr"})
    z[...] = a
    theirs = zarr.open_array(url, mode="r", storage_options=opts)
    np.testing.assert_array_equal(theirs[...], a)
    assert theirs.attrs["by"] == "exzarr"
    url2 = url.replace("a.zarr", "b.zarr")
    zb = zarr.create_array(url2, shape=(7, 9), chunks=(2, 4), dtype="f4", zarr_format=2,
                           storage_options=opts)
    zb[...] = np.ones((7, 9), "f4") * 3
    np.testing.assert_array_equal(ez.open(url2, mode="r", storage_options=opts).read(),
                                  np.ones((7, 9), "f4") * 3)


def test_missing_bucket_is_an_error_not_created(moto_endpoint):
    import s3fs
    from exzarr.errors import StorageError
    opts = s3_options(moto_endpoint)
    name = unique_name("typo")
    with pytest.raises(StorageError) as ei:
        ez.create(f"s3://{name}/t.zarr", shape=(3,), dtype="i4", storage_options=opts)
    assert "does not exist" in str(ei.value) and name in str(ei.value)
    assert not s3fs.S3FileSystem(**opts).exists(name)
