"""pcodec (``pco``) chunks, decoded within the size the chunk can have.

numcodecs' ``PCodec`` stores pco's *standalone* format (``pcodec.standalone``)::

    "pco!"  standalone version (u8)  [version >= 3: uniform number type (u8), 0 = none]
    [version >= 2: 6 bits n_hint_log2 - 1, then n_hint_log2 bits n_hint (count of numbers,
     0 = unknown), zero bits up to the next byte]
    wrapped header: major format version (u8) [major >= 4: minor version (u8)]
    per pco chunk: number type (u8), 24 bits chunk_n - 1, chunk metadata, one page
    a termination byte 0

(bits are packed little-endian; see pco's ``docs/format.md``).  :func:`pco_header` reads
that prefix without decoding anything, so a stream of the wrong number type or announcing
more numbers than the chunk holds is refused before any output exists.  The numbers are
then decoded with ``pcodec.standalone.simple_decompress_into`` into a buffer of exactly
the chunk's element count (the caller's ``out`` when there is one); a stream that does not
finish there holds more numbers than the chunk and is refused.  The decoded values are
byte-identical to numcodecs' ``PCodec.decode`` (which calls the same pcodec functions).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._base import DecodeContext

__all__ = ["PCO_MAGIC", "PcoHeader", "pco_header", "pco_decode", "PCO_TYPES"]

PCO_MAGIC = b"pco!"

#: pco number type byte -> NumPy dtype (pco's numbers are little-endian in memory order)
PCO_TYPES: dict[int, np.dtype] = {
    1: np.dtype("<u4"), 2: np.dtype("<u8"), 3: np.dtype("<i4"), 4: np.dtype("<i8"),
    5: np.dtype("<f4"), 6: np.dtype("<f8"), 7: np.dtype("<u2"), 8: np.dtype("<i2"),
    9: np.dtype("<f2"),
}


@dataclass(frozen=True)
class PcoHeader:
    """What the prefix of a pco standalone stream says (nothing is decoded)."""

    #: standalone format version
    version: int
    #: the number type every chunk shares (version >= 3), None when not declared
    uniform: np.dtype | None
    #: the total count of numbers, None when the stream does not record it
    n_hint: int | None
    #: number type and count of the first pco chunk; None for a stream without chunks
    first_type: np.dtype | None
    first_n: int | None

    @property
    def dtype(self) -> np.dtype | None:
        return self.uniform if self.uniform is not None else self.first_type


class _Bits:
    """A little-endian bit reader over bytes (pco's packing)."""

    def __init__(self, buf: memoryview) -> None:
        self.buf, self.pos = buf, 0  # pos in bits

    def read(self, nbits: int) -> int:
        end = self.pos + nbits
        if end > 8 * self.buf.nbytes:
            raise ValueError("truncated pco header")
        lo, hi = self.pos // 8, (end + 7) // 8
        value = int.from_bytes(self.buf[lo:hi], "little") >> (self.pos % 8)
        self.pos = end
        return value & ((1 << nbits) - 1)

    def align(self) -> None:
        self.pos = (self.pos + 7) // 8 * 8


def _number_type(code: int) -> np.dtype:
    dt = PCO_TYPES.get(code)
    if dt is None:
        raise ValueError(f"unknown pco number type {code}")
    return dt


def pco_header(buf: memoryview) -> PcoHeader:
    """Parse the prefix of a pco standalone stream; ValueError when it is not one."""
    if buf.nbytes < 6 or bytes(buf[:4]) != PCO_MAGIC:
        raise ValueError("not a pco standalone stream (no 'pco!' magic)")
    bits = _Bits(buf)
    bits.pos = 32
    version = bits.read(8)
    if version < 2:  # before pco 0.1.1: no standalone version byte, no n_hint
        raise ValueError(f"pco standalone version {version} is older than exzarr reads "
                         "(written before pco 0.1.1)")
    uniform = None
    if version >= 3:
        code = bits.read(8)
        uniform = _number_type(code) if code else None
    n_hint_log2 = bits.read(6) + 1
    n_hint = bits.read(n_hint_log2)
    bits.align()
    major = bits.read(8)
    if major >= 4:
        bits.read(8)  # minor format version
    first_type = first_n = None
    code = bits.read(8)
    if code:  # 0 terminates: a stream of no numbers
        first_type = _number_type(code)
        first_n = bits.read(24) + 1
    return PcoHeader(version, uniform, n_hint or None, first_type, first_n)


def _standalone() -> Any:
    return importlib.import_module("pcodec.standalone")  # untyped: loaded by name


def pco_decode(codec: Any, buf: memoryview, ctx: DecodeContext, out: memoryview | None,
               dtype: np.dtype | None = None) -> np.ndarray | memoryview:
    """Decode a pco standalone stream into at most ``ctx.max_output()`` bytes.

    ``dtype`` is the chunk's data type when the caller knows it (the stream's number type
    must be that type); ``ctx.expected`` (or ``out``) fixes the element count exactly.
    Raises :class:`~exzarr.errors.DecompressionError` for a stream that is not pco, has
    another number type, or holds more or fewer numbers than the chunk."""
    try:
        head = pco_header(buf)
    except ValueError as e:
        raise ctx.fail(f"pcodec: {e}") from None
    stream = head.dtype
    if dtype is not None:
        want = np.dtype(dtype)
        if stream is not None and (stream.kind, stream.itemsize) != (want.kind, want.itemsize):
            raise ctx.fail(f"pcodec stream holds {stream} numbers, but the chunk's data type is "
                           f"{want}")
        if want.byteorder == ">" or (want.kind, want.itemsize) not in \
                {(d.kind, d.itemsize) for d in PCO_TYPES.values()}:
            raise ctx.fail(f"pcodec cannot hold the data type {want}")
        item = want
    elif stream is not None:
        item = stream
    else:  # no type declared and no chunk: only an empty stream is possible
        item = np.dtype("u1")
    itemsize = item.itemsize
    if ctx.expected is not None:
        if ctx.expected % itemsize:
            raise ctx.fail(f"pcodec: a chunk of {ctx.expected} bytes cannot hold {item} numbers")
        count = ctx.expected // itemsize
        exact = True
    else:
        count = ctx.max_output() // itemsize
        exact = False
    for what, n in (("its header", head.n_hint), ("its first chunk", head.first_n)):
        if n is not None and n > count:
            raise ctx.too_large(f"pcodec stream of {item} numbers; {what} counts {n}", n * itemsize)
    if exact and head.n_hint is not None and head.n_hint != count:
        raise ctx.fail(f"pcodec stream holds {head.n_hint} numbers, a chunk holds {count}")
    if not exact and head.n_hint is not None:
        count = head.n_hint  # the buffer need not be larger (a stream holding more fails)
    if out is not None:
        target = np.frombuffer(out, dtype=np.uint8)[:count * itemsize].view(item.newbyteorder("="))
    else:
        target = np.empty(count, dtype=item.newbyteorder("="))
    if count == 0:
        if head.first_n is not None:
            raise ctx.too_large("pcodec stream for an empty chunk", f"{head.first_n} numbers")
        return out if out is not None else target
    try:
        progress = _standalone().simple_decompress_into(bytes(buf), target)
    except MemoryError as e:
        raise ctx.fail("pcodec ran out of memory decoding", e) from e
    except Exception as e:  # pcodec raises RuntimeError / TypeError for corrupt streams
        raise ctx.fail("pcodec decompression failed", e) from e
    done = int(progress.n_processed)
    if not progress.finished:
        raise ctx.too_large("pcodec stream continues after the chunk is full",
                            f"more than {count * itemsize}")
    if exact and done != count:
        raise ctx.fail(f"pcodec stream holds {done} numbers, a chunk holds {count}")
    if out is not None:
        return out
    return target if done == count else target[:done].copy()  # release the unused tail
