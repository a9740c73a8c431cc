import pathlib
import subprocess
import sys

import pytest

from exzarr.errors import ReadOnlyError, StorageError
from exzarr.storage import (FsspecStore, LocalStore, MemoryStore, SQLiteStore, Store, ZipStore,
                            open_store, register_scheme, registered_schemes, unregister_scheme)


def test_paths_and_urls(tmp_path):
    assert isinstance(open_store(str(tmp_path / "a"), mode="w"), LocalStore)
    assert isinstance(open_store(tmp_path / "a", mode="w"), LocalStore)  # PathLike
    assert isinstance(open_store(f"file://{tmp_path}/a", mode="a"), LocalStore)
    assert open_store(f"file://{tmp_path}/a", mode="a").root == tmp_path / "a"
    with open_store(tmp_path / "x.zip", mode="w") as z:
        assert isinstance(z, ZipStore) and not z.read_only
    with open_store(str(tmp_path / "X.ZIP"), mode="w") as z:
        assert isinstance(z, ZipStore)
    with open_store(f"zip://{tmp_path}/y.zip", mode="a") as z:
        assert isinstance(z, ZipStore)
    s = open_store(f"sqlite:///{str(tmp_path).lstrip('/')}/d.db", mode="a")
    assert isinstance(s, SQLiteStore) and s.path == tmp_path / "d.db"
    s.close()
    assert isinstance(open_store("memory://reg-test", mode="w"), MemoryStore)
    MemoryStore.discard("reg-test")


def test_mode_r_is_read_only(tmp_path):
    LocalStore(tmp_path / "d").set("k", b"1")
    for obj in [tmp_path / "d", f"file://{tmp_path}/d", "memory://reg-ro"]:
        s = open_store(obj, mode="r")
        assert s.read_only
        with pytest.raises(ReadOnlyError):
            s.set("k", b"2")
    for mode in ["r+", "a", "w", "w-"]:
        assert not open_store(tmp_path / "d", mode=mode).read_only
    with pytest.raises(ValueError):
        open_store(tmp_path / "d", mode="rw")
    MemoryStore.discard("reg-ro")


def test_store_instances(tmp_path):
    m = MemoryStore()
    assert open_store(m, mode="a") is m
    ro = open_store(m, mode="r")
    assert ro.read_only and not m.read_only and isinstance(ro, MemoryStore)
    m.set("k", b"1")
    assert ro.get("k") == b"1"
    assert open_store(ro, mode="r") is ro
    with pytest.raises(ValueError):
        open_store(m, storage_options={"anon": True})


def test_storage_options_refused_for_local_stores(tmp_path):
    for obj in [tmp_path / "d", "memory://x", f"sqlite://{tmp_path}/d.db"]:
        with pytest.raises(ValueError) as e:
            open_store(obj, mode="a", storage_options={"anon": True})
        assert "storage_options" in str(e.value)


def test_fsspec_protocols_route_to_fsspec_store():
    s = open_store("s3://some-bucket/data.zarr", mode="r", storage_options={"anon": True})
    assert isinstance(s, FsspecStore) and s.read_only and s.url == "s3://some-bucket/data.zarr"
    h = open_store("https://example.invalid/data.zarr")
    assert isinstance(h, FsspecStore) and not h.supports_writes


def test_unknown_scheme():
    with pytest.raises(StorageError) as e:
        open_store("nosuchscheme://x/y")
    msg = str(e.value)
    assert "nosuchscheme" in msg and "register_scheme" in msg
    with pytest.raises(TypeError):
        open_store(42)
    with pytest.raises(ValueError):
        open_store("")


def test_register_custom_scheme():
    calls = []

    def factory(url, *, mode, storage_options):
        calls.append((url, mode, storage_options))
        return MemoryStore("custom-" + url.split("://", 1)[1].replace("/", "-"))

    register_scheme("mydb", factory)
    try:
        assert "mydb" in registered_schemes()
        s = open_store("MyDB://host/db", mode="a", storage_options={"user": "u"})
        assert isinstance(s, Store) and not s.read_only
        assert calls == [("MyDB://host/db", "a", {"user": "u"})]
        r = open_store("mydb://host/db", mode="r")
        assert r.read_only  # made read-only even though the factory ignored mode
        with pytest.raises(ValueError):
            register_scheme("mydb", lambda *a, **k: None)
        register_scheme("mydb", factory, overwrite=True)
        with pytest.raises(ValueError):
            register_scheme("bad://", factory)
        with pytest.raises(TypeError):
            register_scheme("other", "not callable")
    finally:
        unregister_scheme("mydb")
        MemoryStore.discard("custom-host-db")
    assert "mydb" not in registered_schemes()


def test_registered_scheme_beats_fsspec():
    register_scheme("s3", lambda url, *, mode, storage_options: MemoryStore("s3-override"))
    try:
        assert isinstance(open_store("s3://b/x"), MemoryStore)
    finally:
        unregister_scheme("s3")
        MemoryStore.discard("s3-override")
    assert isinstance(open_store("s3://b/x", storage_options={"anon": True}), FsspecStore)


def test_import_is_light():
    code = ("import sys, exzarr.storage as s; "
            "bad = [m for m in ('fsspec', 's3fs', 'gcsfs', 'adlfs', 'aiohttp', 'botocore') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out


def test_every_public_name_exported():
    import exzarr.storage as st
    for name in st.__all__:
        assert hasattr(st, name), name
    assert pathlib.Path(st.__file__).name == "__init__.py"
