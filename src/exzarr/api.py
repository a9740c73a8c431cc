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
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .array.codec_args import UNSET
from .array.readable import is_array
from .array.zarr_args import is_shape, zarr_kwargs
from .array.create import ChunksArg, array_metadata
from .array.zarray import ZArray
from .hierarchy.nodes import node_exists
from .hierarchy.open import (consolidate_at, create_array_at, group_at, open_array_node,
                             open_group_at, open_node)
from .storage import Store, resolve_store
from .storage.keys import join_key, norm_path

if TYPE_CHECKING:  # imported on first use: opening and reading need neither
    from .hierarchy.group import Group
    from .tools.convert import convert, copy

__all__ = ["create", "open", "open_array", "open_group", "group", "array", "zeros", "ones",
           "full", "empty", "consolidate_metadata", "convert", "copy", "store", "StoreLike",
           "create_array", "from_array", "create_group", "empty_like", "zeros_like",
           "ones_like", "full_like", "open_like", "save", "save_array", "save_group", "load",
           "LazyLoader", "tree", "open_consolidated", "ShapeLike", "create_hierarchy"]

#: what every ``store`` argument accepts (``None``: a new in-memory store)
StoreLike = Store | str | os.PathLike[str] | None


#: a shape as zarr-python takes it first: an int or a sequence of ints
ShapeLike = int | Sequence[int]

def _store_and_shape(first: Any, store: Any, shape: Any, fn: str) -> tuple[Any, Any]:
    """``(store, shape)`` from ``fn(first, store=..., shape=...)``: ``first`` is the shape
    (zarr-python's ``zarr.create(shape, ...)``) or the store (exzarr's store-first form)."""
    if is_shape(first):
        if shape is not None:
            raise TypeError(f"{fn}() got the shape twice (positionally {first!r} and "
                            f"shape={shape!r})")
        return store, first
    if first is not None:
        if store is not None:
            raise TypeError(f"{fn}() got the store twice (positionally {first!r} and "
                            f"store={store!r})")
        store = first
    if shape is None:
        raise TypeError(f"{fn}() needs a shape: {fn}((10, 10), ...) or {fn}(store, shape=...)")
    return store, shape


