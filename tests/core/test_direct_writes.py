"""Local writes of whole chunks: the compiled encoding call writes each frame to its file
itself (kernels/file_write, storage/direct_writes).  The files are the ones the Python
path makes (names, bytes, permissions), nothing is left behind, replaced files go to the
reaper, and every failure falls back to the checked path, which says what failed."""

from __future__ import annotations

import errno
import os
import resource
import shutil
import signal
import stat
import sys

import numpy as np
import pytest

import exzarr as ez
from exzarr.errors import StorageError
from exzarr.storage import reaper
from exzarr.storage.direct_writes import DirectWrites, functions
from exzarr.storage.local import LocalStore
from exzarr.storage.tempfiles import TMP_MARK

pytestmark = pytest.mark.skipif(functions() is None,
                                reason="compiled file writes: Linux with Numba only")

CODECS = {"raw": None, "zstd": "zstd", "blosc": "blosc"}


def _create(path, codec, fmt=3, **kw):
    return ez.create(str(path), shape=(96, 80), chunks=(32, 16), dtype="f8",
                     compressors=CODECS[codec], zarr_format=fmt, overwrite=True, **kw)


def _files(root) -> dict[str, tuple[bytes, int]]:
    """Every file below ``root``: its bytes and permission bits."""
    found = {}
    for d, _, names in os.walk(root):
        for name in names:
            p = os.path.join(d, name)
            with open(p, "rb") as f:
                found[os.path.relpath(p, root)] = (f.read(), stat.S_IMODE(os.stat(p).st_mode))
    return found


def _temps(root) -> list[str]:
    return [os.path.join(d, n) for d, dirs, names in os.walk(root)
            for n in names + dirs if TMP_MARK in n]


@pytest.fixture
def groups(monkeypatch):
    """How many groups of keys took the compiled route."""
    made: list[int] = []
    real = LocalStore.direct_writes

    def spy(self, keys):
        found = real(self, keys)
        if found is not None:
            made.append(len(keys))
        return found
    monkeypatch.setattr(LocalStore, "direct_writes", spy)
    return made


@pytest.mark.parametrize("fmt", [2, 3])
@pytest.mark.parametrize("codec", list(CODECS))
def test_whole_chunks_written_by_the_kernel(tmp_path, codec, fmt, groups, monkeypatch, fds_under):
    rng = np.random.default_rng(1)
    a = rng.random((96, 80))
    z = _create(tmp_path / "a", codec, fmt)
    python_writes = []
    real = LocalStore._write_atomic
    monkeypatch.setattr(LocalStore, "_write_atomic",
                        lambda self, key, parts: python_writes.append(key) or real(self, key, parts))
    z[...] = a
    assert sum(groups) == 15 and not [k for k in python_writes if "/c" in k or "." in k[:1]]
    np.testing.assert_array_equal(z[...].read(), a)
    z[...] = a + 1  # every chunk file replaced: the old ones go to the reaper
    np.testing.assert_array_equal(ez.open_array(str(tmp_path / "a"))[...].read(), a + 1)
    assert reaper.drain(10)
    assert fds_under(tmp_path) == []
    assert _temps(tmp_path) == []
    assert sum(groups) == 30


@pytest.mark.parametrize("codec", list(CODECS))
def test_same_files_as_the_python_path(tmp_path, codec, monkeypatch):
    a = np.random.default_rng(2).random((96, 80))
    a[:32, :16] = 0  # one chunk all fill_value: not stored
    _create(tmp_path / "kernel", codec)[...] = a
    monkeypatch.setattr(LocalStore, "writes_directly", False)
    _create(tmp_path / "python", codec)[...] = a
    kernel, python = _files(tmp_path / "kernel"), _files(tmp_path / "python")
    assert kernel == python
    assert "c/0/0" not in kernel and "c/0/1" in kernel


