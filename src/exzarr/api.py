"""The module functions: ``open``, ``open_array``, ``open_group``, ``create``, ``group``,
``array``, ``zeros``, ``ones``, ``full``, ``empty``, ``consolidate_metadata``, ``convert``
and ``copy``.

``store`` may be a path, a URL (``file://``, ``memory://``, ``zip://``, ``sqlite://``,
any fsspec protocol) or a ``Store``; ``mode`` follows zarr-python (r, r+, a, w, w-).
These functions resolve the store and the mode, then hand over to the array, hierarchy
and tools layers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .array.codec_args import UNSET
from .array.create import ChunksArg, array_metadata
from .array.zarray import ZArray
from .hierarchy.group import Group
from .hierarchy.nodes import node_exists
from .hierarchy.open import (consolidate_at, create_array_at, group_at, open_array_node,
                             open_group_at, open_node)
from .storage import Store, resolve_store
from .storage.keys import norm_path
from .tools.convert import convert, copy

__all__ = ["create", "open", "open_array", "open_group", "group", "array", "zeros", "ones",
           "full", "empty", "consolidate_metadata", "convert", "copy", "store", "StoreLike"]

#: what every ``store`` argument accepts (``None``: a new in-memory store)
StoreLike = Store | str | os.PathLike[str] | None


def create(store: StoreLike = None, *, shape: int | Sequence[int], chunks: ChunksArg = None,
           dtype: Any = "float64", fill_value: Any = UNSET, compressor: Any = UNSET,
           codecs: Sequence[Any] | None = None, filters: Sequence[Any] | None = None,
           order: str | None = "C", dimension_separator: str | None = None,
           chunk_key_encoding: Mapping[str, Any] | None = None,
           dimension_names: Sequence[str | None] | None = None,
           attributes: Mapping[str, Any] | None = None, shards: ChunksArg = None,
           zarr_format: int = 3, path: str | None = None, overwrite: bool = False,
           mode: str | None = None, storage_options: Mapping[str, Any] | None = None,
           write_empty_chunks: bool | None = None, skip_checksum: bool = False) -> ZArray:
    """Create a new array and return it.

    Refuses to replace an existing node unless ``overwrite=True`` (or ``mode='w'``).  Every
    argument is validated before anything stored is replaced.
    """
    mode = mode or ("w" if overwrite else "a")
    s = resolve_store(store, mode, storage_options)
    meta = array_metadata(
        shape=shape, chunks=chunks, dtype=dtype, fill_value=fill_value, compressor=compressor,
        codecs=codecs, filters=filters, order=order, dimension_separator=dimension_separator,
        chunk_key_encoding=chunk_key_encoding, dimension_names=dimension_names,
        attributes=attributes, shards=shards, zarr_format=zarr_format)
    return create_array_at(s, norm_path(path), meta, overwrite=mode == "w" or overwrite,
                           write_empty_chunks=write_empty_chunks, skip_checksum=skip_checksum)


def _creates(s: Store, path: str, mode: str, kwargs: Mapping[str, Any]) -> bool:
    """Whether ``open``/``open_array`` create a new node instead of opening one."""
    return mode in ("w", "w-") or ("shape" in kwargs and node_exists(s, path) is None)


def open(store: StoreLike = None, *, mode: str = "a", path: str | None = None,
         zarr_format: int | None = None, storage_options: Mapping[str, Any] | None = None,
         skip_checksum: bool = False, **kwargs: Any) -> ZArray | Group:
    """Open the array or group at ``store``/``path`` (v2 or v3, detected).

    With mode ``w``/``w-``, or ``a`` when nothing exists and ``shape=`` is given, a new
    array is created (``kwargs`` go to :func:`create`).
    """
    s = resolve_store(store, mode, storage_options)
    p = norm_path(path)
    if _creates(s, p, mode, kwargs):
        if "shape" not in kwargs:
            return group_at(s, p, overwrite=mode == "w", mode=mode, zarr_format=zarr_format or 3,
                            attributes=kwargs.pop("attributes", None), **kwargs)
        return create(s, path=p, mode="w" if mode == "w" else "w-",
                      zarr_format=zarr_format or 3, skip_checksum=skip_checksum, **kwargs)
    return open_node(s, p, mode=mode, zarr_format=zarr_format, skip_checksum=skip_checksum)


def open_array(store: StoreLike = None, *, mode: str = "a", path: str | None = None,
               zarr_format: int | None = None, storage_options: Mapping[str, Any] | None = None,
               skip_checksum: bool = False, **kwargs: Any) -> ZArray:
    """Open the array at ``store``/``path``; ArrayNotFoundError if there is none."""
    s = resolve_store(store, mode, storage_options)
    p = norm_path(path)
    if _creates(s, p, mode, kwargs):
        return create(s, path=p, mode="w" if mode == "w" else "w-",
                      zarr_format=zarr_format or 3, skip_checksum=skip_checksum, **kwargs)
    return open_array_node(s, p, mode=mode, zarr_format=zarr_format, skip_checksum=skip_checksum)


def group(store: StoreLike = None, *, path: str | None = None, overwrite: bool = False,
          zarr_format: int | None = None, attributes: Mapping[str, Any] | None = None,
          storage_options: Mapping[str, Any] | None = None, mode: str | None = None) -> Group:
    """Create a group (or open the one already there) and return it.

    ``overwrite=True`` (or ``mode='w'``) replaces whatever is at ``store``/``path``;
    ``mode='w-'`` refuses an existing node.  New groups are Zarr v3 unless
    ``zarr_format=2``; an existing group of another format than an explicit
    ``zarr_format`` is an error.  Missing parent groups are created.
    """
    overwrite = overwrite or mode == "w"
    s = resolve_store(store, "w" if overwrite else (mode or "a"), storage_options)
    return group_at(s, norm_path(path), overwrite=overwrite, mode=mode, zarr_format=zarr_format,
                    attributes=attributes)


def open_group(store: StoreLike = None, *, mode: str = "a", path: str | None = None,
               zarr_format: int | None = None, storage_options: Mapping[str, Any] | None = None,
               use_consolidated: bool | None = None,
               attributes: Mapping[str, Any] | None = None) -> Group:
    """Open the group at ``store``/``path``.

    ``mode``: ``r`` read only, ``r+`` read/write (must exist), ``a`` read/write (created if
    missing), ``w`` create (replacing what is there), ``w-`` create (fail if it exists).
    ``use_consolidated``: None uses consolidated metadata when present, True requires it,
    False ignores it.
    """
    s = resolve_store(store, mode, storage_options)
    return open_group_at(s, norm_path(path), mode=mode, zarr_format=zarr_format,
                         use_consolidated=use_consolidated, attributes=attributes)


def consolidate_metadata(store: StoreLike, path: str | None = None, *,
                         zarr_format: int | None = None,
                         storage_options: Mapping[str, Any] | None = None) -> Group:
    """Gather the metadata of every node below the group at ``store``/``path`` into one
    key (v2 ``.zmetadata``, v3 ``consolidated_metadata`` in the group's ``zarr.json``)
    and return the group, opened consolidated.

    The store must support listing.  Later writes through exzarr keep it up to date.
    """
    return consolidate_at(resolve_store(store, "r+", storage_options), norm_path(path),
                          zarr_format)


def array(data: Any, store: StoreLike = None, **kwargs: Any) -> ZArray:
    """Create an array holding ``data`` (shape and dtype taken from it)."""
    data = np.asarray(data)
    kwargs.setdefault("dtype", data.dtype)
    z = create(store, shape=data.shape, **kwargs)
    z[...] = data
    return z


def empty(store: StoreLike = None, *, shape: int | Sequence[int], **kwargs: Any) -> ZArray:
    return create(store, shape=shape, **kwargs)


def zeros(store: StoreLike = None, *, shape: int | Sequence[int], **kwargs: Any) -> ZArray:
    return create(store, shape=shape, fill_value=0, **kwargs)


def ones(store: StoreLike = None, *, shape: int | Sequence[int], **kwargs: Any) -> ZArray:
    return create(store, shape=shape, fill_value=1, **kwargs)


def full(store: StoreLike = None, *, shape: int | Sequence[int], fill_value: Any,
         **kwargs: Any) -> ZArray:
    return create(store, shape=shape, fill_value=fill_value, **kwargs)


def store(value: Any, target: ZArray) -> ZArray:
    """Write ``value`` (a lazy expression, an array, anything NumPy broadcasts) into the
    stored array or view ``target``, block by block; returns ``target``."""
    target[...] = value
    return target
