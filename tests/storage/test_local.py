import os
import subprocess
import sys
import threading

import pytest

from exzarr.errors import ReadOnlyError
from exzarr.storage import InvalidKeyError, LocalStore, open_store
from exzarr.storage.local import TMP_PREFIX
from exzarr.testing.stores import StoreTests


class TestLocalStore(StoreTests):
    @pytest.fixture
    def store(self, tmp_path):
        return LocalStore(tmp_path / "root")


def test_layout_and_url(tmp_path):
    s = LocalStore(tmp_path / "r")
    s.set("a/b/c", b"123")
    assert (tmp_path / "r" / "a" / "b" / "c").read_bytes() == b"123"
    assert s.url == (tmp_path / "r").as_uri()
    assert open_store(s.url).get("a/b/c") == b"123"
    assert open_store(str(tmp_path / "r")).get("a/b/c") == b"123"


def test_delete_prunes_empty_dirs_only(tmp_path):
    s = LocalStore(tmp_path / "r")
    s.set("a/b/c/d", b"1")
    s.set("a/x", b"2")
    s.delete("a/b/c/d")
    assert not (tmp_path / "r" / "a" / "b").exists()
    assert (tmp_path / "r" / "a" / "x").exists()
    s.delete("a/x")
    assert (tmp_path / "r").is_dir() and not any((tmp_path / "r").iterdir())


def test_keys_escaping_root_refused(tmp_path):
    s = LocalStore(tmp_path / "r")
    for bad in ["../outside", "a/../../outside", "/etc/passwd", "a/./b"]:
        with pytest.raises(InvalidKeyError) as e:
            s.set(bad, b"x")
        assert str(tmp_path / "r") in str(e.value) or "store" in str(e.value)
        with pytest.raises(InvalidKeyError):
            s.get(bad)
    assert not (tmp_path / "outside").exists()


def test_temp_files_never_listed_or_readable(tmp_path):
    s = LocalStore(tmp_path / "r")
    s.set("a/k", b"1")
    (tmp_path / "r" / "a" / f"{TMP_PREFIX}k.123").write_bytes(b"partial")
    assert list(s.list()) == ["a/k"]
    assert list(s.list_dir("a/")) == ["k"]
    with pytest.raises(InvalidKeyError):
        s.get(f"a/{TMP_PREFIX}k.123")


def test_failed_write_leaves_old_value_and_no_temp(tmp_path):
    s = LocalStore(tmp_path / "r")
    s.set("k", b"old")

    # a write that fails half way (value that cannot be written) keeps the old file
    with pytest.raises(TypeError):
        s._set("k", object())
    assert s.get("k") == b"old"
    assert os.listdir(tmp_path / "r") == ["k"]


def test_crash_mid_write_never_tears(tmp_path):
    """SIGKILL a process while it rewrites one key over and over: the file is always whole."""
    root = tmp_path / "r"
    code = f"""
import sys
import threading
from exzarr.storage import LocalStore
s = LocalStore({str(root)!r})
vals = [bytes([i]) * 3_000_000 for i in range(4)]
s.set("chunk", vals[0])
print("ready", flush=True)
i = 0
while True:
    i += 1
    s.set("chunk", vals[i % 4])
"""
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert p.stdout.readline().strip() == b"ready"
        import time
        time.sleep(0.3)
    finally:
        p.kill()
        p.wait()
    s = LocalStore(root)
    v = s.get("chunk")
    assert len(v) == 3_000_000 and v == v[:1] * 3_000_000
    assert list(s.list()) == ["chunk"]


def test_read_only_mode(tmp_path):
    LocalStore(tmp_path / "r").set("k", b"1")
    ro = open_store(tmp_path / "r", mode="r")
    assert ro.get("k") == b"1"
    with pytest.raises(ReadOnlyError):
        ro.set("k", b"2")
    assert not (tmp_path / "nothing").exists()
    assert open_store(tmp_path / "nothing", mode="r").get("k") is None
    assert not (tmp_path / "nothing").exists()


def test_fsync_option(tmp_path):
    s = LocalStore(tmp_path / "r", fsync=True)
    s.set("a/b", b"durable")
    assert s.get("a/b") == b"durable"


def test_huge_byte_ranges_read_as_slicing(tmp_path):
    s = LocalStore(tmp_path / "r")
    s.set("k", b"abcdef")
    for a, b in [(2**63, 2**63 + 10), (2**63, None), (-2**63 - 5, None), (0, 2**64),
                 (2**70, 2**70 + 1), (-2**70, -2**69), (3, 2**63), (1 << 40, None)]:
        assert s.get("k", (a, b)) == b"abcdef"[a:b], (a, b)


