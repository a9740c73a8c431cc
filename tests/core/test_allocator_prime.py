"""exzarr primes glibc's adaptive mmap threshold once, so a codec's per-chunk output
(allocated at its worst-case size, shrunk, freed) is reused from the heap instead of
being a fresh mapping whose pages fault in again for every chunk.  Page faults are
counted (getrusage), not timed."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(platform.system() != "Linux" or
                                platform.libc_ver()[0] != "glibc", reason="glibc only")

SCRIPT = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from numcodecs import Zstd
    if sys.argv[1] == "prime":
        from exzarr.array.allocator import prime
        prime()
    chunk = np.random.default_rng(0).standard_normal(1 << 20)   # 8 MiB, ~7.5 MiB zstd'd
    codec = Zstd(level=1)
    codec.encode(chunk)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        out = codec.encode(chunk)
        del out
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True,
                         check=True, env={"NUMPY_MADVISE_HUGEPAGE": "0", "PATH": ""})
    return int(out.stdout.strip())


def test_primed_allocator_reuses_codec_output_buffers():
    plain, primed = _faults("plain"), _faults("prime")
    pages = 20 * (7 << 20) // 4096                     # what 20 fresh outputs would fault
    assert plain > pages // 2, plain                    # the churn exists without priming
    assert primed < pages // 10, (plain, primed)        # and is gone with it


def test_prime_is_idempotent_and_exzarr_writes_prime():
    code = textwrap.dedent("""
        import exzarr as ez, numpy as np
        from exzarr.array import allocator
        assert not allocator._done
        z = ez.create("memory://prime", shape=(4,), chunks=(2,), dtype="f8")
        z[:] = np.arange(4.0)
        assert allocator._done
        allocator.prime(); allocator.prime()
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
