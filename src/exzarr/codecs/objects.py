"""The v2 object codecs ``pickle``, ``json2`` and ``msgpack2``, decoded within bounds.

numcodecs' ``JSON`` and ``MsgPack`` store an object chunk as one list: the items (nested
lists for more than one dimension), then the dtype string and the shape; ``Pickle`` stores
the pickled object array.  Decoding here reads the same bytes as numcodecs but

* refuses an encoded chunk larger than ``exzarr.config`` ``max_chunk_bytes`` (the bound
  of an object chunk, whose size the metadata does not fix); every decoded item comes
  from at least one encoded byte, so the Python objects built are a constant factor of it
  (msgpack's ``max_*_len`` limits are set to the encoded size: a length field announcing
  more than the chunk's bytes is refused before anything is allocated);
* checks the declared shape against the chunk's item count before building the array;
* unpickles with an allow-list (:mod:`exzarr.codecs.safe_pickle`), never running code a
  stored chunk names;
* reads the ``StringDType()`` dtype string that zarr-python 3 writes for string arrays
  (NumPy cannot parse it back) as the object array the metadata declares.
"""

from __future__ import annotations

import importlib
import json
from typing import Any, Callable

import numpy as np

from ._base import DecodeContext, as_byte_view
from .safe_pickle import safe_loads

__all__ = ["OBJECT_IDS", "decode_objects"]

_STRING_DTYPE = "StringDType()"


def _from_items(items: Any, n_items: int, ctx: DecodeContext, codec_id: str) -> np.ndarray:
    """numcodecs' ``[*items, dtype, shape]`` list -> an object array of ``n_items``."""
    if not isinstance(items, list) or len(items) < 2:
        raise ctx.fail(f"{codec_id} chunk is not a list of items, dtype and shape")
    declared, shape = items[-2], items[-1]
    if not isinstance(shape, (list, tuple)) or len(shape) > 64 or \
            not all(type(s) is int and s >= 0 for s in shape):
        raise ctx.fail(f"{codec_id} chunk declares a malformed shape {shape!r}")
    count = int(np.prod(shape, dtype=object)) if shape else 1
    if count != n_items:
        raise ctx.fail(f"{codec_id} chunk declares shape {tuple(shape)} ({count} items), but a "
                       f"chunk of this array holds {n_items} items")
    body = items[:-2]
    if len(body) != (shape[0] if shape else 1):
        raise ctx.fail(f"{codec_id} chunk holds {len(body)} items at its top level, its shape "
                       f"{tuple(shape)} needs {shape[0] if shape else 1}")
    if declared != _STRING_DTYPE:
        try:
            kind: str = np.dtype(declared).kind
        except (TypeError, ValueError):
            kind = ""
        if kind not in ("O", "T"):
            raise ctx.fail(f"{codec_id} chunk declares the dtype {declared!r}, but the array "
                           "holds objects")
    dec = np.empty(tuple(shape), dtype=object)
    try:
        if not shape:
            dec[...] = body[0]
        else:
            dec[:] = body
    except (TypeError, ValueError) as e:
        raise ctx.fail(f"{codec_id} items do not fill the declared shape {tuple(shape)}", e) from e
    return dec


def _json(codec: Any, buf: memoryview, n_items: int, ctx: DecodeContext) -> np.ndarray:
    encoding = getattr(codec, "_text_encoding", "utf-8")
    strict = getattr(codec, "_decoder_config", {}).get("strict", True)
    try:
        items = json.JSONDecoder(strict=strict).decode(bytes(buf).decode(encoding))
    except RecursionError:
        raise ctx.fail("json2 chunk is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise ctx.fail("json2 chunk is not valid JSON", e) from e
    return _from_items(items, n_items, ctx, "json2")


def _msgpack(codec: Any, buf: memoryview, n_items: int, ctx: DecodeContext) -> np.ndarray:
    msgpack = importlib.import_module("msgpack")  # optional and untyped: loaded by name
    n = buf.nbytes
    try:
        items = msgpack.unpackb(bytes(buf), raw=getattr(codec, "raw", False), max_str_len=n,
                                max_bin_len=n, max_array_len=n, max_map_len=n, max_ext_len=n)
    except MemoryError as e:
        raise ctx.fail("msgpack2 ran out of memory decoding", e) from e
    except Exception as e:  # ExtraData, FormatError, StackError, ValueError for a limit
        raise ctx.fail("msgpack2 chunk is not valid msgpack within its own size", e) from e
    return _from_items(items, n_items, ctx, "msgpack2")


def _pickle(codec: Any, buf: memoryview, n_items: int, ctx: DecodeContext) -> np.ndarray:
    res = safe_loads(buf, ctx)
    if not isinstance(res, np.ndarray):
        raise ctx.fail(f"pickle chunk holds a {type(res).__name__}, not an array")
    if res.dtype.kind == "T":  # zarr-python 3 pickles StringDType arrays
        res = res.astype(object)
    if res.size != n_items:
        raise ctx.fail(f"pickle chunk holds {res.size} items, a chunk of this array holds "
                       f"{n_items}")
    return res


_DECODERS: dict[str, Callable[[Any, memoryview, int, DecodeContext], np.ndarray]] = {
    "pickle": _pickle, "json2": _json, "msgpack2": _msgpack}

#: numcodecs ids of the object codecs decoded here
OBJECT_IDS = frozenset(_DECODERS)


def decode_objects(codec: Any, codec_id: str, data: Any, n_items: int,
                   ctx: DecodeContext) -> np.ndarray:
    """Decode an object chunk of ``n_items`` items with the numcodecs object codec ``codec``
    (id in :data:`OBJECT_IDS`); :class:`~exzarr.errors.DecompressionError` (or
    :class:`~exzarr.errors.UnsafeDataError` for a disallowed pickle) naming the chunk."""
    buf = as_byte_view(data)
    if buf.nbytes > ctx.max_output():
        raise ctx.too_large(f"an encoded {codec_id} chunk of {buf.nbytes} bytes",
                            f"at least {buf.nbytes}")
    return _DECODERS[codec_id](codec, buf, n_items, ctx)
