"""The old file of a replaced or deleted key is released on a background thread."""

import ctypes
import os
import sys
import threading

import pytest

from exzarr.storage import LocalStore
from exzarr.storage import reaper, rename_new

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX only")


def _inode(path) -> int:
    return os.stat(path).st_ino


def test_replaced_file_is_held_then_closed(tmp_path, monkeypatch):
    s = LocalStore(tmp_path / "r")
    s.set("c/0", b"old" * 1000)
    path = tmp_path / "r" / "c" / "0"
    old_ino = _inode(path)
    handed = []
    real = reaper.close_later
    monkeypatch.setattr(reaper, "close_later", lambda fd: (handed.append(fd), real(fd)))
    s.set("c/0", b"new")
    assert path.read_bytes() == b"new" and s.get("c/0") == b"new"
    (fd,) = handed
    assert fd is not None  # the old file was held ...
    assert reaper.drain(10)
    with pytest.raises(OSError):  # ... and its descriptor is closed now
        os.fstat(fd)
    assert _inode(path) != old_ino


def test_old_file_held_until_closed(tmp_path, monkeypatch):
    """While the descriptor waits, the old file lives on (unnamed) with its old bytes; the
    key already reads the new value."""
    s = LocalStore(tmp_path / "r")
    s.set("k", b"A" * 4096)
    release = threading.Event()
    seen = []
    real_close = reaper._close

    def slow_close(fd):
        if threading.current_thread().name == "exzarr-reaper":
            seen.append(os.pread(fd, 4, 0))
            release.wait(10)
        real_close(fd)

    monkeypatch.setattr(reaper, "_close", slow_close)
    s.set("k", b"B" * 10)
    assert s.get("k") == b"B" * 10
    assert reaper.pending() >= 1
    release.set()
    assert reaper.drain(10)
    assert seen == [b"AAAA"]


def test_delete_hands_the_file_over(tmp_path, monkeypatch):
    s = LocalStore(tmp_path / "r")
    s.set("a/b", b"x" * 100)
    handed = []
    real = reaper.close_later
    monkeypatch.setattr(reaper, "close_later", lambda fd: (handed.append(fd), real(fd)))
    s.delete("a/b")
    assert s.get("a/b") is None and not (tmp_path / "r" / "a").exists()
    assert len(handed) == 1 and handed[0] is not None
    s.delete("a/b")  # nothing there: nothing held
    assert handed[1:] == [None]
    assert reaper.drain(10)


def test_no_descriptor_leaks(tmp_path, fds_under):
    s = LocalStore(tmp_path / "r")
    for i in range(3 * reaper.MAX_PENDING):
        s.set("k", bytes([i % 256]) * 64)
    s.delete("k")
    assert reaper.drain(10)
    assert fds_under(tmp_path) == []  # no replaced or deleted file is still held
    assert reaper.pending() == 0


@pytest.fixture
def stuck(monkeypatch):
    """The closing thread waits (each descriptor) until the returned event is set (its
    ``real`` is the unpatched close); the event is set at the end of the test."""
    release = threading.Event()
    real_close = reaper._close

    def close(fd):
        if threading.current_thread().name == "exzarr-reaper":
            release.wait(10)
        real_close(fd)

    monkeypatch.setattr(reaper, "_close", close)
    release.real = real_close
    yield release
    release.set()


def test_bounded_waiting_descriptors(stuck, tmp_path):
    """With the closing thread stuck, at most MAX_PENDING wait; the rest are closed by the
    caller at once."""
    release = stuck
    fds = [os.open(tmp_path, os.O_RDONLY) for _ in range(reaper.MAX_PENDING + 10)]
    try:
        for fd in fds:
            reaper.close_later(fd)
        assert reaper.pending() <= reaper.MAX_PENDING
        closed_now = 0
        for fd in fds:
            try:
                os.fstat(fd)
            except OSError:
                closed_now += 1
        assert closed_now >= 10
    finally:
        release.set()
    assert reaper.drain(10)
    for fd in fds:
        with pytest.raises(OSError):
            os.fstat(fd)