def test_chunks_rewritten_as_fill_are_deleted(tmp_path, groups):
    z = _create(tmp_path / "a", "zstd")
    z[...] = np.ones((96, 80))
    a = np.ones((96, 80))
    a[32:64] = 0
    z[...] = a
    np.testing.assert_array_equal(z[...].read(), a)
    left = sorted(_files(tmp_path / "a"))
    assert "c/1/0" not in left and "c/0/0" in left and "c/2/4" in left
    assert sum(groups) == 30


def test_a_failed_chunk_goes_the_checked_way_and_is_reported(tmp_path, groups):
    z = _create(tmp_path / "a", "raw")
    z[...] = np.zeros((96, 80)) + 3
    blocker = tmp_path / "a" / "c" / "1" / "2"
    os.unlink(blocker)
    os.makedirs(blocker / "x")  # a non-empty folder where the chunk's file goes
    with pytest.raises(StorageError, match="c/1/2"):
        z[...] = np.zeros((96, 80)) + 4
    assert groups  # the compiled route ran and gave up on that chunk
    assert _temps(tmp_path) == []
    assert (blocker / "x").is_dir()
    shutil.rmtree(blocker)
    z[...] = np.zeros((96, 80)) + 5
    np.testing.assert_array_equal(z[...].read(), np.zeros((96, 80)) + 5)


def test_a_folder_removed_under_the_kernel_is_made_again(tmp_path, monkeypatch):
    z = _create(tmp_path / "a", "blosc")
    a = np.random.default_rng(3).random((96, 80))
    z[...] = a
    real = LocalStore.direct_writes
    removed = []

    def racing(self, keys):  # a concurrent delete after the paths were made
        found = real(self, keys)
        parent = os.path.dirname(self._path(keys[0]))
        if not removed and os.path.isdir(parent):
            shutil.rmtree(parent)
            removed.append(parent)
        return found
    monkeypatch.setattr(LocalStore, "direct_writes", racing)
    python_writes = []
    write = LocalStore._write_atomic
    monkeypatch.setattr(LocalStore, "_write_atomic",
                        lambda self, key, parts: python_writes.append(key) or write(self, key, parts))
    with ez.config.set(threads=1):  # (no other writer in that folder while it goes)
        z[...] = a * 2
    assert removed and python_writes  # the kernel gave up on a chunk there: checked way
    np.testing.assert_array_equal(z[...].read(), a * 2)
    assert _temps(tmp_path) == []


def test_fsync_and_no_jit_take_the_python_path(tmp_path):
    assert LocalStore(str(tmp_path), fsync=True).writes_directly is False
    assert LocalStore(str(tmp_path), fsync=True).direct_writes(["c/0"]) is None
    with ez.config.set(jit=False):
        assert LocalStore(str(tmp_path)).writes_directly is False
    assert LocalStore(str(tmp_path)).writes_directly is True


def test_temporary_files_beside_the_target_outside_a_batch(tmp_path):
    store = LocalStore(str(tmp_path))
    found = store.direct_writes(["x/y/c0", "x/c1"])
    assert isinstance(found, DirectWrites)
    names = bytes(found.args[1]).split(b"\0")[:-1]
    temp0, target0, folder0, temp1, target1, folder1 = (os.fsdecode(n) for n in names)
    assert target0 == f"{tmp_path}/x/y/c0" and target1 == f"{tmp_path}/x/c1"
    assert folder0 == f"{tmp_path}/x/y" and folder1 == f"{tmp_path}/x"
    assert os.path.dirname(temp0) == f"{tmp_path}/x/y" and TMP_MARK in temp0
    assert os.path.dirname(temp1) == f"{tmp_path}/x" and TMP_MARK in temp1
    assert (tmp_path / "x" / "y").is_dir()  # folders made for the kernel
    found.finish()


# ------------------------------------------------------------------ the kernel's calls

