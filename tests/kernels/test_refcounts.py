"""The helpers the write kernels call once per row take addresses, not arrays.

A Numba function called with array arguments takes a reference on each array before the
call and gives it back after: two atomic instructions (``lock incq``/``lock decq``) per
array per call.  An atomic instruction waits for every store before it to be done,
non-temporal ones included, and the counters of arrays that every thread shares (the
rows of a chunk, the boxes of a read, the fill pattern) move from core to core.  Called
once per row, that cost a write of uncompressed chunks into an in-memory store ~40 % of
its time (measured on 2026-12-07: 33.9 against 21.6 ms for the rows of a 256 MiB array
copied into 1 MiB chunks, 2 threads).  The helpers the write kernels call per row
therefore take addresses (``rows.ctypes.data``) and view them with ``carray``, which
takes no reference.  (Numba's ``register_jitable(inline="always")`` would avoid the
calls too, but inlined into :func:`~exzarr.kernels.encode_gather.encode_gather` it lost
the kernel's writes into an array of its ``files`` tuple: the replaced files' descriptors
were never closed.)  The read kernels' row helpers (``next_row``, ``prefetch_box_rows``)
still take arrays: their copies are plain stores, and the same change measured no
difference there.

This test compiles the write kernel anew (the on-disk cache keeps no machine code to
read), with every signature the writes of :func:`_exercise` gave it, and checks that
every call left to one of those helpers passes no array (Numba names a function by its
argument types: ``5ArrayI...`` for an array).
"""

import os
import platform
import re

import numpy as np
import pytest

import exzarr as ez
from exzarr import config
from exzarr.kernels import jit

pytestmark = [
    pytest.mark.skipif(not jit.numba_available() or not config.get().jit,
                       reason="needs Numba with JIT on"),
    pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                       reason="reads x86-64 machine code"),
]

#: helpers the write kernels call once per row (or per piece of a row)
PER_ROW = ("prefetch_rows", "prefetch_ahead", "_split", "_is_fill", "_rows_are_fill")


def _kernels():
    from exzarr.kernels import encode_gather
    return {"encode_gather": encode_gather.encode_gather}


def _exercise(tmp_path):
    """Writes that run every route of the kernels above (uncompressed, zstd and blosc with
    its shuffle; frames into a memory store's values, into files, into one buffer for a
    shard; one chunk all fill_value)."""
    rng = np.random.default_rng(0)
    data = (np.round(rng.standard_normal((256, 256)) * 64) / 64).astype("float32")
    codecs = [None, {"name": "zstd", "configuration": {"level": 1, "checksum": False}},
              {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5,
                                                  "shuffle": "shuffle", "typesize": 4,
                                                  "blocksize": 0}}]
    for where, shards in (("memory://refcounts", None), (os.fspath(tmp_path / "a"), None),
                          (os.fspath(tmp_path / "s"), (128, 128))):
        for comp in codecs:
            a = ez.create(where, shape=data.shape, chunks=(64, 64), dtype="float32",
                          fill_value=0, compressor=comp, overwrite=True,
                          **({"shards": shards} if shards else {}))
            a[...] = data
            a[:64, :64] = 0
            expected = data.copy()
            expected[:64, :64] = 0
            assert np.array_equal(a[...].read(), expected)


def _called_symbols(asm: str) -> set[str]:
    """Numba functions the machine code calls (their mangled names: ``_ZN...``)."""
    return set(re.findall(r"\$(_ZN\w+)", asm))


def test_per_row_helpers_take_no_arrays(tmp_path):
    import numba

    with config.set(threads=2):
        _exercise(tmp_path)
    checked = 0
    for name, kernel in _kernels().items():
        dispatcher = kernel.dispatcher()
        assert dispatcher is not None and dispatcher.signatures, f"{name} never ran"
        fresh = numba.njit(nogil=True)(kernel.py_func)  # no cache: machine code to read
        for sig in dispatcher.signatures:
            fresh.compile(sig)
            calls = _called_symbols(fresh.inspect_asm(sig))
            assert calls, f"{name}: no calls found at all (the check reads nothing)"
            bad = [c for c in calls if "5ArrayI" in c
                   and any(f"{len(h)}{h}B" in c for h in PER_ROW)]
            assert not bad, f"{name}{sig}: per-row helpers called with arrays: {bad}"
            checked += 1
    assert checked >= 3  # frames into values, into files, into one buffer
