"""Software prefetch hints (kernels/prefetch): compiled into prefetch instructions, never
a fault, and the gathers and scatters that use them give the same bytes."""

import platform

import numpy as np
import pytest

from exzarr import config
from exzarr.kernels import jit

pytestmark = pytest.mark.skipif(not jit.numba_available() or not config.get().jit,
                                reason="needs Numba with JIT on")


@pytest.fixture(scope="module")
def pf():
    from exzarr.kernels import prefetch
    return prefetch


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                    reason="checks x86-64 instructions")
def test_hints_compile_to_prefetch_instructions(pf):
    import numba

    @numba.njit
    def hint(addr):
        pf.prefetch(addr)
        pf.prefetch_write(addr + 64)

    hint(0)
    asm = hint.inspect_asm(hint.signatures[0])
    lines = [line.strip() for line in asm.splitlines() if "prefetch" in line]
    assert any(line.startswith("prefetcht0") for line in lines), lines
    assert len(lines) >= 2, lines  # the write hint too (prefetchw where the CPU has it)


def test_hints_at_any_address_never_fault(pf):
    import numba

    @numba.njit
    def ask(rows, buf):
        at, n = rows.ctypes.data, rows.shape[0]
        pf.prefetch_rows(0, at, n, 0, n, 1 << 20)  # unmapped addresses
        pf.prefetch_rows(buf.ctypes.data, at, n, 5, 100, 64)  # rows past the last one
        for r in range(n):
            pf.prefetch_ahead(buf.ctypes.data, at, n, r, 64)
        pf.prefetch_for_write(0, 1 << 20)
        pf.prefetch_for_write(buf.ctypes.data + buf.shape[0], 4096)  # past the end
        return buf.sum()

    buf = np.arange(256, dtype=np.uint8)
    rows = np.array([0, 64, 128, 1 << 40, -(1 << 20)], dtype=np.int64)
    assert ask(rows, buf) == np.arange(256, dtype=np.uint8).sum()
    assert np.array_equal(buf, np.arange(256, dtype=np.uint8))


def test_prefetch_spans_are_capped(pf):
    assert pf.SPAN % pf.LINE == 0 and pf.AHEAD >= 1


@pytest.mark.parametrize("typesize", [2, 4, 8])
def test_gather_shuffle_with_prefetch_matches_numpy(typesize):
    """The fused gather + shuffle (which prefetches the rows ahead) against NumPy, on a
    chunk of a wider source whose rows cross block boundaries."""
    import numba

    from exzarr.codecs.blosc_preshuffle import shuffle_blocks
    from exzarr.kernels.shuffle import gather_shuffle

    rng = np.random.default_rng(typesize)
    dtype = np.dtype(f"<u{typesize}")
    src = rng.integers(0, 2 ** (8 * typesize) - 1, size=(64, 300), dtype=dtype)
    r0, c0, nr, nc = 5, 17, 40, 96
    row_bytes = nc * typesize
    rows = np.arange(nr, dtype=np.int64) * src.strides[0]
    base = r0 * src.strides[0] + c0 * typesize
    nbytes = nr * row_bytes
    block = 7 * 64 * typesize  # rows cross from one block into the next
    out = np.zeros(nbytes, dtype=np.uint8)

    @numba.njit
    def run(src, base, rows, row_bytes, nbytes, typesize, block, out):
        gather_shuffle(src.ctypes.data, base, rows, row_bytes, nbytes, typesize, block, out)

    run(src, base, rows, row_bytes, nbytes, typesize, block, out)
    chunk = np.ascontiguousarray(src[r0:r0 + nr, c0:c0 + nc]).view(np.uint8).ravel()
    assert np.array_equal(out, shuffle_blocks(chunk, typesize, block))
