"""benchmarks/fsplace.py: the benchmark's folder gets the top-folder flag where the file
system keeps it, and says so; elsewhere it says the folders are placed as usual."""

import fcntl
import os
import struct
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import fsplace  # noqa: E402

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux file flags")


def _flags(folder) -> int | None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        buf = bytearray(4)
        fcntl.ioctl(fd, fsplace.FS_IOC_GETFLAGS, buf)
        return struct.unpack("I", buf)[0]
    except OSError:
        return None
    finally:
        os.close(fd)


@pytest.mark.parametrize("parent", [None, "/dev/shm"])
def test_the_report_says_what_the_file_system_kept(tmp_path, parent):
    if parent is not None:
        if not os.path.isdir(parent):
            pytest.skip(f"no {parent}")
        folder = Path(parent) / f"fsplace-{os.getpid()}"
        folder.mkdir()
    else:
        folder = tmp_path / "bench"
        folder.mkdir()
    try:
        before = _flags(folder)
        said = fsplace.spread_children(str(folder))
        after = _flags(folder)
        if after is not None and after & fsplace.FS_TOPDIR_FL:
            assert said.startswith("engines' folders spread")
            assert after == (before or 0) | fsplace.FS_TOPDIR_FL  # nothing else changed
        else:
            assert said.endswith("placed as usual") and after == before
    finally:
        folder.rmdir()