@pytest.fixture(scope="module")
def write_one():
    """``write_one(temp, target, data)``: (result, status) of ``write_file``."""
    import numba

    from exzarr.kernels import file_write

    @numba.njit
    def call(fs, names, tmp, dst, folder, addr, size, status):
        return file_write.write_file(fs, names, tmp, dst, folder, addr, size, status)

    def run(temp, target, data: bytes, replacing: int = 0, unnamed: int = 0, fs=None):
        """(result, status[:3]) or, with ``unnamed``, (result, status)."""
        t, d = os.fsencode(str(temp)) + b"\0", os.fsencode(str(target)) + b"\0"
        f = os.fsencode(os.path.dirname(str(target))) + b"\0"
        names = np.frombuffer(bytearray(t + d + f), dtype=np.uint8)
        buf = np.frombuffer(bytearray(data), dtype=np.uint8)
        status = np.zeros(file_write.STATUS, dtype=np.int64)
        status[file_write.REPLACING] = replacing
        status[file_write.UNNAMED] = unnamed
        res = call(functions() if fs is None else fs, names, 0, len(t), len(t) + len(d),
                   buf.ctypes.data, len(data), status)
        return res, tuple(status.tolist()[:3 if not unnamed else None])
    return run


def test_write_file_new_and_replaced(tmp_path, write_one):
    from exzarr.kernels import file_write
    target = tmp_path / "f"
    assert write_one(tmp_path / "t1", target, b"new") == (-1, (0, 0, 0))
    assert target.read_bytes() == b"new" and not (tmp_path / "t1").exists()
    res, status = write_one(tmp_path / "t2", target, b"newer" * 1000)
    # the replaced file, still open for the caller; the hint: the next may replace one too
    assert res >= 0 and status == (0, 0, 1)
    try:
        assert os.pread(res, 10, 0) == b"new"
    finally:
        os.close(res)
    assert target.read_bytes() == b"newer" * 1000
    mode = stat.S_IMODE(os.stat(target).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
    assert file_write.OPEN != file_write.RENAME


def test_write_file_looks_for_the_old_file_first_while_replacing(tmp_path, write_one, fds_under):
    """With the hint on (the last file replaced one) the old file is opened before the
    rename; where there is none the usual route takes over and the hint goes off."""
    from exzarr.kernels import file_write
    target = tmp_path / "f"
    target.write_bytes(b"old")
    res, status = write_one(tmp_path / "t1", target, b"new", replacing=1)
    assert res >= 0 and status == (0, 0, 1)
    try:
        assert os.pread(res, 10, 0) == b"old"
    finally:
        os.close(res)
    assert target.read_bytes() == b"new" and not (tmp_path / "t1").exists()
    other = tmp_path / "g"
    assert write_one(tmp_path / "t2", other, b"first", replacing=1) == (-1, (0, 0, 0))
    assert other.read_bytes() == b"first" and not (tmp_path / "t2").exists()
    res, status = write_one(tmp_path / "t3", tmp_path / "gone" / "f", b"x", replacing=1)
    assert (res, status) == (-2, (file_write.RENAME, errno.ENOENT, 0))
    (tmp_path / "dir" / "sub").mkdir(parents=True)  # opens, but cannot be replaced
    res, status = write_one(tmp_path / "t4", tmp_path / "dir", b"x", replacing=1)
    assert res == -2 and status[0] == file_write.RENAME
    assert not (tmp_path / "t3").exists() and not (tmp_path / "t4").exists()
    assert (tmp_path / "dir" / "sub").is_dir()
    assert fds_under(tmp_path) == []  # the failed route closed what it opened


def test_a_rewrite_replaces_every_file_and_new_chunks_still_appear(tmp_path):
    """A rewrite (the hint on from the second file) and then a write that adds chunks
    where none were (the hint wrong: the usual route) give the right array."""
    a = _create(tmp_path / "a", "zstd")
    data = np.arange(96 * 80, dtype="f8").reshape(96, 80)
    a[:64] = data[:64]
    assert not (tmp_path / "a" / "c" / "2").exists()
    a[:64] = data[:64] + 1  # every file replaced
    a[:] = data * 2  # rows 0-63 replaced, rows 64-95 new
    assert np.array_equal(a[:], data * 2)
    assert not [p for p in (tmp_path / "a").rglob("*") if TMP_MARK in p.name]


def test_write_file_failures_leave_nothing(tmp_path, write_one):
    from exzarr.kernels import file_write
    (tmp_path / "busy").write_bytes(b"someone else's")
    res, status = write_one(tmp_path / "busy", tmp_path / "f", b"x")
    assert (res, status) == (-2, (file_write.OPEN, errno.EEXIST, 0))
    assert (tmp_path / "busy").read_bytes() == b"someone else's"  # not removed
    res, status = write_one(tmp_path / "t", tmp_path / "gone" / "f", b"x")
    assert (res, status) == (-2, (file_write.RENAME, errno.ENOENT, 0))
    assert not (tmp_path / "t").exists()
    (tmp_path / "dir" / "sub").mkdir(parents=True)
    res, status = write_one(tmp_path / "t", tmp_path / "dir", b"x")
    assert res == -2 and status[0] == file_write.RENAME
    assert not (tmp_path / "t").exists() and (tmp_path / "dir" / "sub").is_dir()


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
def test_write_file_short_and_failed_writes(tmp_path, write_one):
    from exzarr.kernels import file_write
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, hard))
    try:  # the first write stops at 1000 bytes, the next one fails (EFBIG)
        res, status = write_one(tmp_path / "t", tmp_path / "f", b"y" * 5000)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old)
    assert (res, status) == (-2, (file_write.WRITE, errno.EFBIG, 0))
    assert not (tmp_path / "t").exists() and not (tmp_path / "f").exists()
    assert sys.platform.startswith("linux")


