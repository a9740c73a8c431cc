"""S3 through s3fs against two independent servers: moto (in process) and s3rver (Node).

(``backend="fsspec"``: with these options the default back end would be obstore,
tests/storage/test_obstore.py.)"""

import pytest

from exzarr.errors import AccessDeniedError
from exzarr.storage import FsspecStore, open_store
from exzarr.testing.stores import StoreTests

from ._helpers import S3rverLateWrites, s3_options, unique_name

pytestmark = pytest.mark.timeout(120)


def _bucket(options) -> str:
    import s3fs
    fs = s3fs.S3FileSystem(**options)
    name = unique_name("exzarr")
    fs.mkdir(name)
    return name


class TestS3Moto(StoreTests):
    concurrent_writes = 4
    @pytest.fixture
    def store(self, moto_endpoint):
        opts = s3_options(moto_endpoint)
        return open_store(f"s3://{_bucket(opts)}/data.zarr", mode="w",
                          storage_options={**opts, "backend": "fsspec"})


class TestS3Rver(S3rverLateWrites, StoreTests):
    """s3rver 3.7.1 (unmaintained) has bugs of its own; the tests they break are marked.

    Its off-by-one suffix ranges (``bytes=-N`` answers N+1 bytes) are *not* marked: the
    store detects them and switches to explicit offsets, and the range tests pass.
    """

    concurrent_writes = 4

    @pytest.fixture
    def store(self, s3rver_endpoint):
        opts = s3_options(s3rver_endpoint, "S3RVER", "S3RVER")
        return FsspecStore(f"s3://{_bucket(opts)}", storage_options=opts)

    _HANGS = "s3rver 3.7.1 bug: a ranged GET of a zero-length object never answers (moto covers it)"

    @pytest.mark.skip(reason=_HANGS)
    def test_empty_value(self, store):
        pass

    @pytest.mark.skip(reason=_HANGS)
    def test_get_ranges(self, store):
        pass

    @pytest.mark.xfail(strict=True, reason="s3rver 3.7.1 bug: delimiter listings below the "
                       "bucket root omit CommonPrefixes")
    def test_list_dir(self, store):
        super().test_list_dir(store)

    @pytest.mark.xfail(strict=False, reason="s3rver 3.7.1 bug: it writes objects in place, so "
                       "a GET racing a PUT can see a partial object")
    def test_concurrent_writers_threads(self, store):
        super().test_concurrent_writers_threads(store)


def test_open_store_gives_fsspec_store(moto_endpoint):
    opts = s3_options(moto_endpoint)
    b = _bucket(opts)
    opts["backend"] = "fsspec"
    s = open_store(f"s3://{b}/x.zarr", mode="a", storage_options=opts)
    assert isinstance(s, FsspecStore) and s.url == f"s3://{b}/x.zarr"
    s.set("zarr.json", b"{}")
    r = open_store(f"s3://{b}/x.zarr", mode="r", storage_options=opts)
    assert r.read_only and r.get("zarr.json") == b"{}"
    assert r.supports_byte_ranges and r._ranges is True


def test_wrong_credentials_are_access_denied(s3rver_endpoint):
    good = s3_options(s3rver_endpoint, "S3RVER", "S3RVER")
    b = _bucket(good)
    FsspecStore(f"s3://{b}", storage_options=good).set("k", b"1")
    bad = s3_options(s3rver_endpoint, "NOT-A-KEY", "wrong-secret")
    s = FsspecStore(f"s3://{b}", storage_options=bad)
    with pytest.raises(AccessDeniedError) as e:
        s.get("k")
    msg = str(e.value)
    assert f"s3://{b}" in msg and "'k'" in msg
    assert "credentials" in msg and "region" in msg and "storage_options" in msg
    assert isinstance(e.value, PermissionError)
    assert s.retry_stats.retries == 0  # denied access is never retried


# -- requests on the wire (counted with botocore's before-send hook: every HTTP attempt) --
class _SentRequests:
    """Record (method, Range header) of every request the store's s3fs client sends."""

    def __init__(self, store):
        self.events = store.fs.s3.meta.events
        self.sent: list[tuple[str, str | None]] = []

    def _hook(self, request, **_kw):
        self.sent.append((request.method, request.headers.get("Range")))

    def __enter__(self):
        self.events.register("before-send.s3", self._hook)
        return self.sent

    def __exit__(self, *exc):
        self.events.unregister("before-send.s3", self._hook)


def test_whole_chunk_reads_are_one_get_each(moto_endpoint):
    """s3fs sends a HEAD before a whole-object GET unless told not to: the store tells it."""
    import numpy as np

    import exzarr as ez
    opts = s3_options(moto_endpoint)
    url = f"s3://{_bucket(opts)}/c.zarr"
    opts["backend"] = "fsspec"  # (the default would be obstore)
    data = np.arange(32 * 32, dtype="float32").reshape(32, 32)
    ez.create(url, shape=(32, 32), chunks=(8, 8), dtype="float32", storage_options=opts)[...] = data
    z = ez.open(url, mode="r", storage_options=opts)
    with _SentRequests(z.store) as sent:
        assert np.array_equal(z[...].read(), data)          # 16 chunks, batched
        assert z[3, 4].read() == data[3, 4]                 # one chunk
        assert z.store.get("zarr.json") is not None         # a whole value
    assert sent == [("GET", None)] * 18


def test_sharded_region_read_coalesces_ranged_gets(moto_endpoint):
    """A partial read of a shard: one ranged GET for the index, and the needed inner
    chunks (adjacent in the shard, or a small gap apart) in one merged ranged GET."""
    import numpy as np

    import exzarr as ez
    opts = s3_options(moto_endpoint)
    url = f"s3://{_bucket(opts)}/s.zarr"
    opts["backend"] = "fsspec"  # (the default would be obstore)
    data = np.arange(64 * 64, dtype="float32").reshape(64, 64)
    ez.create(url, shape=(64, 64), chunks=(8, 8), shards=(32, 32), dtype="float32",
              storage_options=opts)[...] = data
    z = ez.open(url, mode="r", storage_options=opts)
    with _SentRequests(z.store) as sent:
        # inner chunks (0..1, 0..2) of shard (0, 0): two runs of 3, one chunk apart
        assert np.array_equal(z[3:13, 5:20].read(), data[3:13, 5:20])
    assert len(sent) == 2 and all(m == "GET" and r for m, r in sent)
    with _SentRequests(z.store) as sent:
        # a few inner chunks of each of the 4 shards: 4 index reads + 4 merged data reads
        assert np.array_equal(z[20:40, 21:43].read(), data[20:40, 21:43])
    assert len(sent) == 8 and all(m == "GET" and r for m, r in sent)
