"""Skip markers shared by the core tests."""

import pytest

from exzarr import config
from exzarr.codecs.direct import native_zstd
from exzarr.kernels import jit

#: the compiled zstd encoder: numcodecs' libzstd bound, Numba on (EXZARR_JIT=0 switches it off)
needs_compiled_zstd = pytest.mark.skipif(
    native_zstd() is None or native_zstd().compressor.address is None
    or not jit.numba_available() or not config.get().jit,
    reason="needs numcodecs' libzstd bound and Numba on (EXZARR_JIT=0 switches it off)")
