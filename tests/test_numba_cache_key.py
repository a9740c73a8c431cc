"""The benchmark scripts run by hand use the Makefile's Numba cache folder: the same key
over the kernels' sources (benchmarks/numba_cache.py against the Makefile's KERNELS_KEY),
so neither can run a kernel compiled against an edited helper."""

from __future__ import annotations

import json
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


PROBE = """
import json
from numba.core import config
from exzarr.kernels import jit
import kern
disp = jit._compile(kern.f)
assert disp(20) == 210
print(json.dumps({"path": disp._cache.cache_path, "after": config.CACHE_DIR,
                  "keyed": jit.kernel_cache_dir()}))
"""


def _probe(tmp_path, numba_cache_dir=None):
    (tmp_path / "kern.py").write_text("def f(n):\n    s = 0\n    for i in range(n + 1):\n"
                                      "        s += i\n    return s\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "user-cache")
    if numba_cache_dir:
        env["NUMBA_CACHE_DIR"] = numba_cache_dir
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT / "src")])
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_kernels_are_cached_by_the_kernels_key(tmp_path):
    """Without NUMBA_CACHE_DIR a kernel's cache lies in a folder named by the hash of the
    kernels' sources (an edited helper then never meets machine code compiled against
    its old self), Numba's setting is put back afterwards, and the key is the
    Makefile's."""
    pytest.importorskip("numba")
    from exzarr.kernels.jit import kernels_key
    got = _probe(tmp_path)
    assert got["keyed"] is not None
    assert got["keyed"].endswith("numba-" + kernels_key())
    assert got["path"].startswith(got["keyed"] + os.sep)
    assert got["after"] == ""
    assert os.path.basename(numba_cache_dir()) == kernels_key()


def test_a_users_numba_cache_dir_is_kept(tmp_path):
    pytest.importorskip("numba")
    mine = str(tmp_path / "mine")
    got = _probe(tmp_path, mine)
    assert got["path"].startswith(mine + os.sep)
    assert got["after"] == mine
