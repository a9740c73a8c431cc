"""The benchmark scripts run by hand use the Makefile's Numba cache folder: the same key
over the kernels' sources (benchmarks/numba_cache.py against the Makefile's KERNELS_KEY),
so neither can run a kernel compiled against an edited helper."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from numba_cache import numba_cache_dir, use_numba_cache  # noqa: E402


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_benchmarks_use_the_makefiles_folder():
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "MAKEFLAGS",
                                                           "MFLAGS", "MAKELEVEL")}
    made = subprocess.run(["make", "-s", "--no-print-directory", "numba-cache-dir"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert made.stdout.strip() == numba_cache_dir()


def test_the_key_follows_the_kernels(tmp_path):
    kernels = tmp_path / "src" / "exzarr" / "kernels"
    kernels.mkdir(parents=True)
    (kernels / "a.py").write_text("x = 1\n")
    (kernels / "b_c.py").write_text("y = 2\n")
    first = numba_cache_dir(tmp_path)
    assert first == numba_cache_dir(tmp_path)
    (kernels / "b_c.py").write_text("y = 3\n")  # a helper edited: another folder
    assert numba_cache_dir(tmp_path) != first
    env = {"NUMBA_CACHE_DIR": "/elsewhere"}
    use_numba_cache(env)  # a folder already chosen is kept
    assert env == {"NUMBA_CACHE_DIR": "/elsewhere"}
    env = {}
    use_numba_cache(env)
    assert env["NUMBA_CACHE_DIR"] == numba_cache_dir()
