"""Calling a C function by its address from compiled kernels.

A kernel could receive a C function as a ctypes object (a Numba first-class function),
but Numba types such an argument afresh on every call: ~115 µs per function argument
measured here, against ~0.3 µs to call a kernel with arrays and integers, more than the
work of a small batch.  So kernels take plain addresses (:func:`address`) and call them
through :func:`call0` ... :func:`call5` and :func:`call10`: every argument and
the result are 64-bit integers, which is how the C ABIs of 64-bit platforms pass pointers,
``size_t`` and ``long long`` (an unsigned result comes back as its two's complement, a
``void`` function's as garbage).  A C ``int`` argument is passed the same way (the callee
reads its low 32 bits); an ``int`` result must be narrowed by the caller to its low 32
bits (the upper half of the register is undefined: :func:`c_int` does it).  A variadic C
function (``open``) is called through :func:`callv3` (two fixed arguments, one variadic),
which sets up the call as the ABI wants for variadic callees.  Only on a platform where
:data:`SUPPORTED` is True.  :func:`peek` reads one 64-bit integer at an address (a
parameter block handed to a C function's adapter).

This module imports Numba: import it only where a kernel that uses it is about to run.
"""

from __future__ import annotations

import ctypes
from typing import Any

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

__all__ = ["SUPPORTED", "address", "c_int", "call0", "call1", "call2", "call3", "call4", "call5",
           "call10", "callv3", "peek", "peek32"]

#: 64-bit pointers and sizes: the only platforms the calls below are written for
SUPPORTED = ctypes.sizeof(ctypes.c_void_p) == 8 and ctypes.sizeof(ctypes.c_size_t) == 8


def address(fn: Any) -> int:
    """The address of a ctypes function (or of anything ctypes casts to a pointer)."""
    value = ctypes.cast(fn, ctypes.c_void_p).value
    if not value:
        raise ValueError(f"{fn!r} has no address")
    return int(value)


def _signature(arity: int, fixed: int | None = None):
    """``arity`` int64 arguments; a variadic callee when ``fixed`` (its fixed ones)."""
    i64 = ir.IntType(64)

    def codegen(context, builder, signature, args):
        if fixed is None:
            fnty = ir.FunctionType(i64, [i64] * arity)
        else:
            fnty = ir.FunctionType(i64, [i64] * fixed, var_arg=True)
        fn = builder.inttoptr(args[0], fnty.as_pointer())
        return builder.call(fn, list(args[1:]))

    return types.int64(*([types.int64] * (arity + 1))), codegen


def _call0(typingctx, fn):
    return _signature(0)


def _call1(typingctx, fn, a):
    return _signature(1)


def _call2(typingctx, fn, a, b):
    return _signature(2)


def _call3(typingctx, fn, a, b, c):
    return _signature(3)


def _call4(typingctx, fn, a, b, c, d):
    return _signature(4)


def _call5(typingctx, fn, a, b, c, d, e):
    return _signature(5)


def _call10(typingctx, fn, a, b, c, d, e, f, g, h, i, j):
    return _signature(10)


def _callv3(typingctx, fn, a, b, c):
    return _signature(3, fixed=2)


def _peek(typingctx, addr):
    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        return builder.load(builder.inttoptr(args[0], i64.as_pointer()))

    return types.int64(types.int64), codegen


def _peek32(typingctx, addr):
    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        value = builder.load(builder.inttoptr(args[0], i32.as_pointer()))
        return builder.sext(value, ir.IntType(64))

    return types.int64(types.int64), codegen


def _c_int(typingctx, value):
    def codegen(context, builder, signature, args):
        return builder.sext(builder.trunc(args[0], ir.IntType(32)), ir.IntType(64))

    return types.int64(types.int64), codegen


#: ``call0(fn)``: the C function at address ``fn`` called without arguments
call0: Any = intrinsic(_call0)
#: ``call1(fn, a)``
call1: Any = intrinsic(_call1)
#: ``call2(fn, a, b)``: the C function at address ``fn`` called with ``a, b``
call2: Any = intrinsic(_call2)
#: ``call3(fn, a, b, c)``
call3: Any = intrinsic(_call3)
#: ``call4(fn, a, b, c, d)``
call4: Any = intrinsic(_call4)
#: ``call5(fn, a, b, c, d, e)``
call5: Any = intrinsic(_call5)
#: ``call10(fn, a, ..., j)``
call10: Any = intrinsic(_call10)
#: ``callv3(fn, a, b, c)``: a variadic C function of two fixed arguments (``open``)
callv3: Any = intrinsic(_callv3)
#: ``peek(addr)``: the 64-bit integer stored at address ``addr``
peek: Any = intrinsic(_peek)
#: ``peek32(addr)``: the C ``int`` stored at address ``addr``, sign-extended
peek32: Any = intrinsic(_peek32)
#: ``c_int(result)``: a C ``int`` result (low 32 bits of the register), sign-extended
c_int: Any = intrinsic(_c_int)
