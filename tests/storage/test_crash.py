"""kill -9 crash tests: a writer process is SIGKILLed at random moments mid-write.

For each store (local; local with all chunks in one write, which puts its temporary files
in a folder per thread in the array's directory; sharded on local, SQLite, zip) several
writers run at once, each on its own store holding an array whose chunks were all
committed (generation 0) before the writer started.  A writer rewrites the chunks over
and over, each chunk filled with one value ``generation * 1000 + chunk``, and reports on
stdout what is committed: every chunk write on local/sharded/SQLite ("chunk
generation"), every whole write of the batch writer and every ``flush()`` on zip ("all
generation").  After the kill the store must open and read, and

* no chunk is torn: each chunk holds one value, and that value belongs to the chunk;
* no committed data is lost: each chunk holds the generation last reported for it, or
  the next one (the write in flight when the kill came may or may not have landed);
* zip: the archive is the one of the last flush or of the next one, as a whole.

Temporary files that killed writers leave are reported (``temp_files``) and removed by
the next writer once they are old.  ``pytest -s`` prints the figures of each store.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import exzarr as ez
from exzarr.storage import LocalStore, ZipStore, tempfiles
from exzarr.storage.tempfiles import TMP_MARK

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

NCHUNKS = 8
CHUNK = 65_536                # int32 items: 256 KiB per chunk, uncompressed
TRIALS = {"local": 12, "batch": 12, "sharded": 12, "sqlite": 12, "zip": 20}
KILL_AFTER = (0.005, 0.45)    # seconds after the writer's first write

# One process imports exzarr once and forks a writer per trial (a fresh interpreter per
# trial would spend a second or more importing): lines "kind<TAB>target<TAB>log" on its
# stdin, the writer's pid on its stdout.  Nothing in it starts a thread before forking.
ZYGOTE = r"""
import os, signal, sys
import exzarr as ez
from exzarr.storage import ZipStore

signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel


def write(kind, target, log, chunk, nchunks):
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def say(line):  # one write(2) per line: a line is whole or absent
        os.write(fd, (line + "\n").encode())

    store = ZipStore(target, mode="a") if kind == "zip" else target
    z = ez.open(store, mode="r+")
    warm = ez.create("memory://warm-up", shape=(chunk,), chunks=(chunk,), dtype="i4")
    warm[:] = 1  # the first write of a process sets up its codecs: not part of the trial
    say("ready")
    g = 1
    if kind == "batch":  # every chunk in one write: a write batch (a folder per thread)
        import numpy as np
        ids = np.repeat(np.arange(nchunks, dtype="i4"), chunk)
        while True:
            z[:] = g * 1000 + ids
            say(f"all {g}")
            g += 1
    while True:
        for i in range(nchunks):
            z[i * chunk:(i + 1) * chunk] = g * 1000 + i
            if kind != "zip":
                say(f"{i} {g}")
        if kind == "zip":
            store.flush()
            say(f"all {g}")
        g += 1


for line in sys.stdin:
    kind, target, log, chunk, nchunks = line.rstrip("\n").split("\t")
    pid = os.fork()
    if pid == 0:
        try:
            write(kind, target, log, int(chunk), int(nchunks))
        finally:
            os._exit(1)
    print(pid, flush=True)
