"""Module-level functions: ``create``, ``open``, ``open_array``, ``array``, ``zeros``...

``store`` may be a path, a URL (``file://``, ``memory://``, ``zip://``, ``sqlite://``,
any fsspec protocol) or a ``Store``; ``mode`` follows zarr-python (r, r+, a, w, w-).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ArrayNotFoundError, NodeExistsError, NodeNotFoundError, ReadOnlyError, where
from ..metadata import ArrayMetadataV2, ArrayMetadataV3
from .array import ZArray
from .codec_args import UNSET, v2_compressor, v2_filters, v3_codecs
from .nodes import delete_node, find_node, node_exists
from .state import ArrayState

__all__ = ["create", "open", "open_array", "array", "zeros", "ones", "full", "empty",
           "resolve_store", "MODES"]

MODES = ("r", "r+", "a", "w", "w-")


def resolve_store(store, mode: str, storage_options=None):
    from ..storage import open_store

    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if store is None:
        store = "memory://"
    return open_store(store, mode=mode, storage_options=storage_options)


def _norm_path(path) -> str:
    return (path or "").strip("/")


def auto_chunks(shape: tuple[int, ...], itemsize: int, target: int = 1 << 20) -> tuple[int, ...]:
    """Chunks of at most ~``target`` bytes, halving the largest dimension first."""
    chunks = [max(1, s) for s in shape]
    while math.prod(chunks) * itemsize > target and max(chunks) > 1:
        i = int(np.argmax(chunks))
        chunks[i] = -(-chunks[i] // 2)
    return tuple(chunks)


def _norm_chunks(chunks, shape, itemsize) -> tuple[int, ...]:
    if chunks is None or chunks is True or chunks == "auto":
        return auto_chunks(shape, itemsize)
    if isinstance(chunks, int):
        chunks = (chunks,) * len(shape)
    chunks = tuple(int(c) if c not in (None, -1) else max(1, s) for c, s in zip(chunks, shape))
    if len(chunks) != len(shape):
        raise ValueError(f"chunks {chunks} must have one entry per dimension of shape {shape}")
    return chunks


def _default_fill(dtype: np.dtype):
    if dtype.kind in "SV":
        return b""
    if dtype.kind in "UO":  # fixed- or variable-length strings
        return ""
    if dtype.kind in "mM":
        return 0
    return np.zeros((), dtype=dtype).item()


def create(store=None, *, shape, chunks=None, dtype="float64", fill_value=UNSET,
           compressor=UNSET, codecs=None, filters=None, order="C", dimension_separator=None,
           chunk_key_encoding=None, dimension_names=None, attributes=None, shards=None,
           zarr_format: int = 3, path=None, overwrite: bool = False, mode: str | None = None,
           storage_options=None, write_empty_chunks: bool | None = None,
           skip_checksum: bool = False) -> ZArray:
    """Create a new array and return it.

    Refuses to replace an existing node unless ``overwrite=True`` (or ``mode='w'``).
    """
    mode = mode or ("w" if overwrite else "a")
    s = resolve_store(store, mode, storage_options)
    path = _norm_path(path)
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(int(x) for x in shape)
    # str / "string" mean variable-length strings (object arrays of str), as in zarr-python
    dtype = np.dtype(object) if dtype is str or dtype == "string" else np.dtype(dtype)
    existing = node_exists(s, path)
    if existing:
        if mode == "w" or overwrite:
            delete_node(s, path)
        else:
            raise NodeExistsError(
                f"an {existing} already exists at {where(s, path or '/')}; pass overwrite=True "
                f"(or mode='w') to replace it, or open it with exzarr.open()", store=s, key=path)
    if s.read_only:
        raise ReadOnlyError(f"cannot create an array in the read-only store {s.url}", store=s)
    if fill_value is UNSET:
        fill_value = _default_fill(dtype)
    if shards is not None:
        if zarr_format != 3:
            raise ValueError("sharding (shards=) needs zarr_format=3")
        shards = _norm_chunks(shards, shape, dtype.itemsize)
        chunks = _norm_chunks(chunks, shards, dtype.itemsize)
        if any(sh % c for sh, c in zip(shards, chunks)):
            raise ValueError(f"shards {shards} must be a multiple of chunks {chunks} in every "
                             f"dimension")
    else:
        chunks = _norm_chunks(chunks, shape, dtype.itemsize)
    if zarr_format == 3:
        if order not in ("C", None) and codecs is None:
            filters = [{"name": "transpose", "configuration": {"order": list(range(len(shape)))[::-1]}}] \
                + list(filters or []) if order == "F" else filters
        cl = v3_codecs(dtype, codecs=codecs, compressor=compressor, filters=filters,
                       chunks=chunks, shards=shards)
        cke = chunk_key_encoding
        if cke is None and dimension_separator is not None:
            cke = {"name": "default", "configuration": {"separator": dimension_separator}}
        meta = ArrayMetadataV3.create(
            shape=shape, chunks=shards or chunks, dtype=dtype, fill_value=fill_value,
            codecs=cl, chunk_key_encoding=cke, dimension_names=dimension_names,
            attributes=attributes)
    elif zarr_format == 2:
        if codecs is not None:
            raise ValueError("codecs= is for zarr_format=3; use compressor= and filters= for v2")
        meta = ArrayMetadataV2.create(
            shape=shape, chunks=chunks, dtype=dtype, fill_value=fill_value,
            compressor=v2_compressor(compressor), filters=v2_filters(filters, dtype), order=order or "C",
            dimension_separator=dimension_separator or ".", attributes=attributes)
    else:
        raise ValueError(f"zarr_format must be 2 or 3, got {zarr_format!r}")
    state = ArrayState(s, path, meta, write_empty_chunks=write_empty_chunks,
                       skip_checksum=skip_checksum)
    state.replace_meta(meta)
    return ZArray(state)


def open(store=None, *, mode: str = "a", path=None, zarr_format: int | None = None,
         storage_options=None, skip_checksum: bool = False, **kwargs):
    """Open the array or group at ``store``/``path`` (v2 or v3, detected).

    With mode ``w``/``w-``, or ``a`` when nothing exists and ``shape=`` is given, a new
    array is created (``kwargs`` go to :func:`create`).
    """
    s = resolve_store(store, mode, storage_options)
    path = _norm_path(path)
    if mode in ("w", "w-") or ("shape" in kwargs and node_exists(s, path) is None):
        if "shape" not in kwargs:
            from .group import group
            return group(s, path=path, overwrite=mode == "w", mode=mode,
                         zarr_format=zarr_format or 3, **kwargs)
        return create(s, path=path, mode="w" if mode == "w" else "w-",
                      zarr_format=zarr_format or 3, skip_checksum=skip_checksum, **kwargs)
    info = find_node(s, path, zarr_format)
    if info is None:
        raise NodeNotFoundError(_missing_message(s, path, zarr_format), store=s, key=path)
    if info.kind == "group":
        from .group import Group
        return Group._from_info(s, path, info, read_only=mode == "r")
    return ZArray(ArrayState(s, path, info.meta, read_only=mode == "r",
                             skip_checksum=skip_checksum))


def open_array(store=None, *, mode: str = "a", path=None, zarr_format: int | None = None,
               storage_options=None, skip_checksum: bool = False, **kwargs) -> ZArray:
    """Open the array at ``store``/``path``; ArrayNotFoundError if there is none."""
    s = resolve_store(store, mode, storage_options)
    path = _norm_path(path)
    if mode in ("w", "w-") or ("shape" in kwargs and node_exists(s, path) is None):
        return create(s, path=path, mode="w" if mode == "w" else "w-",
                      zarr_format=zarr_format or 3, skip_checksum=skip_checksum, **kwargs)
    info = find_node(s, path, zarr_format)
    if info is None or info.kind != "array":
        msg = _missing_message(s, path, zarr_format, "array")
        if info is not None:
            msg = f"{where(s, path or '/')} holds a group, not an array; open it with exzarr.open_group()"
        raise ArrayNotFoundError(msg, store=s, key=path)
    return ZArray(ArrayState(s, path, info.meta, read_only=mode == "r",
                             skip_checksum=skip_checksum))


def _missing_message(s, path, zarr_format, kind="array or group") -> str:
    keys = {None: "zarr.json, .zarray or .zgroup", 3: "zarr.json", 2: ".zarray or .zgroup"}[zarr_format]
    return (f"no {kind} found at {where(s, path or '/')} (looked for {keys}); check the path "
            f"or URL, that the array was created there, and that you may read it")


def array(data, store=None, **kwargs) -> ZArray:
    """Create an array holding ``data`` (shape and dtype taken from it)."""
    data = np.asarray(data)
    kwargs.setdefault("dtype", data.dtype)
    z = create(store, shape=data.shape, **kwargs)
    z[...] = data
    return z


def empty(store=None, *, shape, **kwargs) -> ZArray:
    return create(store, shape=shape, **kwargs)


def zeros(store=None, *, shape, **kwargs) -> ZArray:
    return create(store, shape=shape, fill_value=0, **kwargs)


def ones(store=None, *, shape, **kwargs) -> ZArray:
    return create(store, shape=shape, fill_value=1, **kwargs)


def full(store=None, *, shape, fill_value, **kwargs) -> ZArray:
    return create(store, shape=shape, fill_value=fill_value, **kwargs)
