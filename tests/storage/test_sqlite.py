import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading

import pytest

from exzarr.errors import ReadOnlyError, StorageError
from exzarr.storage import SQLiteStore, open_store
from exzarr.testing.stores import StoreTests


class TestSQLiteStore(StoreTests):
    @pytest.fixture
    def store(self, tmp_path):
        s = SQLiteStore(tmp_path / "t.db")
        yield s
        s.close()


def test_schema_and_wal(tmp_path):
    s = SQLiteStore(tmp_path / "t.db")
    s.set("k", b"\x00\x01")
    con = sqlite3.connect(tmp_path / "t.db")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT key, value FROM zarr").fetchall() == [("k", b"\x00\x01")]
    con.close()
    s.close()
    s.close()
    with pytest.raises(StorageError):
        s.get("k")


def test_transaction_commits_all(tmp_path):
    with SQLiteStore(tmp_path / "t.db") as s:
        with s.transaction():
            s.set("a", b"1")
            s.set("b", b"2")
            with s.transaction():  # nested
                s.set("c", b"3")
        assert s.get_many(["a", "b", "c"]) == {"a": b"1", "b": b"2", "c": b"3"}


def test_transaction_rolls_back_on_exception(tmp_path):
    with SQLiteStore(tmp_path / "t.db") as s:
        s.set("a", b"old")
        with pytest.raises(RuntimeError):
            with s.transaction():
                s.set("a", b"new")
                s.set("b", b"2")
                raise RuntimeError("boom")
        assert s.get("a") == b"old" and s.get("b") is None
        # an inner block's failure, caught by the outer block, undoes only the inner writes
        with s.transaction():
            s.set("x", b"1")
            with pytest.raises(KeyError):
                with s.transaction():
                    s.set("y", b"2")
                    raise KeyError("inner")
            s.set("z", b"3")
        assert sorted(s.list()) == ["a", "x", "z"]


def test_transaction_invisible_to_other_connections_until_commit(tmp_path):
    s = SQLiteStore(tmp_path / "t.db")
    other = SQLiteStore(tmp_path / "t.db")
    with s.transaction():
        s.set("k", b"1")
        assert other.get("k") is None  # WAL: readers see the last commit, never block
    assert other.get("k") == b"1"
    s.close()
    other.close()


def test_read_only(tmp_path):
    SQLiteStore(tmp_path / "t.db").set("k", b"1")
    ro = open_store(f"sqlite://{tmp_path / 't.db'}", mode="r")
    assert isinstance(ro, SQLiteStore) and ro.read_only
    assert ro.get("k") == b"1"
    with pytest.raises(ReadOnlyError):
        ro.set("k", b"2")
    with pytest.raises(ReadOnlyError):
        with ro.transaction():
            pass
    with pytest.raises(StorageError):
        SQLiteStore(tmp_path / "missing.db", read_only=True)


def test_url_roundtrip(tmp_path):
    s = SQLiteStore(tmp_path / "u.db")
    assert s.url == f"sqlite://{(tmp_path / 'u.db').as_posix()}"
    assert s.url.startswith("sqlite:///")
    s.set("k", b"1")
    assert open_store(s.url, mode="r+").get("k") == b"1"


WRITER = textwrap.dedent("""
    import sys, time
    from exzarr.storage import SQLiteStore
    s = SQLiteStore(sys.argv[1])
    group = 0
    while True:
        with s.transaction():
            for i in range(50):
                s.set(f"g{group}/{i}", bytes([group % 256]) * 20000)
                if group == 3 and i == 25:
                    print("mid", flush=True)      # parent kills us mid-transaction
                    time.sleep(30)
        if group < 3:
            print("committed", group, flush=True)
        group += 1
""")


def test_sigkill_mid_transaction_is_all_or_none(tmp_path):
    db = tmp_path / "crash.db"
    SQLiteStore(db).close()
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        lines = [p.stdout.readline().strip() for _ in range(4)]
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    assert lines == ["committed 0", "committed 1", "committed 2", "mid"]
    with SQLiteStore(db) as s:
        keys = list(s.list())
        groups = {k.split("/")[0] for k in keys}
        assert groups == {"g0", "g1", "g2"}  # g3 was in flight: none of it landed
        for g in groups:
            assert len(list(s.list_prefix(g + "/"))) == 50
        assert s.get("g2/49") == bytes([2]) * 20000


def test_sigkill_random_time_groups_all_or_none(tmp_path):
    db = tmp_path / "crash2.db"
    code = WRITER.replace("group == 3 and i == 25", "False")
    p = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().startswith("committed")
        threading.Event().wait(0.4)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    with SQLiteStore(db) as s:
        counts = {}
        for k in s.list():
            g = k.split("/")[0]
            counts[g] = counts.get(g, 0) + 1
        assert counts and all(n == 50 for n in counts.values()), counts


