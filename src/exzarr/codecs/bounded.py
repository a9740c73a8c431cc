"""Decompression with a bound on the output: no chunk costs more memory than it can hold.

Every decode knows the most bytes it may produce (:meth:`DecodeContext.max_output`): the
exact chunk size when the metadata fixes it, otherwise ``exzarr.config`` ``max_chunk_bytes``.
A stream that would produce more is refused with a
:class:`~exzarr.errors.DecompressionError` *before* the output is allocated:

* ``zlib``, ``gzip``, ``bz2``, ``lzma``: streaming decompression with a maximum output
  (``decompressobj().decompress(data, max_length)``); bytes after the stream are an error
  (a further complete gzip member / bz2 or xz stream is decoded, within the same bound);
* ``zstd``: the frame header's content size is checked; frames without one are decoded
  into a buffer of exactly the expected size (libzstd stops at its end) or, when only a
  limit is known, their block headers bound the output before anything is decoded;
* ``blosc``, ``lz4`` (numcodecs' 4-byte size prefix), ``snappy`` (varint length): the
  announced size is checked before the library allocates it;
* ``pcodec`` (:mod:`~exzarr.codecs.pco`): the standalone header's number type, count and
  first chunk are checked, then the numbers are decoded into a buffer of exactly the
  chunk's element count (``simple_decompress_into``); a stream that does not end there
  holds more numbers than the chunk and is refused;
* ``zfpy`` (:mod:`~exzarr.codecs.zfp`): the zfp header (scalar type, dimensions) is parsed
  and must describe the chunk before zfpy is called; a stream without one is refused;
* object codecs ``pickle``, ``json2``, ``msgpack2`` (:mod:`~exzarr.codecs.objects`): the
  encoded chunk must fit ``max_chunk_bytes``, the objects built are a constant factor of
  it (msgpack length limits set to the encoded size), the declared shape must be the
  chunk's, and pickles are read with an allow-list (:mod:`~exzarr.codecs.safe_pickle`);
  ``vlen-*`` item counts are checked against the chunk before decoding (:mod:`.vlen`).
"""

from __future__ import annotations

import struct
from typing import Any, Callable

import numpy as np

from ._base import DecodeContext

__all__ = ["bounded_decode", "BOUNDED_IDS", "zstd_frames_bound", "zstd_content_size"]

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_BLOCK_MAX = 128 * 1024


# -- zstd frame headers ------------------------------------------------------------------

def _zstd_header(buf: memoryview, pos: int) -> tuple[int, int | None, int, bool]:
    """``(header end, content size or None, window size, has checksum)`` of the frame at
    ``pos``; raises ValueError when the header is malformed or truncated."""
    if buf.nbytes < pos + 6:
        raise ValueError("truncated zstd frame header")
    fhd = buf[pos + 4]
    fcs_flag, single, reserved, checksum, dict_flag = \
        fhd >> 6, (fhd >> 5) & 1, (fhd >> 3) & 1, (fhd >> 2) & 1, fhd & 3
    if reserved:
        raise ValueError("zstd frame header has its reserved bit set")
    p = pos + 5
    window = 0
    if not single:
        wd = buf[p]
        base = 1 << (10 + (wd >> 3))
        window = base + (base >> 3) * (wd & 7)
        p += 1
    p += (0, 1, 2, 4)[dict_flag]
    size_len = (1 if single else 0, 2, 4, 8)[fcs_flag]
    if buf.nbytes < p + size_len:
        raise ValueError("truncated zstd frame header")
    content: int | None = None
    if size_len:
        content = int.from_bytes(buf[p:p + size_len], "little") + (256 if size_len == 2 else 0)
        p += size_len
    if single:
        window = content or 0
    return p, content, window, bool(checksum)


def zstd_content_size(buf: memoryview) -> int | None:
    """The content size the first zstd frame announces, None when it records none."""
    if buf.nbytes < 6 or bytes(buf[:4]) != ZSTD_MAGIC:
        return None
    try:
        return _zstd_header(buf, 0)[1]
    except ValueError:
        return None


