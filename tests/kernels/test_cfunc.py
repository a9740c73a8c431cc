"""Kernels call C functions by address (kernels/cfunc)."""

import ctypes

import numpy as np
import pytest

from exzarr import config
from exzarr.kernels import jit

pytestmark = pytest.mark.skipif(not jit.numba_available() or not config.get().jit,
                                reason="needs Numba with JIT on")


@pytest.fixture(scope="module")
def cf():
    from exzarr.kernels import cfunc
    if not cfunc.SUPPORTED:
        pytest.skip("64-bit pointers only")
    return cfunc


def test_calls_through_addresses(cf):
    import numba

    libc = ctypes.CDLL(None)

    @numba.njit(nogil=True)
    def use(strnlen, memmove, dst, src):
        n = cf.call2(strnlen, src.ctypes.data, src.shape[0])
        cf.call3(memmove, dst.ctypes.data, src.ctypes.data, n)
        return n

    src = np.frombuffer(b"hello\0world", np.uint8).copy()
    dst = np.zeros(11, np.uint8)
    strnlen, memmove = cf.address(libc.strnlen), cf.address(ctypes.memmove)
    assert use(strnlen, memmove, dst, src) == 5
    assert bytes(dst) == b"hello" + b"\0" * 6
    assert use(strnlen, memmove, dst, src[:3]) == 3  # the bound is respected


def test_unsigned_results_come_back_as_twos_complement(cf):
    import numba

    from exzarr.codecs.direct import native_zstd

    native = native_zstd()
    if native is None or native.addresses is None:
        pytest.skip("libzstd not bindable")
    content_size = native.addresses[0]

    @numba.njit
    def size_of(fn, buf):
        return cf.call2(fn, buf.ctypes.data, buf.shape[0])

    assert size_of(content_size, np.zeros(8, np.uint8)) == -2  # ZSTD_CONTENTSIZE_ERROR


def test_address_of_nothing_refused(cf):
    with pytest.raises(ValueError, match="no address"):
        cf.address(ctypes.c_void_p(0))