"""


@pytest.fixture(scope="module")
def zygote():
    p = subprocess.Popen([sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, env={**os.environ, "EXZARR_JIT": "0"})
    yield p
    p.stdin.close()
    p.wait(timeout=30)


def _spawn(zygote, kind: str, target: str, log: Path) -> int:
    zygote.stdin.write(f"{kind}\t{target}\t{log}\t{CHUNK}\t{NCHUNKS}\n")
    zygote.stdin.flush()
    return int(zygote.stdout.readline())


def _wait_for(cond, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


def _dead(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _target(kind: str, d: Path) -> str:
    return {"local": str(d / "a.zarr"), "batch": str(d / "b.zarr"),
            "sharded": str(d / "s.zarr"),
            "sqlite": "sqlite://" + str(d / "a.db"), "zip": str(d / "a.zip")}[kind]


def _create(kind: str, target: str) -> None:
    """The array, every chunk committed at generation 0."""
    store = ZipStore(target, mode="w") if kind == "zip" else target
    extra = {"shards": (4 * CHUNK,)} if kind == "sharded" else {}
    z = ez.create(store, shape=(NCHUNKS * CHUNK,), chunks=(CHUNK,), dtype="i4",
                  compressor=None, **extra)
    for i in range(NCHUNKS):
        z[i * CHUNK:(i + 1) * CHUNK] = i
    if kind == "zip":
        store.set("padding", os.urandom(1 << 20))  # a bigger archive: slower copy and flush
        store.close()
    elif kind == "sqlite":
        z.store.close()


@dataclass
class Outcome:
    kind: str
    trials: int = 0
    lost: int = 0             # chunks holding less than what was committed before the kill
    torn: int = 0             # chunks mixing values (or holding another chunk's value)
    unreadable: int = 0       # stores that failed to open or read
    new_landed: int = 0       # in-flight writes (zip: flushes) that landed before the kill
    leftovers: int = 0        # temporary files found after the kill
    in_folders: int = 0       # of which in a temporary folder (a write batch's)
    committed: list[int] = field(default_factory=list)  # writes committed per trial


def _check(kind: str, target: str, lines: list[str], out: Outcome) -> None:
    committed = [0] * NCHUNKS
    for line in lines:
        parts = line.split()
        if len(parts) != 2:
            continue
        if parts[0] == "all":
            committed = [int(parts[1])] * NCHUNKS
        else:
            committed[int(parts[0])] = int(parts[1])
    out.committed.append(sum(committed) if kind != "zip" else committed[0])
    try:
        store = ZipStore(target, mode="r") if kind == "zip" else target
        data = ez.open(store, mode="r")[:].read()
        if kind == "zip":
            store.close()
    except Exception as e:  # counted and reported below: the store must open and read
        out.unreadable += 1
        print(f"{kind}: unreadable after kill: {type(e).__name__}: {e}")
        return
    gens = []
    for i in range(NCHUNKS):
        c = data[i * CHUNK:(i + 1) * CHUNK]
        v = int(c[0])
        if not (c == v).all() or v % 1000 != i:
            out.torn += 1
            print(f"{kind}: torn chunk {i} in {target}: values {np.unique(c)[:10]}")
            continue
        gens.append(v // 1000)
        if gens[-1] < committed[i]:
            out.lost += 1
        elif gens[-1] not in (committed[i], committed[i] + 1):  # never written by then
            out.torn += 1
            print(f"{kind}: chunk {i} in {target} holds generation {gens[-1]}, "
                  f"committed {committed[i]}")
    landed = [g == c + 1 for g, c in zip(gens, committed)]
    if kind == "zip":
        if len(set(gens)) > 1:
            out.torn += 1  # the archive must be one flush's state as a whole
        out.new_landed += any(landed)
    else:
        out.new_landed += sum(landed)


def _leftovers(kind: str, target: str) -> list:
    if kind == "zip":
        return ZipStore(target, mode="r").temp_files()
    if kind == "sqlite":
        return []
    return LocalStore(target, read_only=True).temp_files()


def _run_trials(zygote, kind: str, base: Path, rng: random.Random) -> Outcome:
    out = Outcome(kind)
    for t in range(TRIALS[kind]):
        d = base / f"{kind}{t}"
        d.mkdir()
        target = _target(kind, d)
        _create(kind, target)
        log = d / "log"
        pid = _spawn(zygote, kind, target, log)
        _wait_for(lambda: log.exists() and log.read_text().startswith("ready"),
                  f"writer {pid} to start")
        time.sleep(rng.uniform(*KILL_AFTER))
        os.kill(pid, signal.SIGKILL)
        _wait_for(lambda: _dead(pid), f"writer {pid} to die")
        out.trials += 1
        _check(kind, target, log.read_text().splitlines()[1:], out)
        left = _leftovers(kind, target)
        out.leftovers += len(left)
        out.in_folders += sum(TMP_MARK in os.path.basename(os.path.dirname(t.path))
                              for t in left)
    return out


@pytest.mark.parametrize("kind", ["local", "batch", "sharded", "sqlite", "zip"])
def test_kill_9_loses_no_committed_data(zygote, kind, tmp_path):
    rng = random.Random(f"crash-{kind}-{os.getpid()}-{time.time()}")
    out = _run_trials(zygote, kind, tmp_path, rng)
    print(f"\n{kind}: {out.trials} trials, {sum(out.committed)} committed writes "
          f"(per trial {out.committed}), lost {out.lost}, torn {out.torn}, unreadable "
          f"{out.unreadable}, in-flight writes that landed {out.new_landed}, "
          f"temporary files left {out.leftovers} ({out.in_folders} in a folder)")
    assert out.trials == TRIALS[kind]
    assert (out.lost, out.torn, out.unreadable) == (0, 0, 0), out
    assert sum(out.committed) > 0, "no writer committed anything before its kill"
    # a write of every chunk puts its temporary files in folders; one chunk at a time not
    assert out.in_folders == (out.leftovers if kind == "batch" else 0), out


def _age(paths, seconds: float) -> None:
    old = time.time() - seconds
    for p in paths:
        os.utime(p, (old, old))


def test_local_leftovers_removed_by_next_write(tmp_path):
    """A writer killed mid-write leaves its temporary file; the next write to that folder
    removes it once it is an hour old (younger ones may be writes in progress)."""
    root = tmp_path / "a.zarr"
    s = LocalStore(root)
    (root / "c").mkdir(parents=True)
    young = root / "c" / ".exzarr-tmp-0.999.1.0"
    old = root / "c" / ".exzarr-tmp-1.999.1.1"
    young.write_bytes(b"partial")
    old.write_bytes(b"partial")
    _age([old], 2 * 3600)
    assert [(os.path.basename(t.path), t.stale) for t in s.temp_files()] == [
        (young.name, False), (old.name, True)]
    assert list(s.list()) == []
    s.set("c/0", b"x")  # the first write to c/ in this process sweeps it
    assert young.exists() and not old.exists()
    old.write_bytes(b"partial")
    _age([old], 2 * 3600)
    s.set("c/1", b"y")  # later writes do not list the folder again (within the hour)
    assert old.exists()
    tempfiles._swept.clear()  # as an hour later
    LocalStore(root).set("c/2", b"z")
    assert young.exists() and not old.exists()
    assert sorted(s.list()) == ["c/0", "c/1", "c/2"]
    assert s.remove_temp_files(max_age=0) == [str(young)]
    assert s.temp_files() == []


def test_zip_leftovers_of_dead_writers_removed(tmp_path):
    p = tmp_path / "a.zip"
    with ZipStore(p, mode="w") as s:
        s.set("k", b"1")
    code = ("import os, signal\nfrom exzarr.storage import ZipStore\n"
            f"s = ZipStore({str(p)!r}, mode='a')\ns.set('j', b'2')\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    subprocess.run([sys.executable, "-c", code], check=False)
    with ZipStore(p) as r:
        left = r.temp_files()
        assert len(left) == 1 and not left[0].stale
        assert sorted(r.list()) == ["k"]  # the uncommitted write is not there
    with ZipStore(p, mode="a") as s:  # younger than an hour: kept
        assert len(s.temp_files()) == 1
    _age([left[0].path], 2 * 3600)
    with ZipStore(p, mode="a") as s:  # its process is gone and it is old: removed
        assert s.temp_files() == []
        assert s.get("k") == b"1"


def test_verify_reports_leftovers(tmp_path):
    from exzarr.tools.verify import leftover_temp_files

    z = ez.create(str(tmp_path / "v.zarr"), shape=(4,), chunks=(2,), dtype="i4")
    z[:] = 1
    t = tmp_path / "v.zarr" / "c" / ".exzarr-tmp-0.1.2.3"
    t.write_bytes(b"abc")
    found = leftover_temp_files(z)
    assert [(x.path, x.size) for x in found] == [(str(t), 3)]
    exe = Path(sys.executable).with_name("exzarr")
    p = subprocess.run([str(exe), "verify", str(tmp_path / "v.zarr")], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"leftover {t} (3 bytes" in p.stdout
    assert "1 leftover temporary file(s)" in p.stdout


# ------------------------------------- whole writes of new chunks by the compiled route

# A zygote with compiled kernels on: it compiles (or loads) the whole-chunk write kernels
# once, on one thread (no pool before the fork), and forks a writer per trial that writes
# one new array after another, each in one write of every chunk on two threads.
FRESH_ZYGOTE = r"""
import os, signal, sys
import numpy as np
import exzarr as ez