def create(store: StoreLike | ShapeLike = None, /, *, shape: ShapeLike | None = None,
           chunks: ChunksArg = None, dtype: Any = "float64", fill_value: Any = UNSET,
           compressor: Any = UNSET, codecs: Sequence[Any] | None = None,
           filters: Sequence[Any] | None = None, compressors: Any = UNSET,
           serializer: Any = UNSET, order: str | None = "C",
           dimension_separator: str | None = None,
           chunk_key_encoding: Mapping[str, Any] | None = None,
           dimension_names: Sequence[str | None] | None = None,
           attributes: Mapping[str, Any] | None = None, shards: ChunksArg = None,
           zarr_format: int = 3, path: str | None = None, overwrite: bool = False,
           mode: str | None = None, storage_options: Mapping[str, Any] | None = None,
           write_empty_chunks: bool | None = None, skip_checksum: bool = False,
           **extra: Any) -> ZArray:
    """Create a new array and return it.

    Both forms work: exzarr's ``create(store, shape=...)`` and zarr-python's
    ``create(shape, store=..., ...)`` (an int or a tuple/list of ints first is a shape).
    zarr-python's keywords are accepted too: ``attrs=`` (same as ``attributes=``),
    ``compressors=``/``filters=``/``serializer=`` in zarr-python 3's meaning (zarr-python
    codec objects included), ``chunk_shape=``, ``zarr_version=``, ``config=``,
    ``read_only=``.  Refuses to replace an existing node unless ``overwrite=True`` (or
    ``mode='w'``).  Every argument is validated before anything stored is replaced.
    """
    read_only = bool(extra.pop("read_only", False))
    s_arg, shape = _store_and_shape(store, extra.pop("store", None), shape, "create")
    kw = zarr_kwargs(dict(extra, chunks=chunks, dtype=dtype, fill_value=fill_value,
                           compressor=compressor, filters=filters, compressors=compressors,
                           serializer=serializer, order=order,
                           chunk_key_encoding=chunk_key_encoding, attributes=attributes,
                           zarr_format=zarr_format, write_empty_chunks=write_empty_chunks),
                      "create")
    unknown = set(kw) - {"chunks", "dtype", "fill_value", "compressor", "filters",
                         "compressors", "serializer", "order", "chunk_key_encoding",
                         "attributes", "zarr_format", "write_empty_chunks"}
    if unknown:
        raise TypeError(f"create() got unexpected keyword argument(s) {sorted(unknown)}")
    write_empty_chunks = kw.pop("write_empty_chunks")
    fmt = int(kw.pop("zarr_format") or 3)
    if fmt == 3 and kw["fill_value"] is None:  # zarr-python: None is the default (v3)
        kw["fill_value"] = UNSET
    mode = mode or ("w" if overwrite else "a")
    s = resolve_store(s_arg, mode, storage_options)
    meta = array_metadata(
        shape=shape, codecs=codecs, dimension_separator=dimension_separator,
        dimension_names=dimension_names, shards=shards, zarr_format=fmt, **kw)
    z = create_array_at(s, norm_path(path), meta, overwrite=mode == "w" or overwrite,
                        write_empty_chunks=write_empty_chunks, skip_checksum=skip_checksum)
    return open_array_node(s, z.path, mode="r") if read_only else z


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
    kwargs = zarr_kwargs(kwargs, "open")
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
    """Open the array at ``store``/``path``; ArrayNotFoundError if there is none.

    With mode ``w``/``w-``, or ``a`` when nothing exists and ``shape=`` is given, a new
    array is created (``kwargs`` go to :func:`create`, zarr-python's spellings included)."""
    kwargs = zarr_kwargs(kwargs, "open_array")
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


def _data_array(data: Any) -> Any:
    """``data`` for writing: exzarr arrays as they are (streamed), NumPy ``StringDType``
    arrays as variable-length strings, anything else through ``np.asarray``."""
    if is_array(data):
        return data
    a = np.asarray(data)
    return a.astype(object) if a.dtype.kind == "T" else a


def array(data: Any, store: StoreLike = None, **kwargs: Any) -> ZArray:
    """Create an array holding ``data`` (shape and dtype taken from it); ``kwargs`` as for
    :func:`create` (``store=`` may also be given by keyword, as in zarr-python)."""
    data = _data_array(data)
    kwargs.setdefault("dtype", data.dtype)
    if kwargs.get("dtype") is None:
        kwargs["dtype"] = data.dtype
    if kwargs.get("chunks") is None and hasattr(data, "chunks") and is_array(data):
        kwargs["chunks"] = getattr(data, "chunks")
    z = create(store, shape=data.shape, **kwargs)
    z[...] = data
    return z


def empty(store: StoreLike | ShapeLike = None, /, *, shape: ShapeLike | None = None,
          **kwargs: Any) -> ZArray:
    """A new array that reads as its fill value: ``empty((10, 10))`` or
    ``empty(store, shape=(10, 10))`` (see :func:`create`)."""
    return create(store, shape=shape, **kwargs)


def zeros(store: StoreLike | ShapeLike = None, /, *, shape: ShapeLike | None = None,
          **kwargs: Any) -> ZArray:
    """A new array of zeros: ``zeros((10, 10))`` or ``zeros(store, shape=(10, 10))``."""
    return create(store, shape=shape, fill_value=0, **kwargs)


def ones(store: StoreLike | ShapeLike = None, /, *, shape: ShapeLike | None = None,
         **kwargs: Any) -> ZArray:
    """A new array of ones: ``ones((10, 10))`` or ``ones(store, shape=(10, 10))``."""
    return create(store, shape=shape, fill_value=1, **kwargs)