def test_killed_writer_leftover_listed_and_swept(tmp_path):
    """A temporary file of a killed writer is never a key, is listed by temp_files() and
    removed by the first write to its folder once an hour old."""
    from exzarr.storage import tempfiles

    root = tmp_path / "r"
    (root / "a").mkdir(parents=True)
    left = root / "a" / f"{TMP_PREFIX}k.1.2.3"
    left.write_bytes(b"torn")
    old = os.path.getmtime(left) - 7200
    os.utime(left, (old, old))
    s = LocalStore(root)
    assert [t.path for t in s.temp_files()] == [str(left)] and s.temp_files()[0].stale
    assert LocalStore(root, read_only=True).temp_files("a/")[0].size == 4
    tempfiles._swept.pop(str(root / "a"), None)
    s.set("a/k", b"whole")
    assert not left.exists() and s.temp_files() == []


# -- write batches: a temporary folder per thread ------------------------------------------
def _folders(d):
    return sorted(p.name for p in d.iterdir() if p.is_dir() and p.name.startswith(TMP_PREFIX))


def test_write_batch_writes_through_a_folder_per_thread(tmp_path):
    root = tmp_path / "r"
    s = LocalStore(root)
    s.set("a/zarr.json", b"{}")
    seen = []

    def parts():  # inspects the folder while the value is half written
        yield b"ab"
        seen.extend((f, sorted(os.listdir(root / "a" / f))) for f in _folders(root / "a"))
        yield b"cd"

    with s.write_batch("a"):
        s.set_parts("a/c/0/0", parts())  # its folders are made on the way
        (name, inside), = seen
        assert name.endswith(f".{os.getpid()}.{threading.get_ident()}")
        assert len(inside) == 1 and inside[0].startswith(TMP_PREFIX)
        assert _folders(root / "a") == [name]  # empty now, kept for the next write
        assert os.listdir(root / "a" / name) == []
        assert sorted(s.list()) == ["a/c/0/0", "a/zarr.json"]
        assert sorted(s.list_dir("a/")) == ["c", "zarr.json"]
        assert s.temp_files() == []  # a folder is not a temporary file
        s.set("a/c/1/0", b"x")
        s.set("b/k", b"outside")  # not under the batch's prefix: next to its target
        assert not _folders(root / "b")
    assert s.get("a/c/0/0") == b"abcd" and s.get("a/c/1/0") == b"x"
    assert sorted(os.listdir(root / "a")) == ["c", "zarr.json"]  # removed with the batch


def test_write_batch_failed_write_and_vanished_folder(tmp_path):
    root = tmp_path / "r"
    s = LocalStore(root)
    s.set("c/0", b"old")

    def broken():
        yield b"new"
        raise RuntimeError("source failed")

    with s.write_batch():
        with pytest.raises(RuntimeError):
            s.set_parts("c/0", broken())
        assert s.get("c/0") == b"old"
        s.set("c/1", b"x")
        s.delete_prefix("")  # takes this thread's folder with it
        s.set("c/1", b"y")  # folder and directory made again
        assert s.get("c/1") == b"y" and s.get("c/0") is None
        s.delete_prefix("c/")  # the directory goes, the folder stays
        s.set("c/2", b"z")
    assert sorted(os.listdir(root)) == ["c"] and os.listdir(root / "c") == ["2"]


def test_write_batch_target_on_another_file_system(tmp_path, monkeypatch):
    """A directory on another device than the batch's folder (a mount point below it)
    gets its temporary files next to the targets: a rename across devices fails."""
    from exzarr.storage import tempfiles

    root = tmp_path / "r"
    s = LocalStore(root)
    mounted = str(root / "m")
    real_stat = os.stat

    def stat(path, *a, **k):
        st = real_stat(path, *a, **k)
        if os.fspath(path) == mounted:
            return os.stat_result((st.st_mode, st.st_ino, st.st_dev + 1) + tuple(st)[3:])
        return st

    s.set("m/0", b"0")
    monkeypatch.setattr(tempfiles.os, "stat", stat)
    seen = []

    def parts():
        yield b"a"
        seen.append(sorted(os.listdir(root / "m")))
        yield b"b"

    with s.write_batch():
        s.set_parts("m/1", parts())
        s.set("n/0", b"through the folder")
    tmp, old = seen[0]  # the temporary file next to its target (named after it)
    assert tmp.startswith(f"{TMP_PREFIX}1.{os.getpid()}.") and old == "0"
    assert s.get("m/1") == b"ab" and s.get("n/0") == b"through the folder"
    assert sorted(os.listdir(root)) == ["m", "n"]


