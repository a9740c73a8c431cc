"""An atomic counter for compiled kernels that several threads run at once.

:func:`fetch_add` adds to the 64-bit integer at an address and returns the value before,
as one atomic step (LLVM's ``atomicrmw add``, sequentially consistent): threads that each
run the same kernel over one list of jobs take the next job from a shared counter (an
int64 array's ``ctypes.data``), so each job is taken once and no thread waits for another
while jobs are left.

This module imports Numba: import it only where a kernel that uses it is about to run.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

__all__ = ["fetch_add"]


def _fetch_add(typingctx, addr, value):
    def codegen(context, builder, signature, args):
        ptr = builder.inttoptr(args[0], ir.IntType(64).as_pointer())
        return builder.atomic_rmw("add", ptr, args[1], "seq_cst")

    return types.int64(types.int64, types.int64), codegen


#: ``fetch_add(addr, value)``: the int64 at ``addr`` before ``value`` was added to it
fetch_add: Any = intrinsic(_fetch_add)