def full(store: StoreLike | ShapeLike = None, /, fill_value: Any = UNSET, *,
         shape: ShapeLike | None = None, **kwargs: Any) -> ZArray:
    """A new array reading as ``fill_value`` everywhere: zarr-python's
    ``full((10, 10), 42)`` or ``full(store, shape=(10, 10), fill_value=42)``."""
    if fill_value is UNSET:
        raise TypeError("full() needs fill_value: full((10, 10), 42) or "
                        "full(store, shape=(10, 10), fill_value=42)")
    return create(store, shape=shape, fill_value=fill_value, **kwargs)


def create_array(store: StoreLike = None, *, name: str | None = None,
                 shape: ShapeLike | None = None, dtype: Any = None, data: Any = None,
                 chunks: ChunksArg = "auto", shards: ChunksArg = None, filters: Any = "auto",
                 compressors: Any = "auto", serializer: Any = "auto", fill_value: Any = None,
                 order: str | None = None, zarr_format: int | None = 3,
                 attributes: Mapping[str, Any] | None = None,
                 chunk_key_encoding: Any = None,
                 dimension_names: Sequence[str | None] | None = None,
                 storage_options: Mapping[str, Any] | None = None, overwrite: bool = False,
                 config: Any = None, write_data: bool = True, **kwargs: Any) -> ZArray:
    """zarr-python 3's main entry point: create an array at ``store``/``name``.

    Give ``shape`` and ``dtype``, or ``data`` (a NumPy or exzarr array, written unless
    ``write_data=False``).  ``compressors`` (bytes-bytes codecs; v2: at most one),
    ``filters`` and ``serializer`` as in zarr-python 3; ``"auto"`` is the default.
    ``kwargs``: :func:`create`'s (``attrs=``, ``compressor=``, ``codecs=``, ``mode=``...).
    """
    if data is not None:
        if shape is not None or dtype is not None:
            raise ValueError("create_array() takes data= or shape=/dtype=, not both")
        data = _data_array(data)
        shape, dtype = data.shape, data.dtype
    if shape is None:
        raise TypeError("create_array() needs shape= (and dtype=), or data=")
    if "path" in kwargs:
        name = join_key(name or "", kwargs.pop("path") or "") if name else kwargs.pop("path")
    z = create(store, shape=shape, dtype=dtype, chunks=None if chunks == "auto" else chunks,
               shards=shards, filters=filters, compressors=compressors, serializer=serializer,
               fill_value=fill_value, order=order, zarr_format=zarr_format or 3,
               attributes=attributes, chunk_key_encoding=chunk_key_encoding,
               dimension_names=dimension_names, storage_options=storage_options,
               overwrite=overwrite, config=config, path=name, **kwargs)
    if data is not None and write_data:
        z[...] = data
    return z


def from_array(store: StoreLike = None, *, data: Any, write_data: bool = True,
               name: str | None = None, chunks: Any = "keep", shards: Any = "keep",
               filters: Any = "keep", compressors: Any = "keep", serializer: Any = "keep",
               zarr_format: int | None = None, **kwargs: Any) -> ZArray:
    """A new array at ``store``/``name`` holding ``data`` (an exzarr array, a zarr-python
    array or anything NumPy takes); ``"keep"`` takes the source's chunks, shards and
    codecs when it has them (an exzarr array of the same Zarr format), else the default."""
    src = data if is_array(data) and not getattr(data, "is_lazy", False) else None
    fmt = zarr_format or (src.zarr_format if src is not None else 3)
    same = src is not None and src.zarr_format == fmt

    def keep(value: Any, attr: str) -> Any:
        if not (isinstance(value, str) and value == "keep"):
            return value
        if attr in ("chunks", "shards") and data is not None:
            got = getattr(data, attr, None)
            return got if attr == "chunks" or same else None
        if same and src is not None:
            return getattr(src, attr)
        return None if attr == "shards" else "auto"

    ser = keep(serializer, "serializer")
    return create_array(store, name=name, data=data, write_data=write_data,
                        chunks=keep(chunks, "chunks") or "auto", shards=keep(shards, "shards"),
                        filters=keep(filters, "filters"),
                        compressors=keep(compressors, "compressors"),
                        serializer="auto" if ser is None else ser, zarr_format=fmt, **kwargs)


