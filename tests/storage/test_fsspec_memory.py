import fsspec
import pytest

from exzarr.errors import ReadOnlyError
from exzarr.storage import FsspecStore, open_store
from exzarr.testing.stores import StoreTests

from ._helpers import unique_name


@pytest.fixture
def memfs_root():
    fs = fsspec.filesystem("memory")
    root = "/" + unique_name("fsspec-mem")
    yield fs, root
    try:
        fs.rm(root, recursive=True)
    except FileNotFoundError:
        pass


class TestFsspecMemoryStore(StoreTests):
    @pytest.fixture
    def store(self, memfs_root):
        fs, root = memfs_root
        return FsspecStore(fs, path=root)


class TestFsspecMemoryStoreFromURL(StoreTests):
    @pytest.fixture
    def store(self, memfs_root):
        _, root = memfs_root
        return FsspecStore(f"memory://{root}")


def test_url_and_keys(memfs_root):
    fs, root = memfs_root
    s = FsspecStore(fs, path=root)
    s.set("a/b", b"1")
    assert fs.cat_file(f"{root}/a/b") == b"1"
    assert s.url == f"memory://{root}"
    assert FsspecStore(f"memory://{root}").get("a/b") == b"1"


def test_read_only_flag(memfs_root):
    fs, root = memfs_root
    s = FsspecStore(fs, path=root, read_only=True)
    with pytest.raises(ReadOnlyError):
        s.set("k", b"1")


def test_open_store_picks_fsspec_for_known_protocols(tmp_path):
    # memory:// belongs to MemoryStore; other fsspec protocols go to FsspecStore
    s = open_store(f"simplecache::file://{tmp_path}", mode="r")
    assert isinstance(s, FsspecStore) and s.read_only
