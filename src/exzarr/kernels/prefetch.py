"""Software prefetch of the rows a gather or a scatter is about to touch (compiled helpers).

A chunk gathered out of a larger array reads one row of the chunk at a time, each row
in another part of the source (a 512-wide float32 chunk of an 8192-wide array: 2 KiB
rows 32 KiB apart).  The CPU's own prefetchers follow a stream inside a page but do not
guess the jump to the next row, so every row starts with misses to memory.  Asking for
the next rows' lines while the current one is processed (:func:`prefetch_ahead`) hides
that wait: on this project's 2-core VM the fused gather and byte shuffle of a 256 MiB
array into 1 MiB chunks took 31 ms instead of 48 on one thread, 16 instead of 22 on two,
and the plain row-by-row copy 10 instead of 12 ms on two.  The same holds for the rows
a read copies decoded chunks into (:func:`prefetch_for_write`: lines fetched to be
written): 1 MiB chunks copied into the 2 KiB rows of a 256 MiB output, 27 instead of
45 ms on one thread, 13 instead of 21 on two (30 instead of 38 into a new output, whose
pages are mapped as they are first written).

:func:`prefetch` and :func:`prefetch_write` are LLVM's ``llvm.prefetch`` (kept in every
cache level): a hint that never faults, so an address past the end of a buffer is
harmless, and on a target without prefetch instructions it compiles to nothing.

The row helpers take the rows' offsets as an address, not as an array: a compiled helper
called with an array takes a reference on it before the call and gives it back after, two
atomic instructions per call, and an atomic instruction waits for every store before it
to be done (the non-temporal stores of :mod:`exzarr.kernels.stream` included) while the
counter of an array every thread shares moves from core to core.  Called once per row,
that cost a write of uncompressed chunks into an in-memory store ~40 % of its time
(measured on 2026-12-07 on an Intel Xeon VM: the rows of a 256 MiB array copied into
1 MiB chunks in 33.9 ms against 21.6 ms with the same prefetches and no references taken,
2 threads; ``tests/kernels/test_refcounts.py`` fails when a write kernel calls a per-row
helper with an array).

This module imports Numba: import it only where a kernel that uses it is about to run.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import carray, types
from numba.extending import intrinsic, register_jitable

from .pointers import i64_at

__all__ = ["prefetch", "prefetch_write", "prefetch_rows", "prefetch_ahead",
           "prefetch_for_write", "AHEAD", "SPAN", "LINE"]

#: rows asked for ahead of the one being read
AHEAD = 2
#: the most bytes of a row asked for (a longer row is a stream the CPU follows itself)
SPAN = 4096
#: bytes per cache line
LINE = 64

_I32 = ir.IntType(32)
_PTR = ir.IntType(8).as_pointer()


def _hint(write: int) -> Any:
    def impl(typingctx: Any, addr: Any) -> Any:
        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            fnty = ir.FunctionType(ir.VoidType(), [_PTR, _I32, _I32, _I32])
            fn = builder.module.declare_intrinsic("llvm.prefetch", [_PTR], fnty)
            # (address, 0: read / 1: write, 3: keep in all cache levels, 1: data cache)
            builder.call(fn, [builder.inttoptr(args[0], _PTR), ir.Constant(_I32, write),
                              ir.Constant(_I32, 3), ir.Constant(_I32, 1)])
            return context.get_dummy_value()

        return types.void(types.int64), codegen

    impl.__name__ = impl.__qualname__ = "prefetch_write" if write else "prefetch"  # (apart)
    return intrinsic(impl)


#: ``prefetch(addr)``: ask for the cache line holding the int64 address ``addr``, to read
prefetch: Any = _hint(0)
#: ``prefetch_write(addr)``: the same, to write it (the line is fetched to be owned)
prefetch_write: Any = _hint(1)


@register_jitable
def prefetch_rows(base, rows_at, nrows, first, count, row_bytes):
    """Ask for rows ``first .. first + count`` (those of the ``nrows`` that exist) of the
    rows at ``base + rows[r]``, ``row_bytes`` long, to read: their first :data:`SPAN`
    bytes.  ``rows_at``: the address of the int64 offsets ``rows`` (``rows.ctypes.data``;
    see the module docstring for why not the array)."""
    rows = carray(i64_at(rows_at), (nrows,))
    span = min(row_bytes, SPAN)
    for r in range(first, min(first + count, nrows)):
        at = base + rows[r]
        for line in range(0, span, LINE):
            prefetch(at + line)


@register_jitable
def prefetch_ahead(base, rows_at, nrows, r, row_bytes):
    """Call before reading row ``r`` of the ``nrows`` rows at ``base + rows[r]``
    (``rows_at``: the offsets' address, as for :func:`prefetch_rows`): asks for row
    ``r + AHEAD`` (at the first row, for rows ``0 .. AHEAD``), so each row is asked for
    :data:`AHEAD` rows before it is read."""
    if r == 0:
        prefetch_rows(base, rows_at, nrows, 0, AHEAD + 1, row_bytes)
    else:
        prefetch_rows(base, rows_at, nrows, r + AHEAD, 1, row_bytes)


@register_jitable
def prefetch_for_write(addr, nbytes):
    """Ask for the first :data:`SPAN` of the ``nbytes`` at ``addr``, to write them."""
    for line in range(0, min(nbytes, SPAN), LINE):
        prefetch_write(addr + line)
