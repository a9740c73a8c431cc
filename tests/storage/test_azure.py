"""Azure Blob Storage through adlfs against Azurite."""

import pytest

from exzarr.storage import FsspecStore, open_store
from exzarr.testing.stores import StoreTests

from ._helpers import unique_name

pytestmark = pytest.mark.timeout(120)


def _container(conn: str) -> str:
    import adlfs
    fs = adlfs.AzureBlobFileSystem(connection_string=conn)
    name = unique_name("exzarr")
    fs.mkdir(name)
    return name


class TestAzurite(StoreTests):
    concurrent_writes = 4

    @pytest.fixture
    def store(self, azurite_connection_string):
        c = _container(azurite_connection_string)
        return FsspecStore(f"az://{c}/data.zarr",
                           storage_options={"connection_string": azurite_connection_string})


def test_abfs_url(azurite_connection_string):
    c = _container(azurite_connection_string)
    opts = {"connection_string": azurite_connection_string}
    s = open_store(f"abfs://{c}/g.zarr", mode="w", storage_options=opts)
    s.set("zarr.json", b"{}")
    r = open_store(f"az://{c}/g.zarr", mode="r", storage_options=opts)
    assert r.get("zarr.json") == b"{}" and r.get("zarr.json", (-1, None)) == b"}"


def test_wrong_account_key_is_access_denied(azurite_connection_string):
    from exzarr.errors import AccessDeniedError
    c = _container(azurite_connection_string)
    FsspecStore(f"az://{c}", storage_options={"connection_string": azurite_connection_string}
                ).set("k", b"1")
    bad = azurite_connection_string.replace("AccountKey=Eby8", "AccountKey=AAAA")
    s = FsspecStore(f"az://{c}", storage_options={"connection_string": bad})
    with pytest.raises(AccessDeniedError) as e:
        s.get("k")
    assert f"az://{c}" in str(e.value) and "credentials" in str(e.value)
    assert s.retry_stats.retries == 0