def zstd_frames_bound(buf: memoryview) -> int:
    """An upper bound of what the zstd frames in ``buf`` decode to, from their headers
    alone (content sizes; raw and RLE block sizes; at most the block maximum per compressed
    block).  Raises ValueError for malformed frames and for bytes after the last frame."""
    pos, total, n = 0, 0, buf.nbytes
    while pos < n:
        if n - pos < 8:
            raise ValueError(f"{n - pos} bytes after the last zstd frame")
        magic = int.from_bytes(buf[pos:pos + 4], "little")
        if magic & 0xFFFFFFF0 == 0x184D2A50:  # skippable frame
            pos += 8 + int.from_bytes(buf[pos + 4:pos + 8], "little")
            if pos > n:
                raise ValueError("truncated skippable zstd frame")
            continue
        if bytes(buf[pos:pos + 4]) != ZSTD_MAGIC:
            raise ValueError(f"{n - pos} bytes after the last zstd frame are not a zstd frame")
        pos, content, window, checksum = _zstd_header(buf, pos)
        block_max = min(window, _BLOCK_MAX) if window else _BLOCK_MAX
        frame = 0
        while True:
            if n - pos < 3:
                raise ValueError("truncated zstd block header")
            header = int.from_bytes(buf[pos:pos + 3], "little")
            last, kind, size = header & 1, (header >> 1) & 3, header >> 3
            pos += 3
            if kind == 3:
                raise ValueError("zstd block of the reserved type")
            if size > block_max:
                raise ValueError(f"zstd block of {size} bytes exceeds the block maximum {block_max}")
            if kind == 0:  # raw
                frame += size
                pos += size
            elif kind == 1:  # RLE: one byte repeated ``size`` times
                frame += size
                pos += 1
            else:  # compressed: regenerates at most the block maximum
                frame += block_max
                pos += size
            if pos > n:
                raise ValueError("truncated zstd block")
            if last:
                break
        pos += 4 if checksum else 0
        if pos > n:
            raise ValueError("truncated zstd frame checksum")
        total += frame if content is None else min(frame, content)
    return total


# -- the bounded decoders ---------------------------------------------------------------

def _fail(ctx: DecodeContext, codec_id: str, what: str, e: BaseException | None = None) -> Exception:
    return ctx.fail(f"{codec_id}: {what}", e)


_PIECE = 8 << 20  # streaming decoders produce at most this much per call


