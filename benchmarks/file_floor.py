"""The file system's floor under uncompressed local writes (raw.write): the same bytes
written as many files, three ways, with no array library in between.

    python benchmarks/file_floor.py                    # 256 files of 1 MiB, 12 runs each
    python benchmarks/file_floor.py --threads 2 --runs 20 --dir /some/disk

Each run writes ``--files`` files of ``--size`` bytes into a new folder (flushed with
``os.sync`` first, removed after), one way per run, the ways taking turns:

- ``in place``: ``open(O_CREAT | O_TRUNC)``, write, close (what a library without atomic
  chunk writes does: zarrs' filesystem store);
- ``renamed``: written under a temporary name (``O_EXCL``), closed, renamed onto the name
  (atomic; tensorstore's and zarr-python's way);
- ``unnamed``: ``O_TMPFILE`` in the folder, written, linked into place through
  ``/proc/self/fd`` (atomic; exzarr's way for a new chunk where the file system allows
  it), skipped where the file system refuses it.

The per-file cost left is the kernel's (page cache, inode, directory entry): what
raw.write's engines all pay.  A diagnostic, not a test: no timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable

FLAGS = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)


def _in_place(folder: str, name: str, data: bytes) -> None:
    fd = os.open(os.path.join(folder, name), FLAGS | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _renamed(folder: str, name: str, data: bytes) -> None:
    tmp = os.path.join(folder, f".{name}.tmp")
    fd = os.open(tmp, FLAGS | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.rename(tmp, os.path.join(folder, name))


def _unnamed(folder: str, name: str, data: bytes) -> None:
    fd = os.open(folder, FLAGS | os.O_TMPFILE, 0o666)
    try:
        os.write(fd, data)
        # linkat(AT_SYMLINK_FOLLOW) of /proc/self/fd/<fd>, as storage/unnamed.py does it
        # (os.link calls link(), which does not follow the link, unless given a folder's fd)
        os.link(str(fd), os.path.join(folder, name), src_dir_fd=_proc_fds(),
                follow_symlinks=True)
    finally:
        os.close(fd)


@functools.cache
def _proc_fds() -> int:
    """A descriptor of ``/proc/self/fd``, opened once for the process."""
    return os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))


WAYS: dict[str, Callable[[str, str, bytes], None]] = {
    "in place": _in_place, "renamed": _renamed, "unnamed": _unnamed}


def _unnamed_works(parent: str) -> bool:
    folder = tempfile.mkdtemp(dir=parent)
    try:
        _unnamed(folder, "probe", b"x")
        return True
    except (OSError, AttributeError):
        return False
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write_all(way, folder: str, nfiles: int, data: bytes, threads: int) -> None:
    """Write the files, ``threads`` threads taking the next file number in turn."""
    counter = iter(range(nfiles))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                way(folder, str(i), data)
        except BaseException as exc:  # noqa: BLE001 - re-raised by the caller below
            errors.append(exc)
    helpers = [threading.Thread(target=work) for _ in range(threads - 1)]
    for t in helpers:
        t.start()
    work()
    for t in helpers:
        t.join()
    if errors:
        raise errors[0]


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=256)
    ap.add_argument("--size", type=int, default=1 << 20, help="bytes per file")
    ap.add_argument("--runs", type=int, default=12, help="runs of each way")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dir", default=None, help="parent folder (default: the temp dir)")
    a = ap.parse_args(argv)
    parent = tempfile.mkdtemp(prefix="file-floor-", dir=a.dir)
    try:
        ways = dict(WAYS)
        if not _unnamed_works(parent):
            del ways["unnamed"]
        data = os.urandom(a.size)
        times: dict[str, list[float]] = {w: [] for w in ways}
        names = list(ways)
        for k in range(a.runs):
            for w in (names if k % 2 == 0 else names[::-1]):
                folder = os.path.join(parent, f"{k}-{w.replace(' ', '-')}")
                os.mkdir(folder)
                os.sync()
                t0 = time.perf_counter()
                _write_all(ways[w], folder, a.files, data, a.threads)
                times[w].append(time.perf_counter() - t0)
                if sorted(os.listdir(folder)) != sorted(map(str, range(a.files))):
                    raise SystemExit(f"{w}: the folder does not hold exactly the files written")
                shutil.rmtree(folder)
        print(f"{a.files} files of {a.size} bytes, {a.threads} thread(s), {a.runs} runs "
              f"of each way, taking turns, in {parent}")
        base = statistics.median(times["in place"])
        for w, ts in times.items():
            med = statistics.median(ts)
            print(f"  {w:9s} best {min(ts) * 1e3:8.2f} ms   median {med * 1e3:8.2f} ms   "
                  f"per file {med / a.files * 1e6:7.1f} us   median / in place {med / base:.3f}")
        return times
    finally:
        shutil.rmtree(parent, ignore_errors=True)


if __name__ == "__main__":
    main()