# ------------------------------------------------- new files made unnamed, then linked

def test_links_unnamed_probe(tmp_path):
    from exzarr.storage.unnamed import links_unnamed
    probe = tmp_path / f"{TMP_MARK}probe"
    assert links_unnamed(str(tmp_path), str(probe)) is True  # (tmp_path: ext4 or tmpfs)
    assert os.listdir(tmp_path) == []  # the probe's file removed again
    (tmp_path / "f").write_bytes(b"")
    assert links_unnamed(str(tmp_path / "f"), str(probe)) is False  # not a folder
    assert links_unnamed(str(tmp_path / "gone"), str(tmp_path / "gone" / "p")) is False
    assert os.listdir(tmp_path) == ["f"]


def test_write_file_unnamed_new_file_needs_no_temporary_name(tmp_path, write_one):
    """A new file is made unnamed in its folder and linked into place: the temporary
    name (here in a folder that does not exist) is never used."""
    from exzarr.kernels import file_write
    target = tmp_path / "f"
    res, status = write_one(tmp_path / "none" / "t", target, b"new" * 100, unnamed=1)
    assert (res, status) == (-1, (0, 0, 0, 1))
    assert target.read_bytes() == b"new" * 100
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o666 & ~umask  # as a named one's
    assert os.listdir(tmp_path) == ["f"]
    assert file_write.LINK not in (file_write.OPEN, file_write.RENAME)


def test_write_file_unnamed_replaces_through_the_temporary_name(tmp_path, write_one, fds_under):
    """A file is there: the unnamed file is linked under the temporary name and renamed
    onto it (atomic replacement), the old file handed back, the hint turned on."""
    target = tmp_path / "f"
    target.write_bytes(b"old")
    res, status = write_one(tmp_path / "t", target, b"new", unnamed=1)
    assert res >= 0 and status == (0, 0, 1, 1)
    try:
        assert os.pread(res, 10, 0) == b"old"
    finally:
        os.close(res)
    assert target.read_bytes() == b"new" and sorted(os.listdir(tmp_path)) == ["f"]
    assert fds_under(tmp_path) == []
    # with the hint on the next file goes the named way at once (nothing unnamed made)
    res, status = write_one(tmp_path / "t2", target, b"newer", replacing=1, unnamed=1)
    assert res >= 0 and status == (0, 0, 1, 1)
    os.close(res)
    assert target.read_bytes() == b"newer"


