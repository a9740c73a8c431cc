"""CRC-32C (Castagnoli) of bytes in compiled code: the checksum a shard index carries
(the ``crc32c`` codec), checked where a kernel reads the index itself
(:mod:`exzarr.kernels.shard_plan`).

Table-driven, eight bytes a step ("slicing by 8": eight tables of 256 entries, made
once here with NumPy); the same value as the ``crc32c`` package's, which the tests
compare it with.  The tables are a module global, compiled into the kernels as a
constant.

This module imports Numba: import it only where a kernel that uses it is about to run.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

__all__ = ["TABLES", "crc32c"]

_POLY = 0x82F63B78  # the Castagnoli polynomial, reflected


def _tables() -> np.ndarray:
    """``t[k][b]``: the CRC of byte ``b`` followed by ``k`` zero bytes."""
    t = np.zeros((8, 256), dtype=np.uint32)
    for b in range(256):
        c = b
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        t[0, b] = c
    for k in range(1, 8):
        prev = t[k - 1]
        t[k] = (prev >> 8) ^ t[0][prev & 0xFF]
    return t


TABLES = _tables()


@register_jitable
def crc32c(data, n):
    """The CRC-32C of the first ``n`` bytes of ``data`` (a uint8 array)."""
    t = TABLES
    c = np.uint32(0xFFFFFFFF)
    i = 0
    while i + 8 <= n:
        lo = c ^ (np.uint32(data[i]) | (np.uint32(data[i + 1]) << np.uint32(8))
                  | (np.uint32(data[i + 2]) << np.uint32(16))
                  | (np.uint32(data[i + 3]) << np.uint32(24)))
        c = (t[7, lo & 0xFF] ^ t[6, (lo >> np.uint32(8)) & 0xFF]
             ^ t[5, (lo >> np.uint32(16)) & 0xFF] ^ t[4, lo >> np.uint32(24)]
             ^ t[3, data[i + 4]] ^ t[2, data[i + 5]] ^ t[1, data[i + 6]] ^ t[0, data[i + 7]])
        i += 8
    while i < n:
        c = t[0, (c ^ np.uint32(data[i])) & 0xFF] ^ (c >> np.uint32(8))
        i += 1
    return c ^ np.uint32(0xFFFFFFFF)