def _like(a: Any, kwargs: dict[str, Any], fill: bool) -> dict[str, Any]:
    """:func:`create` arguments for an array like ``a`` (its shape, dtype, chunks; for an
    exzarr array also its format, codecs and, with ``fill``, fill value)."""
    out: dict[str, Any] = {"shape": tuple(np.shape(a)), "dtype": getattr(a, "dtype", None)}
    if out["dtype"] is None:
        out["dtype"] = np.asarray(a).dtype
    if getattr(a, "chunks", None) is not None:
        out["chunks"] = tuple(a.chunks)
    if isinstance(a, ZArray) and not a.is_lazy:
        out["zarr_format"] = a.zarr_format
        if a.shards is not None:
            out["shards"] = a.shards
        out["compressors"], out["filters"] = a.compressors, a.filters
        if a.zarr_format == 3:
            out["serializer"] = a.serializer
        if fill:
            out["fill_value"] = a.fill_value
    out.update(kwargs)
    return out


def empty_like(a: Any, **kwargs: Any) -> ZArray:
    """A new empty array like ``a`` (shape, dtype, chunks; ``store=`` where)."""
    return create(**_like(a, kwargs, True))


def zeros_like(a: Any, **kwargs: Any) -> ZArray:
    """A new array of zeros like ``a`` (an exzarr, zarr-python or NumPy array)."""
    return create(**_like(a, dict(kwargs, fill_value=0), False))


def ones_like(a: Any, **kwargs: Any) -> ZArray:
    """A new array of ones like ``a``."""
    return create(**_like(a, dict(kwargs, fill_value=1), False))


def full_like(a: Any, **kwargs: Any) -> ZArray:
    """A new array like ``a`` reading as ``fill_value`` (default: ``a``'s fill value)."""
    return create(**_like(a, kwargs, True))


def open_like(a: Any, path: StoreLike, **kwargs: Any) -> ZArray:
    """Open the array at ``path`` (a store, path or URL), creating it like ``a`` (shape,
    dtype, chunks, codecs) when it does not exist."""
    like = _like(a, kwargs, True)
    return open_array(path, **like)


def save_array(store: StoreLike, arr: Any, *, zarr_format: int | None = None,
               path: str | None = None, storage_options: Mapping[str, Any] | None = None,
               **kwargs: Any) -> None:
    """Save one array at ``store``/``path`` (replacing what is there), as NumPy's ``save``."""
    array(arr, store, zarr_format=zarr_format or 3, path=path, storage_options=storage_options,
          mode="w", **kwargs)


def save_group(store: StoreLike, *args: Any, zarr_format: int | None = None,
               path: str | None = None, storage_options: Mapping[str, Any] | None = None,
               **kwargs: Any) -> None:
    """Save several arrays in a new group at ``store``/``path``: positional ones as
    ``arr_0``, ``arr_1``..., keyword ones under their names (as NumPy's ``savez``)."""
    if not args and not kwargs:
        raise ValueError("save_group() needs at least one array to save")
    g = group(store, path=path, overwrite=True, zarr_format=zarr_format or 3,
              storage_options=storage_options)
    named = {f"arr_{i}": a for i, a in enumerate(args)}
    named.update(kwargs)
    for name, a in named.items():
        g.create_array(name, data=a)


