"""New arrays: the user's ``create()`` arguments turned into validated array metadata.

Everything here is checked before anything is written, so a bad argument never costs
the data already stored where the array would go (see :func:`array_metadata`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError
from ..metadata import ArrayMetadataV2, ArrayMetadataV3
from .codec_args import UNSET, codec_list, is_auto, v2_compressor, v2_filters, v3_codecs
from .state import ArrayMetadata

__all__ = ["array_metadata", "auto_chunks", "normalize_dtype", "ChunksArg"]

#: ``chunks=``/``shards=``: an int for every dimension, one per dimension (None or -1: the
#: whole dimension), or None / True / "auto"
ChunksArg = int | Sequence[int | None] | str | bool | None


def auto_chunks(shape: tuple[int, ...], itemsize: int, target: int = 1 << 20) -> tuple[int, ...]:
    """Chunks of at most ~``target`` bytes, halving the largest dimension first."""
    chunks = [max(1, s) for s in shape]
    while math.prod(chunks) * itemsize > target and max(chunks) > 1:
        i = int(np.argmax(chunks))
        chunks[i] = -(-chunks[i] // 2)
    return tuple(chunks)


def _norm_chunks(chunks: ChunksArg, shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    if chunks is None or chunks is True or chunks == "auto":
        return auto_chunks(shape, itemsize)
    if isinstance(chunks, int):
        chunks = (chunks,) * len(shape)
    if isinstance(chunks, (str, bool)):
        raise InvalidArgumentError(f"chunks must be an int, a tuple of ints or 'auto', got {chunks!r}")
    out = tuple(int(c) if c not in (None, -1) else max(1, s) for c, s in zip(chunks, shape))
    if len(out) != len(shape) or len(tuple(chunks)) != len(shape):
        raise InvalidArgumentError(f"chunks {tuple(chunks)} must have one entry per dimension of shape "
                         f"{shape}")
    return out


def _default_fill(dtype: np.dtype) -> Any:
    if dtype.kind in "SV":
        return b""
    if dtype.kind in "UO":  # fixed- or variable-length strings
        return ""
    if dtype.kind in "mM":  # zarr-python's default: NaT (stored as -2**63)
        return "NaT"
    return np.zeros((), dtype=dtype).item()


def normalize_dtype(dtype: Any) -> np.dtype:
    """``np.dtype(dtype)``; ``str`` / ``"string"`` and NumPy's ``StringDType`` (what
    zarr-python 3 returns for strings) mean variable-length strings (object arrays of
    str), as in zarr-python."""
    if dtype is str or (isinstance(dtype, str) and dtype in ("string", "str")):
        return np.dtype(object)
    dt = np.dtype(dtype)
    return np.dtype(object) if dt.kind == "T" else dt


def array_metadata(*, shape: int | Sequence[int], chunks: ChunksArg = None,
                   dtype: Any = "float64", fill_value: Any = UNSET, compressor: Any = UNSET,
                   codecs: Sequence[Any] | None = None, filters: Sequence[Any] | None = None,
                   order: str | None = "C", dimension_separator: str | None = None,
                   chunk_key_encoding: Mapping[str, Any] | None = None,
                   dimension_names: Sequence[str | None] | None = None,
                   attributes: Mapping[str, Any] | None = None, shards: ChunksArg = None,
                   zarr_format: int = 3, compressors: Any = UNSET,
                   serializer: Any = UNSET) -> ArrayMetadata:
    """The metadata of a new array, every argument validated (no I/O).

    ``compressors``/``serializer``/``filters`` take zarr-python 3's forms too (a codec or a
    list of codecs, ``"auto"``, zarr-python codec objects)."""
    if isinstance(filters, str) and filters == "auto":
        filters = None
    elif filters is not None:
        filters = codec_list(filters)
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(int(x) for x in shape)
    dt = normalize_dtype(dtype)
    if fill_value is UNSET:
        fill_value = _default_fill(dt)
    if shards is not None:
        if zarr_format != 3:
            raise InvalidArgumentError("sharding (shards=) needs zarr_format=3")
        shard_shape = _norm_chunks(shards, shape, dt.itemsize)
        chunk_shape = _norm_chunks(chunks, shard_shape, dt.itemsize)
        if any(sh % c for sh, c in zip(shard_shape, chunk_shape)):
            raise InvalidArgumentError(f"shards {shard_shape} must be a multiple of chunks {chunk_shape} "
                             f"in every dimension")
    else:
        shard_shape = None
        chunk_shape = _norm_chunks(chunks, shape, dt.itemsize)
    if zarr_format == 3:
        if order == "F" and codecs is None:
            transpose = {"name": "transpose",
                         "configuration": {"order": list(range(len(shape)))[::-1]}}
            filters = [transpose] + list(filters or [])
        cl = v3_codecs(dt, codecs=codecs, compressor=compressor, filters=filters,
                       chunks=chunk_shape, shards=shard_shape, compressors=compressors,
                       serializer=serializer)
        cke = chunk_key_encoding
        if cke is None and dimension_separator is not None:
            cke = {"name": "default", "configuration": {"separator": dimension_separator}}
        return ArrayMetadataV3.create(
            shape=shape, chunks=shard_shape or chunk_shape, dtype=dt, fill_value=fill_value,
            codecs=cl, chunk_key_encoding=cke, dimension_names=dimension_names,
            attributes=attributes)
    if zarr_format == 2:
        if codecs is not None:
            raise InvalidArgumentError("codecs= is for zarr_format=3; use compressor= and filters= for v2")
        if not is_auto(serializer):
            raise InvalidArgumentError("serializer= is for zarr_format=3 (Zarr v2 arrays have none)")
        if not is_auto(compressors):
            if compressor is not UNSET:
                raise InvalidArgumentError("pass either compressor= or compressors=, not both")
            one = codec_list(compressors) or []
            if len(one) > 1:
                raise InvalidArgumentError(f"a Zarr v2 array has at most one compressor, got {len(one)}")
            compressor = one[0] if one else None
        return ArrayMetadataV2.create(
            shape=shape, chunks=chunk_shape, dtype=dt, fill_value=fill_value,
            compressor=v2_compressor(compressor, dt), filters=v2_filters(filters, dt),
            order=order or "C", dimension_separator=dimension_separator or ".",
            attributes=attributes)
    raise InvalidArgumentError(f"zarr_format must be 2 or 3, got {zarr_format!r}")
