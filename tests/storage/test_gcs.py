"""Google Cloud Storage through gcsfs against fake-gcs-server."""

import pytest

from exzarr.storage import FsspecStore, open_store
from exzarr.testing.stores import StoreTests

from ._helpers import unique_name

pytestmark = pytest.mark.timeout(120)


def _options(endpoint):
    return {"endpoint_url": endpoint, "token": "anon", "project": "test"}


def _bucket(endpoint) -> str:
    import gcsfs
    fs = gcsfs.GCSFileSystem(**_options(endpoint))
    name = unique_name("exzarr")
    fs.mkdir(name)
    return name


class TestFakeGCS(StoreTests):
    concurrent_writes = 4

    @pytest.fixture
    def store(self, gcs_endpoint):
        return FsspecStore(f"gs://{_bucket(gcs_endpoint)}/data.zarr",
                           storage_options=_options(gcs_endpoint))


def test_gcs_scheme_alias(gcs_endpoint):
    b = _bucket(gcs_endpoint)
    s = open_store(f"gcs://{b}/x", mode="a", storage_options=_options(gcs_endpoint))
    s.set("k", b"0123")
    assert open_store(f"gs://{b}/x", storage_options=_options(gcs_endpoint)).get("k", (1, 3)) == b"12"