def test_fifo_at_a_key_does_not_block(tmp_path):
    s = LocalStore(tmp_path / "r")
    s.set("p", b"1")
    os.unlink(tmp_path / "r" / "p")
    os.mkfifo(tmp_path / "r" / "p")
    done = threading.Event()

    def write():
        s.set("p", b"2")
        done.set()

    t = threading.Thread(target=write, daemon=True)
    t.start()
    assert done.wait(10), "replacing a FIFO blocked"
    assert s.get("p") == b"2"
    assert reaper.drain(10)


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin",
                    reason="fork needed (and safe with threads)")
def test_child_after_fork_starts_clean(tmp_path, stuck):
    release = stuck
    reaper.close_later(os.open(tmp_path, os.O_RDONLY))
    reaper.close_later(os.open(tmp_path, os.O_RDONLY))
    pid = os.fork()
    if pid == 0:  # child: inherited waiting descriptors closed, a new thread on demand
        code = 1
        try:
            reaper._close = release.real  # this process's event is never set
            if reaper.pending() == 0:
                s = LocalStore(tmp_path / "child")
                s.set("k", b"1")
                s.set("k", b"2")
                if reaper.drain(10) and s.get("k") == b"2":
                    code = 0
        finally:
            os._exit(code)
    release.set()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert reaper.drain(10)


def test_new_name_is_renamed_without_holding(tmp_path, monkeypatch):
    """A key written for the first time goes through the one-call rename: no old file to
    look up, hold or hand over."""
    if rename_new.rename_new(str(_touch(tmp_path / "probe")), str(tmp_path / "probe2")) is None:
        pytest.skip("renameat2(RENAME_NOREPLACE) not available here")
    held = []
    monkeypatch.setattr(reaper, "hold", lambda path: held.append(path))
    s = LocalStore(tmp_path / "r")
    s.set("c/0", b"first")
    assert held == [] and s.get("c/0") == b"first"
    s.set("c/0", b"second")  # an existing name: the portable route, old file held
    assert len(held) == 1 and s.get("c/0") == b"second"


def test_replace_without_rename_new(tmp_path, monkeypatch):
    """Where the one-call rename is unavailable every write holds and replaces."""
    monkeypatch.setattr(rename_new, "_renameat2", None)
    s = LocalStore(tmp_path / "r")
    s.set("k", b"a")
    s.set("k", b"b")
    assert s.get("k") == b"b" and sorted(s.list()) == ["k"]  # no temporary file left


def _touch(path):
    path.write_bytes(b"x")
    return path


def test_rename_new_answers(tmp_path, monkeypatch):
    src, dst = _touch(tmp_path / "src"), _touch(tmp_path / "dst")
    got = rename_new.rename_new(str(src), str(dst))
    if got is None:
        pytest.skip("renameat2(RENAME_NOREPLACE) not available here")
    assert got is False and src.exists() and dst.read_bytes() == b"x"  # nothing changed
    dst.unlink()
    assert rename_new.rename_new(str(src), str(dst)) is True
    assert not src.exists() and dst.read_bytes() == b"x"
    with pytest.raises(FileNotFoundError):
        rename_new.rename_new(str(tmp_path / "missing"), str(tmp_path / "other"))


def test_rename_new_falls_back_for_good_when_refused(tmp_path, monkeypatch):
    """A file system that refuses the flag (EINVAL) turns the one-call rename off."""
    import errno

    calls = []

    def refuse(*args):
        calls.append(args)
        ctypes.set_errno(errno.EINVAL)
        return -1

    monkeypatch.setattr(rename_new, "_renameat2", refuse)
    src = _touch(tmp_path / "a")
    assert rename_new.rename_new(str(src), str(tmp_path / "b")) is None
    assert rename_new.rename_new(str(src), str(tmp_path / "b")) is None
    assert len(calls) == 1 and src.exists()
