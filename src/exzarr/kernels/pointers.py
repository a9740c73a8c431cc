"""Memory at an address, as typed arrays, in compiled kernels.

Kernels that get their buffers as addresses (a frame inside a larger read, a C library's
output, a shuffled stream) see them through :func:`numba.carray` over a typed pointer
made from the address: ``u8_at(addr)`` ... ``u64_at(addr)``, and the two views most
of them need, :func:`bytes_at` and :func:`words_at`.  An address given to the 16-, 32-
or 64-bit forms must be aligned to that size.

This module imports Numba: import it only where a kernel that uses it is about to run.
"""

from __future__ import annotations

from typing import Any

from numba import carray, types
from numba.extending import intrinsic, register_jitable

__all__ = ["u8_at", "u16_at", "u32_at", "u64_at", "i64_at", "bytes_at", "words_at"]


def _pointer_to(item: Any) -> Any:
    def impl(typingctx: Any, addr: Any) -> Any:
        ptr = types.CPointer(item)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            return builder.inttoptr(args[0], context.get_value_type(ptr))

        return ptr(types.int64), codegen

    return intrinsic(impl)


#: ``u8_at(addr)``: a ``uint8*`` at the int64 address ``addr`` (for :func:`numba.carray`)
u8_at: Any = _pointer_to(types.uint8)
#: ``u16_at(addr)``: a ``uint16*``
u16_at: Any = _pointer_to(types.uint16)
#: ``u32_at(addr)``: a ``uint32*``
u32_at: Any = _pointer_to(types.uint32)
#: ``u64_at(addr)``: a ``uint64*``
u64_at: Any = _pointer_to(types.uint64)
#: ``i64_at(addr)``: an ``int64*``
i64_at: Any = _pointer_to(types.int64)


@register_jitable
def bytes_at(addr, n):
    """The ``n`` bytes at address ``addr`` as a uint8 array (no copy)."""
    return carray(u8_at(addr), (n,))


@register_jitable
def words_at(addr, n):
    """The ``n`` 64-bit words at address ``addr`` as a uint64 array (no copy)."""
    return carray(u64_at(addr), (n,))