READER = textwrap.dedent("""
    import sys
    from exzarr.storage import SQLiteStore
    s = SQLiteStore(sys.argv[1], read_only=True)
    bad = 0
    for _ in range(300):
        vals = s.get_many([f"k{i}" for i in range(10)])
        got = {v for v in vals.values() if v is not None}
        if len(got) > 1:
            bad += 1  # a mixed snapshot would mean a torn group
    print(bad)
""")


def test_many_reader_processes_one_writer(tmp_path):
    db = tmp_path / "mr.db"
    w = SQLiteStore(db)
    w.set_many({f"k{i}": b"0" for i in range(10)})
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(db)], stdout=subprocess.PIPE,
                                text=True) for _ in range(3)]
    n = 0
    while any(r.poll() is None for r in readers) and n < 2000:
        n += 1
        w.set_many({f"k{i}": str(n).encode() for i in range(10)})  # one transaction
    outs = [r.communicate(timeout=60)[0].strip() for r in readers]
    assert all(r.returncode == 0 for r in readers)
    assert outs == ["0", "0", "0"]
    w.close()


def test_threads_each_get_a_connection(tmp_path):
    s = SQLiteStore(tmp_path / "t.db")
    errs = []

    def work(t):
        try:
            with s.transaction():
                for i in range(20):
                    s.set(f"{t}/{i}", b"x")
        except Exception as e:
            errs.append(e)

    ts = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert not errs
    assert len(list(s.list())) == 120
    s.close()


def test_fork_safe(tmp_path):
    if not hasattr(os, "fork"):
        pytest.skip("no fork")
    s = SQLiteStore(tmp_path / "f.db")
    s.set("parent", b"1")
    pid = os.fork()
    if pid == 0:
        try:
            s.set("child", b"2")
            os._exit(0 if s.get("parent") == b"1" else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert s.get("child") == b"2"
    s.close()


HUGE_RANGES = [(2**63, 2**63 + 10), (2**63, None), (-2**63 - 5, None), (0, 2**64),
               (2**70, 2**70 + 1), (-2**70, -2**69), (3, 2**63)]


def test_huge_byte_ranges_read_as_slicing(tmp_path):
    """Offsets beyond SQLite's 64-bit integers (a corrupt shard index) read like slices
    instead of raising OverflowError."""
    s = SQLiteStore(tmp_path / "t.db")
    s.set("k", b"abcdef")
    for a, b in HUGE_RANGES:
        assert s.get("k", (a, b)) == b"abcdef"[a:b], (a, b)
    s.close()


def test_unencodable_key_is_invalid_key_error(tmp_path):
    from exzarr.errors import ExzarrError
    from exzarr.storage import InvalidKeyError

    s = SQLiteStore(tmp_path / "t.db")
    for op in (lambda: s.set("a/\udc80", b"1"), lambda: s.get("a/\udc80"),
               lambda: s.set_many({"\udc80": b"1"}), lambda: s.get_many(["\udc80"]),
               lambda: s.delete("\udc80"), lambda: s.exists("\udc80")):
        with pytest.raises(InvalidKeyError) as e:
            op()
        assert isinstance(e.value, (ExzarrError, ValueError))
        assert "not valid Unicode" in str(e.value) and "t.db" in str(e.value)
    s.close()


def test_shard_offset_2_63_is_a_typed_error(tmp_path):
    import struct

    import crc32c
    import numpy as np

    import exzarr as ez
    from exzarr.errors import ExzarrError

    z = ez.create("sqlite://" + str(tmp_path / "s.db"), shape=(8,), chunks=(4,), shards=(8,),
                  dtype="i4")
    z[:] = np.arange(8)
    shard = z.store.get("c/0")
    index = bytearray(shard[-36:-4])
    index[0:8] = struct.pack("<Q", 2**63)
    z.store.set("c/0", shard[:-36] + bytes(index) + struct.pack("<I", crc32c.crc32c(bytes(index))))
    for sel in (slice(0, 4), slice(None)):  # reads of the inner chunk with that offset
        with pytest.raises(ExzarrError) as e:
            z[sel].read()
        assert "c/0" in str(e.value)
    # the other inner chunk's bytes are intact: a read of it alone gets them (the index is
    # read without the shard, so the bad entry is met only when its chunk is read)
    np.testing.assert_array_equal(z[4:8].read(), np.arange(4, 8))
    z.store.close()