def save(store: StoreLike, *args: Any, zarr_format: int | None = None, path: str | None = None,
         **kwargs: Any) -> None:
    """One positional array: :func:`save_array`; several, or named ones: :func:`save_group`."""
    if len(args) == 1 and not kwargs:
        save_array(store, args[0], zarr_format=zarr_format, path=path)
    else:
        save_group(store, *args, zarr_format=zarr_format, path=path, **kwargs)


class LazyLoader(Mapping[str, Any]):
    """What :func:`load` returns for a group: member arrays read (into NumPy) on lookup."""

    def __init__(self, grp: Group) -> None:
        self._group = grp
        self._names = grp.array_keys()
        self._cache: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._cache:
            member = self._group[name]
            assert isinstance(member, ZArray)
            self._cache[name] = member.read()
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"<LazyLoader: {', '.join(self._names)}>"


def load(store: StoreLike, path: str | None = None, zarr_format: int | None = None,
         storage_options: Mapping[str, Any] | None = None) -> Any:
    """Read the array at ``store``/``path`` into NumPy, or, for a group, a mapping of its
    arrays' names to NumPy arrays (read when looked up)."""
    node = open(store, mode="r", path=path, zarr_format=zarr_format,
                storage_options=storage_options)
    if isinstance(node, ZArray):
        return node.read()
    return LazyLoader(node)


def tree(grp: Group, expand: bool | None = None, level: int | None = None) -> Any:
    """``grp.tree()`` (zarr-python's module function): ``level`` levels deep."""
    return grp.tree(max_depth=None if level is None else max(0, level - 1))


def open_consolidated(store: StoreLike = None, *, mode: str = "r", **kwargs: Any) -> Group:
    """Open the group at ``store`` from its consolidated metadata (required)."""
    kwargs.pop("use_consolidated", None)
    return open_group(store, mode=mode, use_consolidated=True, **kwargs)


def create_group(store: StoreLike = None, *, path: str | None = None,
                 zarr_format: int | None = None, overwrite: bool = False,
                 attributes: Mapping[str, Any] | None = None,
                 storage_options: Mapping[str, Any] | None = None) -> Group:
    """Create a new group (``NodeExistsError`` if one exists, unless ``overwrite``)."""
    return group(store, path=path, overwrite=overwrite, zarr_format=zarr_format,
                 attributes=attributes, storage_options=storage_options,
                 mode=None if overwrite else "w-")


def store(value: Any, target: ZArray) -> ZArray:
    """Write ``value`` (a lazy expression, an array, anything NumPy broadcasts) into the
    stored array or view ``target``, block by block; returns ``target``."""
    target[...] = value
    return target


def create_hierarchy(*, store: StoreLike, nodes: Mapping[str, Any], overwrite: bool = False,
                     storage_options: Mapping[str, Any] | None = None
                     ) -> Iterator[tuple[str, ZArray | Group]]:
    """zarr-python 3's ``zarr.create_hierarchy``: create every node of ``nodes`` (path ->
    array or group metadata: exzarr's, zarr-python's, or a ``zarr.json``/``.zarray``/
    ``.zgroup`` dict), missing parents as groups, and return ``(path, node)`` pairs,
    parents first.  Everything is validated before anything is written; a node already at
    a named path is an error unless ``overwrite`` (then it is replaced, with everything
    below it).  The work is done when called, not when the result is iterated."""
    from .hierarchy.create_hierarchy import create_hierarchy_at
    from .hierarchy.group import Group
    s = resolve_store(store, "a", storage_options)
    out: list[tuple[str, ZArray | Group]] = []
    for node in create_hierarchy_at(s, nodes, overwrite=overwrite):
        if node.state is not None:
            out.append((node.path, ZArray(node.state)))
        else:
            out.append((node.path, Group(s, node.path, node.info.meta)))
    return iter(out)


def __getattr__(name: str) -> Any:
    """``convert`` and ``copy`` (the tools layer), imported on first use (PEP 562)."""
    if name in ("convert", "copy"):
        from .tools import convert as tools
        value = getattr(tools, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