signal.signal(signal.SIGCHLD, signal.SIG_IGN)
with ez.config.set(threads=1):  # the kernels ready before any fork
    w = ez.create(sys.argv[1], shape=(4, 64), chunks=(2, 64), dtype="i4", compressors=None)
    w[...] = np.arange(256, dtype="i4").reshape(4, 64)


def write(root, log, chunk, nchunks):
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def say(line):
        os.write(fd, (line + "\n").encode())

    ids = np.repeat(np.arange(nchunks, dtype="i4"), chunk).reshape(nchunks, chunk)
    say("ready")
    g = 1
    while True:
        z = ez.create(f"{root}/g{g}", shape=(nchunks, chunk), chunks=(1, chunk), dtype="i4",
                      compressors=None)
        z[...] = g * 1000 + ids
        say(f"all {g} {z.store._unnamed}")
        g += 1


for line in sys.stdin:
    root, log, chunk, nchunks = line.rstrip("\n").split("\t")
    pid = os.fork()
    if pid == 0:
        try:
            write(root, log, int(chunk), int(nchunks))
        finally:
            os._exit(1)
    print(pid, flush=True)
"""

FRESH_TRIALS = 8


def _may_be_left(f, array: str) -> bool:
    """Whether a temporary file left by a writer killed while it wrote ``array`` is one
    of the two named ones it may leave (see the test below)."""
    folder, name = os.path.dirname(f.path), os.path.basename(f.path)
    if name.startswith(f"{TMP_MARK}zarr.json."):
        return folder == array
    return (name.startswith(f"{TMP_MARK}probe.") and f.size == 0
            and (folder + os.sep).startswith(array + os.sep))


def test_kill_9_during_compiled_writes_of_new_chunks_leaves_nothing(tmp_path):
    """New chunks written by the compiled route are unnamed files linked into place
    where the file system allows it: a writer killed mid-write leaves each chunk of the
    array in flight whole or absent, every array it reported complete, and no chunk's
    temporary file (at most the named one of the metadata of the array in flight)."""
    from exzarr.storage.direct_writes import functions
    from exzarr.storage.unnamed import links_unnamed
    if functions() is None:
        pytest.skip("compiled file writes: Linux with Numba only")
    unnamed = links_unnamed(str(tmp_path), str(tmp_path / f"{TMP_MARK}probe"))
    p = subprocess.Popen([sys.executable, "-c", FRESH_ZYGOTE, str(tmp_path / "warm")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                         env={**os.environ, "EXZARR_JIT": "1"})
    rng = random.Random(f"crash-fresh-{os.getpid()}-{time.time()}")
    complete = in_flight = whole_in_flight = 0
    try:
        for t in range(FRESH_TRIALS):
            root, log = tmp_path / f"t{t}", tmp_path / f"t{t}.log"
            root.mkdir()
            p.stdin.write(f"{root}\t{log}\t{CHUNK}\t{NCHUNKS}\n")
            p.stdin.flush()
            pid = int(p.stdout.readline())
            _wait_for(lambda: log.exists() and log.read_text().startswith("ready"),
                      f"writer {pid} to start", timeout=60)
            time.sleep(rng.uniform(0.02, 0.3))
            os.kill(pid, signal.SIGKILL)
            _wait_for(lambda: _dead(pid), f"writer {pid} to die")
            done = [line.split() for line in log.read_text().splitlines()[1:]]
            assert all(d[2] == str(unnamed) for d in done)  # the store's own probe agrees
            ids = np.repeat(np.arange(NCHUNKS, dtype="i4"), CHUNK).reshape(NCHUNKS, CHUNK)
            for g in range(1, len(done) + 1):
                got = ez.open(str(root / f"g{g}"), mode="r")[...].read()
                np.testing.assert_array_equal(got, g * 1000 + ids)
            complete += len(done)
            nxt = root / f"g{len(done) + 1}"
            if (nxt / "zarr.json").exists():  # the array in flight: chunks whole or absent
                got = ez.open(str(nxt), mode="r")[...].read()
                for i in range(NCHUNKS):
                    assert np.unique(got[i]).tolist() in ([0], [(len(done) + 1) * 1000 + i])
                in_flight += 1
                whole_in_flight += sum(int(got[i, 0] != 0) for i in range(NCHUNKS))
            if unnamed:
                # no chunk's temporary file. Two named ones may be left by a kill in the
                # array in flight, both removed by the store's sweep later: its metadata
                # (written by Python through a named temporary file renamed into place,
                # as it may replace a file) and the store's one-time probe for unnamed
                # files (an empty file linked and unlinked again in a chunk folder)
                left = LocalStore(str(root), read_only=True).temp_files()
                assert all(_may_be_left(f, str(nxt)) for f in left), left
    finally:
        p.stdin.close()
        p.wait(timeout=30)
    print(f"\nfresh: {FRESH_TRIALS} trials, {complete} arrays complete, {in_flight} in flight "
          f"({whole_in_flight} of their chunks landed), unnamed files: {unnamed}")
    assert complete > 0