def test_write_file_unnamed_failures_leave_nothing(tmp_path, write_one, fds_under):
    from exzarr.kernels import file_write
    # the folder is gone: the open fails (the checked way then says so)
    res, status = write_one(tmp_path / "t", tmp_path / "gone" / "f", b"x", unnamed=1)
    assert (res, status) == (-2, (file_write.OPEN, errno.ENOENT, 0, 1))
    # a file is there and the temporary name cannot be made: nothing linked anywhere
    (tmp_path / "f").write_bytes(b"old")
    res, status = write_one(tmp_path / "none" / "t", tmp_path / "f", b"x", unnamed=1)
    assert (res, status) == (-2, (file_write.LINK, errno.ENOENT, 0, 1))
    assert (tmp_path / "f").read_bytes() == b"old"
    # a folder where the file goes: linked under the temporary name, the rename fails,
    # the temporary name removed again
    (tmp_path / "dir" / "sub").mkdir(parents=True)
    res, status = write_one(tmp_path / "t", tmp_path / "dir", b"x", unnamed=1)
    assert res == -2 and status[0] == file_write.RENAME
    assert sorted(os.listdir(tmp_path)) == ["dir", "f"] and (tmp_path / "dir" / "sub").is_dir()
    assert fds_under(tmp_path) == []


def test_write_file_unnamed_refused_goes_the_named_way(tmp_path, write_one):
    """A file system without ``O_TMPFILE`` (its refusal imitated: the flags without it
    make the open of a folder fail with EISDIR, as an old kernel's does): the named
    route writes the file, and the group stops trying."""
    from exzarr.kernels import file_write
    fs = functions().copy()
    fs[10] = os.O_WRONLY | os.O_DIRECTORY | os.O_CLOEXEC
    res, status = write_one(tmp_path / "t", tmp_path / "f", b"named", unnamed=1, fs=fs)
    assert (res, status) == (-1, (0, 0, 0, 0))
    assert (tmp_path / "f").read_bytes() == b"named" and os.listdir(tmp_path) == ["f"]
    assert file_write.UNNAMED == 3


def test_array_writes_link_new_chunks_unnamed(tmp_path, monkeypatch, groups):
    """The store found that its file system links unnamed files: a write of new whole
    chunks names no temporary file at all (the temporary names here point into a folder
    that does not exist, so any named route would fail); rewrites still replace through
    them."""
    import exzarr.storage.local as local
    a = np.random.default_rng(4).random((96, 80))
    z = _create(tmp_path / "a", "raw")  # (a frame larger than its room goes per chunk)
    monkeypatch.setattr(local, "_temp_path",
                        lambda folder, parent, name: f"{tmp_path}/none/{TMP_MARK}{name}")
    monkeypatch.setattr(local, "links_unnamed", lambda folder, probe: True)
    z[...] = a
    assert sum(groups) == 15
    assert z.store._unnamed is True
    np.testing.assert_array_equal(ez.open_array(str(tmp_path / "a"))[...].read(), a)
    assert _temps(tmp_path) == []


def test_store_without_unnamed_files_writes_named(tmp_path, monkeypatch, groups):
    import exzarr.storage.local as local
    monkeypatch.setattr(local, "links_unnamed", lambda folder, probe: False)
    a = np.random.default_rng(5).random((96, 80))
    z = _create(tmp_path / "a", "blosc")
    z[...] = a
    assert z.store._unnamed is False and sum(groups) == 15
    np.testing.assert_array_equal(z[...].read(), a)
    assert _temps(tmp_path) == []


def test_the_replacing_hint_carries_within_one_store_only(tmp_path):
    """The hint that the files replace existing ones goes from one group of a store to
    the next on the same thread, not to another store's groups (whose files are new)."""
    from exzarr.kernels.file_write import REPLACING
    fs = functions()
    first = DirectWrites(fs, [str(tmp_path / "t")], [str(tmp_path / "f")], scope="A")
    first.args[4][REPLACING] = 1  # as after a rewrite
    first.finish()
    same = DirectWrites(fs, [str(tmp_path / "t")], [str(tmp_path / "f")], scope="A")
    other = DirectWrites(fs, [str(tmp_path / "t")], [str(tmp_path / "f")], scope="B")
    assert same.args[4][REPLACING] == 1 and other.args[4][REPLACING] == 0
    other.finish()
    same.finish()