def test_write_batch_leftovers_listed_and_swept(tmp_path):
    """A writer killed inside a batch leaves its folder and file: both are listed as its
    temporary file, never keys; the next batch there (or write in that directory) removes
    the file once old and the folder of a dead process once empty."""
    from exzarr.storage import tempfiles

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    root = tmp_path / "r"
    folder = root / "a" / f"{TMP_PREFIX}{tempfiles.owner_tag().rsplit('.', 1)[0]}.{dead}.7"
    folder.mkdir(parents=True)
    left = folder / f"{TMP_PREFIX}12"
    left.write_bytes(b"torn")
    old = os.path.getmtime(left) - 7200
    os.utime(left, (old, old))
    live = root / "a" / f"{TMP_PREFIX}{tempfiles.owner_tag()}.9"  # this process: kept
    live.mkdir()
    s = LocalStore(root)
    assert [(t.path, t.stale) for t in s.temp_files()] == [(str(left), True)]
    assert list(s.list()) == [] and list(s.list_dir("a/")) == []
    tempfiles._swept.pop(str(root / "a"), None)
    with s.write_batch("a"):
        s.set("a/c/0", b"whole")
    assert not folder.exists() and live.exists()
    assert s.temp_files() == [] and list(s.list()) == ["a/c/0"]
    assert s.remove_temp_files(max_age=0) == [] and not live.exists()


def test_write_batch_prefix_is_a_key(tmp_path):
    s = LocalStore(tmp_path / "r")
    with pytest.raises(InvalidKeyError):
        s.write_batch("../outside")


@pytest.mark.parametrize("nchunks, batched", [(1, 0), (4, 0), (16, 1)])
def test_array_writes_of_many_chunks_run_in_one_batch(tmp_path, monkeypatch, nchunks, batched):
    import numpy as np

    import exzarr as ez

    calls = []
    orig = LocalStore.write_batch
    monkeypatch.setattr(LocalStore, "write_batch",
                        lambda self, prefix="": calls.append(prefix) or orig(self, prefix))
    root = tmp_path / "g"
    data = np.arange(nchunks * 100, dtype="i4").reshape(-1, 10)
    for name, kw in [("v2", {"zarr_format": 2}), ("v3", {}), ("sh", {"shards": (10, 10)})]:
        z = ez.create(LocalStore(root), path=f"grp/{name}", shape=(nchunks * 10, 10),
                      chunks=(10, 10), dtype="i4", **kw)
        z[...] = data
        np.testing.assert_array_equal(z[...].read(), data)
    assert not any(TMP_PREFIX in str(p) for p in root.rglob("*"))
    assert calls == ["grp/v2", "grp/v3", "grp/sh"] * batched


@pytest.mark.parametrize("rng", [(1 << 62, None), (1 << 62, (1 << 62) + 5), (3, 1 << 63),
                                 (1 << 70, None), (2, 1 << 70), (-(1 << 70), 4), (0, 0),
                                 (5, None), (-3, None), (4, 9), (9, 4), (-6, -2),
                                 (0, 1 << 40), (7, (64 << 20) + 7)])
def test_ranged_reads_as_slicing_even_past_any_file_size(tmp_path, rng):
    """Ranged reads go through pread on a bare descriptor; offsets no file reaches read
    as slicing would, never an error."""
    s = LocalStore(str(tmp_path))
    s.set("v", b"0123456789")
    assert s.get("v", rng) == b"0123456789"[rng[0]:rng[1]]
    assert s.get("missing", rng) is None
    os.mkdir(tmp_path / "d")
    assert s.get("d", rng) is None  # a directory is no value


@pytest.mark.parametrize("start", [1 << 62, (1 << 63) - 3, 1 << 63, (1 << 64) - 2, 1 << 70])
def test_reads_into_a_buffer_from_past_any_file_size(tmp_path, start):
    """``read_into`` from an offset no file reaches (a damaged shard index may ask for
    one) reads nothing, as slicing would, never an OverflowError."""
    s = LocalStore(str(tmp_path))
    s.set("v", b"0123456789")
    out = memoryview(bytearray(b"\xee" * 8))
    assert s.read_into("v", start, out) == 0 and bytes(out) == b"\xee" * 8
    assert s.read_into("missing", start, out) is None