def _stream(codec_id: str, make: Callable[[], Any], buf: memoryview, ctx: DecodeContext,
            multi: bool) -> Any:
    """Decode with a streaming decompressor, never producing more than ``max_output``.

    Output comes in pieces of at most 8 MiB; with an exact size they are copied into one
    buffer of that size as they come, so a bomb costs the chunk size plus one piece."""
    cap = ctx.max_output()
    exact = ctx.expected
    target = np.empty(exact, dtype=np.uint8) if exact is not None else None
    parts: list[bytes] = []
    total = 0
    src: Any = buf
    d = None
    while True:
        if d is None or d.eof:  # a (further) stream begins
            try:
                d = make()
            except MemoryError as e:
                raise _fail(ctx, codec_id, "ran out of memory decompressing", e) from e
        try:
            piece = d.decompress(src, min(cap - total + 1, _PIECE))
        except MemoryError as e:
            raise _fail(ctx, codec_id, "ran out of memory decompressing", e) from e
        except Exception as e:
            what = "bytes after the compressed stream are not a further stream" \
                if total and src is not buf else "decompression failed"
            raise _fail(ctx, codec_id, what, e) from e
        if total + len(piece) > cap:
            raise ctx.too_large(f"{codec_id} stream of {buf.nbytes} bytes", f"more than {cap}")
        if target is not None:
            target[total:total + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
        else:
            parts.append(piece)
        total += len(piece)
        if not d.eof:
            tail = getattr(d, "unconsumed_tail", None)
            if tail is None:  # bz2, lzma: more output pending unless they need input
                if d.needs_input:
                    raise _fail(ctx, codec_id, "the compressed stream is truncated (no end of stream)")
                src = b""
            else:  # zlib: pending input in unconsumed_tail; no progress means truncated
                if not piece and len(tail) >= len(src):
                    raise _fail(ctx, codec_id, "the compressed stream is truncated (no end of stream)")
                src = tail
            continue
        rest = d.unused_data
        if not rest:
            break
        if not multi:
            raise _fail(ctx, codec_id, f"{len(rest)} bytes follow the end of the compressed "
                        "stream (appended or corrupt data)")
        src = rest
    if target is not None:
        if total != exact:
            raise _fail(ctx, codec_id, f"the stream decodes to {total} bytes, expected {exact}")
        return target
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _zlib(codec: Any, buf: memoryview, ctx: DecodeContext) -> bytes:
    import zlib

    return _stream("zlib", lambda: zlib.decompressobj(), buf, ctx, multi=False)


def _gzip(codec: Any, buf: memoryview, ctx: DecodeContext) -> bytes:
    import zlib

    return _stream("gzip", lambda: zlib.decompressobj(16 + zlib.MAX_WBITS), buf, ctx, multi=True)


def _bz2(codec: Any, buf: memoryview, ctx: DecodeContext) -> bytes:
    import bz2

    return _stream("bz2", bz2.BZ2Decompressor, buf, ctx, multi=True)


def _lzma(codec: Any, buf: memoryview, ctx: DecodeContext) -> bytes:
    import lzma

    fmt = getattr(codec, "format", lzma.FORMAT_XZ)
    filters = getattr(codec, "filters", None)
    kwargs: dict[str, Any] = {"format": fmt}
    if fmt == lzma.FORMAT_RAW:
        kwargs["filters"] = filters
    else:  # the dictionary a header asks for is allocated up front: bound it too
        kwargs["memlimit"] = max(ctx.max_output(), 0) + (256 << 20)
    return _stream("lzma", lambda: lzma.LZMADecompressor(**kwargs), buf, ctx,
                   multi=fmt != lzma.FORMAT_RAW)


def _check_announced(codec_id: str, announced: int, ctx: DecodeContext) -> None:
    if ctx.expected is not None:
        if announced != ctx.expected:
            if announced > ctx.expected:
                raise ctx.too_large(f"the {codec_id} header announces it", announced)
            raise _fail(ctx, codec_id, f"the header announces {announced} bytes, expected "
                        f"{ctx.expected}")
    elif announced > ctx.max_output():
        raise ctx.too_large(f"the {codec_id} header announces it", announced)


def _into(codec: Any, buf: memoryview, out: memoryview | None, ctx: DecodeContext,
          announced: bool = True) -> Any:
    """``codec.decode`` into ``out``; without ``out``, a new buffer the library sizes from a
    header already checked (``announced``) or one of exactly ``ctx.expected`` bytes."""
    if out is not None:  # numcodecs writes into ``out`` (checked against the header above)
        codec.decode(buf, out=np.frombuffer(out, dtype=np.uint8))
        return out
    if announced or ctx.expected is None:
        return codec.decode(buf)
    target = np.empty(ctx.expected, dtype=np.uint8)
    res = codec.decode(buf, out=target)
    return target if res is None else res


def _zstd(codec: Any, buf: memoryview, ctx: DecodeContext, out: memoryview | None) -> Any:
    announced = zstd_content_size(buf)
    if announced is not None:
        _check_announced("zstd", announced, ctx)
        if announced == 0:
            return b""
    if ctx.expected is None:
        try:
            bound = zstd_frames_bound(buf)
        except ValueError as e:
            raise _fail(ctx, "zstd", "malformed frames", e) from None
        if bound > ctx.max_output():
            raise ctx.too_large("bounded by its zstd block headers", f"up to {bound}")
    # with an exact size: libzstd decodes into a buffer of that size and stops at its end
    try:
        return _into(codec, buf, out, ctx, announced=announced is not None)
    except RuntimeError as e:
        if announced is None and "too small" in str(e):
            raise ctx.too_large("zstd frame without a content size", f"more than {ctx.expected}") from None
        raise


def _blosc(codec: Any, buf: memoryview, ctx: DecodeContext, out: memoryview | None) -> Any:
    if buf.nbytes < 16:
        raise _fail(ctx, "blosc", f"frame of {buf.nbytes} bytes is shorter than its 16-byte header")
    nbytes, _blocksize, cbytes = struct.unpack_from("<III", buf, 4)
    if cbytes != buf.nbytes:
        raise _fail(ctx, "blosc", f"header says {cbytes} compressed bytes but the chunk has "
                    f"{buf.nbytes}" + (" (bytes appended)" if cbytes < buf.nbytes else ""))
    _check_announced("blosc", nbytes, ctx)
    if nbytes == 0:
        return b""  # blosc reports decoding 0 bytes as an error
    return _into(codec, buf, out, ctx)


def _lz4(codec: Any, buf: memoryview, ctx: DecodeContext, out: memoryview | None) -> Any:
    if buf.nbytes < 4:
        raise _fail(ctx, "lz4", f"{buf.nbytes} bytes cannot hold the 4-byte size prefix")
    announced = struct.unpack_from("<I", buf, 0)[0]
    _check_announced("lz4", announced, ctx)
    if announced == 0:
        return b""
    return _into(codec, buf, out, ctx)


def _varint(buf: memoryview) -> int:
    value, shift = 0, 0
    for i in range(min(buf.nbytes, 5)):
        b = buf[i]
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value
        shift += 7
    raise ValueError("malformed snappy length")


def _snappy(codec: Any, buf: memoryview, ctx: DecodeContext, out: memoryview | None) -> Any:
    try:
        announced = _varint(buf)
    except ValueError as e:
        raise _fail(ctx, "snappy", "malformed header", e) from None
    _check_announced("snappy", announced, ctx)
    return codec.decode(buf)


_STREAMS: dict[str, Callable[[Any, memoryview, DecodeContext], bytes]] = {
    "zlib": _zlib, "gzip": _gzip, "bz2": _bz2, "lzma": _lzma}
_HEADERS: dict[str, Callable[[Any, memoryview, DecodeContext, memoryview | None], Any]] = {
    "zstd": _zstd, "blosc": _blosc, "lz4": _lz4, "snappy": _snappy}

#: numcodecs ids whose decode is bounded here
BOUNDED_IDS = frozenset(_STREAMS) | frozenset(_HEADERS)


def bounded_decode(codec: Any, codec_id: str, buf: memoryview, ctx: DecodeContext,
                   out: memoryview | None) -> Any:
    """Decode ``buf`` with numcodecs ``codec`` (id in :data:`BOUNDED_IDS`) within
    ``ctx.max_output()`` bytes; the result lands in ``out`` when one is given and the
    library can write there, else it is returned.  Library errors propagate."""
    stream = _STREAMS.get(codec_id)
    if stream is not None:
        return stream(codec, buf, ctx)
    return _HEADERS[codec_id](codec, buf, ctx, out)
