"""``ZArray``: a stored Zarr array, or a lazy view of one.

Indexing returns views (no I/O); ``read()``/``np.asarray`` resolve the view's selection
to a chunk plan and fetch; assignment writes at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from ..codecs.registry import get as get_codec
from ..compute import Expr, Leaf
from ..errors import ReadOnlyError, ShapeMismatchError, WriteConflictError
from ..indexing.parse import parse_blocks, parse_key, parse_orthogonal, parse_vectorized
from ..indexing.selection import Selection
from ..metadata import ArrayMetadataV3
from ..metadata.chunk_grid import grid_shape
from ..storage import Store, resolve_store
from ..storage.keys import norm_path
from . import chunkapi, resize as _resize, streaming
from .arrayapi import ArrayAPIMixin
from .create import array_metadata, auto_chunks
from .attributes import Attributes
from .info import ArrayInfo, array_info, array_repr
from .readable import Readable, create_array
from .reader import read_selection
from .source import ZArraySource
from .state import ArrayMetadata, ArrayState
from .writer import write_selection

__all__ = ["ZArray"]

R = TypeVar("R")
#: ``parse(key, shape) -> Selection``: one of the indexing modes
_Parser = Callable[[Any, tuple[int, ...]], Selection]
#: ``filter(coords) -> bool``: which chunks a chunk stream visits
ChunkFilter = Callable[[tuple[int, ...]], bool]


class ZArray(ArrayAPIMixin):
    """A Zarr array (``selection is None``) or a lazy view of one."""

    __slots__ = ("_state", "_sel", "_dtype")

    def __init__(self, state: ArrayState, selection: Selection | None = None,
                 dtype: npt.DTypeLike | None = None) -> None:
        self._state = state
        self._sel = selection
        self._dtype: np.dtype[Any] | None = np.dtype(dtype) if dtype is not None else None

    # -- identity -------------------------------------------------------------------
    @property
    def is_lazy(self) -> bool:
        """Whether this is a lazy expression (see :mod:`exzarr.array.lazy`) rather than a
        stored array or a view of one."""
        return False

    def _as_expr(self) -> Expr:
        return Leaf(ZArraySource(self))

    @property
    def is_view(self) -> bool:
        return self._sel is not None or self._dtype is not None

    @property
    def selection(self) -> Selection:
        return self._fresh_selection(write=False)

    def _fresh_selection(self, write: bool) -> Selection:
        """The view's selection, refusing a view of an array resized since it was taken
        (ShapeMismatchError on read; WriteConflictError on write: nothing is written)."""
        if self._sel is None:
            return Selection.identity(tuple(self._state.meta.shape))
        if self._sel.base_shape != tuple(self._state.meta.shape):
            cls = WriteConflictError if write else ShapeMismatchError
            raise cls(f"this view was taken when the array at {self._state.where()} had shape "
                      f"{self._sel.base_shape}; it now has shape {tuple(self._state.meta.shape)} "
                      f"(resized){'; nothing was written' if write else ''}: index the array again",
                      store=self._state.store, key=self._state.path)
        return self._sel

    @property
    def store(self) -> Store:
        return self._state.store

    @property
    def path(self) -> str:
        return self._state.path

    @property
    def metadata(self) -> ArrayMetadata:
        return self._state.meta

    @property
    def zarr_format(self) -> int:
        return self._state.meta.zarr_format

    # -- shape and type -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._state.meta.shape) if self._sel is None else self._sel.out_shape

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)  # Python ints: never wraps around

    @property
    def dtype(self) -> np.dtype[Any]:
        return self._dtype if self._dtype is not None else self._state.meta.dtype

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def chunks(self) -> tuple[int, ...]:
        """The chunk shape (the inner chunk shape of a sharded array)."""
        inner = self._state.pipeline.inner_chunk_shape
        return tuple(inner) if inner else tuple(self._state.meta.chunks)

    @property
    def shards(self) -> tuple[int, ...] | None:
        """The shard shape of a sharded array, else ``None``."""
        return tuple(self._state.meta.chunks) if self._state.pipeline.is_sharded else None

    @property
    def fill_value(self) -> Any:
        return self._state.fill

    @property
    def order(self) -> str:
        return self._state.meta.order

    @property
    def dimension_names(self) -> tuple[str | None, ...] | None:
        return self._state.meta.dimension_names

    @property
    def codecs(self) -> tuple[dict[str, Any], ...] | dict[str, Any]:
        """The codec configuration: v3 codec dicts, or v2 ``{'filters', 'compressor'}``."""
        meta = self._state.meta
        if isinstance(meta, ArrayMetadataV3):
            return tuple(meta.codecs)
        return {"filters": meta.filters, "compressor": meta.compressor}

    @property
    def read_only(self) -> bool:
        return self._state.read_only or self._state.store.read_only

    @property
    def attrs(self) -> Attributes:
        return Attributes(self)

    def _get_attrs(self) -> dict[str, Any]:
        return self._state.meta.attributes or {}

    def _set_attrs(self, d: dict[str, Any]) -> None:
        self._state.replace_meta(self._state.meta.replace(attributes=d))

    def _where(self) -> str:
        return self._state.where()

    @property
    def nchunks(self) -> int:
        """Number of stored units in the grid: chunks, or shards for a sharded array (each
        is one store key, as zarr-python counts them).  :attr:`nchunks_grid` counts the
        chunks of shape :attr:`chunks` (inner chunks when sharded) instead."""
        return self._state.meta.nchunks

    @property
    def nchunks_initialized(self) -> int:
        """Number of chunks (shards) present in the store."""
        return sum(1 for _ in self.stored_chunks())

    # -- views ----------------------------------------------------------------------
    def _view(self, inner: Selection) -> "ZArray":
        base = self.selection if self._sel is not None else None
        sel = base.compose(inner) if base is not None else inner
        return ZArray(self._state, sel, self._dtype)

    def __getitem__(self, key: Any) -> "ZArray":
        return self._view(parse_key(_read_key(key), self.shape))

    def __setitem__(self, key: Any, value: Any) -> None:
        self._write(self._compose(parse_key(_read_key(key), self.shape)), value)

    def _compose(self, inner: Selection) -> Selection:
        return self._fresh_selection(write=True).compose(inner) if self._sel is not None else inner

    def _write(self, sel: Selection, value: Any) -> None:
        if self._state.read_only:
            raise ReadOnlyError(f"array at {self._state.where()} was opened read-only "
                                f"(mode='r'); open it with mode='r+' or 'a' to write",
                                store=self._state.store, key=self._state.path)
        if isinstance(value, Readable):  # lazy or stored: streamed block by block
            from .assign import assign  # the evaluator loads with the first such write
            assign(self._state, sel, value)
            return
        if isinstance(value, np.ndarray) and value.dtype.kind == "T":  # NumPy StringDType
            value = value.astype(object)
        write_selection(self._state, sel, value)

    @property
    def oindex(self) -> _Indexer:
        return _Indexer(self, parse_orthogonal)

    @property
    def vindex(self) -> _Indexer:
        return _Indexer(self, parse_vectorized)

    @property
    def blocks(self) -> _Indexer:
        def parse(key: Any, shape: tuple[int, ...]) -> Selection:
            if self.is_view:
                raise IndexError("blocks indexing applies to a whole array, not a view")
            return parse_blocks(key, shape, self.chunks)
        return _Indexer(self, parse)

    def astype(self, dtype: npt.DTypeLike, copy: bool = True,
               order: str | None = None) -> "ZArray":
        """A lazy view that converts to ``dtype`` when read (``order`` is accepted for
        NumPy's signature, which zarr-python uses; reads are always C order)."""
        return ZArray(self._state, self._sel, dtype)

    # -- I/O ------------------------------------------------------------------------
    def read(self, out: np.ndarray | None = None, *, xp: Any = None) -> Any:
        """Materialise this array/view as a NumPy array (into ``out`` if given).

        ``xp`` (an Array API namespace such as ``cupy`` or ``torch``) converts the result.
        """
        base_dtype = self._state.meta.dtype
        if self._dtype is None or self._dtype == base_dtype:
            result = read_selection(self._state, self.selection, out)
        else:
            result = read_selection(self._state, self.selection).astype(self._dtype)
            if out is not None:
                out[...] = result
                result = out
        if xp is not None:
            result = xp.asarray(result)
        return result

    def to_zarr(self, store: Any = None, *, path: str | None = None, chunks: Any = None,
                overwrite: bool = False, storage_options: Any = None,
                progress: bool | str = False, **create_kwargs: Any) -> ZArray:
        """Store this array (a lazy expression, a view, an array) as a new array at
        ``store``/``path`` and return it; ``create_kwargs`` as for :func:`exzarr.create`
        (``compressor=``, ``codecs=``, ``zarr_format=``, ``shards=``...).  Evaluated block
        by block, blocks aligned to the new array's chunks (default: the chunks of the
        inputs where they align, else automatic); ``progress=True`` shows a tqdm bar."""
        if chunks is None:
            grid = self._as_expr().grid()
            auto = auto_chunks(self.shape, self.dtype.itemsize)
            chunks = tuple(max(1, min(size, n)) if size else a for (size, _), a, n in
                           zip(grid, auto, self.shape)) if grid else None
        s = resolve_store(store, "w" if overwrite else "a", storage_options)
        meta = array_metadata(shape=self.shape, dtype=self.dtype, chunks=chunks, **create_kwargs)
        target: ZArray = create_array(s, norm_path(path), meta, overwrite=overwrite)
        from .assign import assign
        assign(target._state, target._fresh_selection(write=True), self, progress=progress)
        return target

    def write(self, value: Any) -> None:
        """Write ``value`` (broadcast) to the whole array or view."""
        self._write(self._fresh_selection(write=True), value)

    def __array__(self, dtype: npt.DTypeLike | None = None,
                  copy: bool | None = None) -> np.ndarray:
        if copy is False:
            raise ValueError("an exzarr array lives in a store (or is an expression), so "
                             "converting it to NumPy always copies; use copy=None or True")
        a = self.read()
        return a.astype(dtype, copy=False) if dtype is not None else a

    def __repr__(self) -> str:
        return array_repr(self)

    @property
    def info(self) -> ArrayInfo:
        return array_info(self)

    def _repr_html_(self) -> str:
        """Jupyter's rich display: a table beside an SVG of the chunk grid (metadata only)."""
        from .display import array_html  # the display loads on first use
        return array_html(self)

    def info_html(self, stored: bool = False) -> str:
        """:meth:`_repr_html_`'s HTML; ``stored=True`` also lists the store for stored
        chunks, stored bytes, compression ratio and a shaded coverage of the grid."""
        from .display import array_html
        return array_html(self, stored=stored)

    # -- chunk-level API and shape changes live in their own modules ----------------
    def stored_chunks(self) -> Iterator[tuple[int, ...]]:
        """Coordinates of the chunks (shards) present in the store."""
        return chunkapi.stored_chunks(self._state)

    def read_chunk(self, coords: Sequence[int]) -> np.ndarray:
        return chunkapi.read_chunk(self._state, tuple(coords))

    def write_chunk(self, coords: Sequence[int], data: npt.ArrayLike) -> None:
        chunkapi.write_chunk(self._state, tuple(coords), data)

    @property
    def nchunks_grid(self) -> int:
        """Number of chunks of shape :attr:`chunks` (inner chunks when sharded) in the grid
        of this array or view: the units :meth:`chunk_stream` yields.  Equal to
        :attr:`nchunks` for an unsharded array."""
        return math.prod(grid_shape(self.shape, self.chunks))

    def chunk_stream(self, *, parallel: int = 1, ordered: bool = True,
                     filter: ChunkFilter | None = None,
                     progress: bool = False) -> Iterator[tuple[tuple[int, ...], np.ndarray]]:
        """Yield ``(coords, chunk)`` per chunk with at most ``parallel + 1`` chunks in memory."""
        return streaming.chunk_stream(self, parallel=parallel, ordered=ordered, filter=filter,
                            progress=progress)

    def iter_chunks(self, **kwargs: Any) -> Iterator[tuple[tuple[int, ...], np.ndarray]]:
        """The same iterator as :meth:`chunk_stream` (ExZarr's name), under the name
        Python users look for; there is one implementation."""
        return self.chunk_stream(**kwargs)

    def parallel_chunk_map(self, fn: Callable[[tuple[int, ...], np.ndarray], R], *,
                           parallel: int | None = None, ordered: bool = True,
                           filter: ChunkFilter | None = None, progress: bool = False) -> list[R]:
        """``[fn(coords, chunk) for each chunk]`` computed in parallel worker threads."""
        return streaming.parallel_chunk_map(self, fn, parallel=parallel, ordered=ordered, filter=filter,
                                  progress=progress)

    def resize(self, *new_shape: int | Sequence[int]) -> None:
        """Change the shape: ``resize(20, 10)`` or ``resize((20, 10))``."""
        dims: Sequence[Any] = new_shape
        if len(new_shape) == 1 and isinstance(new_shape[0], (tuple, list)):
            dims = new_shape[0]
        _resize.resize(self, tuple(int(s) for s in dims))

    def append(self, data: npt.ArrayLike, axis: int = 0) -> tuple[int, ...]:
        return _resize.append(self, data, axis)

    # -- zarr-python 3's names (see docs/coming-from-zarr-python.md) -----------------
    def _inner_codecs(self) -> list[dict[str, Any]]:
        """The v3 codec chain a chunk goes through (inside the shard of a sharded array)."""
        meta = self._state.meta
        assert isinstance(meta, ArrayMetadataV3)
        chain = [dict(c) for c in meta.codecs]
        if len(chain) == 1 and chain[0].get("name") == "sharding_indexed":
            chain = [dict(c) for c in chain[0]["configuration"]["codecs"]]
        return chain

    def _codecs_of(self, kind: str) -> tuple[dict[str, Any], ...]:
        return tuple(c for c in self._inner_codecs()
                     if get_codec(c, zarr_format=3).kind == kind)

    @property
    def compressors(self) -> tuple[dict[str, Any], ...]:
        """zarr-python 3's ``compressors``, as exzarr codec dicts: the bytes-bytes codecs of
        a v3 array (of a chunk inside the shard when sharded), or ``(compressor,)`` of a v2
        array (``()`` when uncompressed)."""
        meta = self._state.meta
        if isinstance(meta, ArrayMetadataV3):
            return self._codecs_of("bytes_bytes")
        return (dict(meta.compressor),) if meta.compressor else ()

    @property
    def compressor(self) -> dict[str, Any] | None:
        """The compressor of a v2 array (a numcodecs config dict, or None); like
        zarr-python 3, a TypeError for v3 arrays (use :attr:`compressors`)."""
        meta = self._state.meta
        if isinstance(meta, ArrayMetadataV3):
            raise TypeError("`compressor` is not available for Zarr format 3 arrays; use "
                            "`compressors`")
        return dict(meta.compressor) if meta.compressor else None

    @property
    def filters(self) -> tuple[dict[str, Any], ...]:
        """zarr-python 3's ``filters`` as codec dicts: the array-array codecs of a v3 array,
        the numcodecs filter configs of a v2 array."""
        meta = self._state.meta
        if isinstance(meta, ArrayMetadataV3):
            return self._codecs_of("array_array")
        return tuple(dict(f) for f in meta.filters or ())

    @property
    def serializer(self) -> dict[str, Any] | None:
        """zarr-python 3's ``serializer``: the array-bytes codec dict of a v3 array (inside
        the shard when sharded); None for v2 arrays."""
        if not isinstance(self._state.meta, ArrayMetadataV3):
            return None
        found = self._codecs_of("array_bytes")
        return found[0] if found else None

    @property
    def name(self) -> str:
        """The array's path with a leading slash (``"/"`` at the root), as h5py/zarr."""
        return "/" + self._state.path

    @property
    def basename(self) -> str:
        """The last component of :attr:`name`."""
        return self.name.split("/")[-1]

    @property
    def store_path(self) -> str:
        """The store URL and the array's path inside it (a string; zarr-python's is a
        ``StorePath`` object)."""
        url = self._state.store.url.rstrip("/")
        return f"{url}/{self._state.path}" if self._state.path else url

    @property
    def cdata_shape(self) -> tuple[int, ...]:
        """Number of chunks (inner chunks when sharded) along each dimension."""
        return tuple(grid_shape(self.shape, self.chunks))

    @property
    def nbytes_stored(self) -> int:
        """Bytes the array takes in its store: metadata and stored chunks (lists the
        store, as zarr-python does)."""
        store, path = self._state.store, self._state.path
        keys = store.list_prefix(path + "/") if path else store.list()
        return sum(store.getsize(k) or 0 for k in keys)

    def info_complete(self) -> ArrayInfo:
        """:attr:`info` (which already lists the store for stored chunks and bytes)."""
        return array_info(self)

    def update_attributes(self, new_attributes: dict[str, Any]) -> "ZArray":
        """Merge ``new_attributes`` into the attributes (one metadata write); returns self."""
        self.attrs.update(new_attributes)
        return self

    def view(self, dtype: npt.DTypeLike | None = None) -> np.ndarray:
        """NumPy's ``ndarray.view``: the values read into NumPy, reinterpreted as ``dtype``
        (what zarr-python calls when an exzarr array is assigned into one of its arrays)."""
        a = self.read()
        return a if dtype is None else a.view(dtype)

    def get_basic_selection(self, selection: Any = Ellipsis, *, out: np.ndarray | None = None,
                            fields: Any = None) -> Any:
        """``z[selection]`` read into NumPy (zarr-python's eager read; a scalar when every
        dimension is indexed by an integer)."""
        a = _fields(self[selection].read(out), fields)
        return a[()] if out is None and getattr(a, "ndim", 1) == 0 else a

    def set_basic_selection(self, selection: Any, value: Any, *, fields: Any = None) -> None:
        """``z[selection] = value``."""
        _no_fields(fields)
        self[selection] = value

    def get_orthogonal_selection(self, selection: Any, *, out: np.ndarray | None = None,
                                 fields: Any = None) -> Any:
        """``z.oindex[selection]`` read into NumPy."""
        return _fields(self.oindex[selection].read(out), fields)

    def set_orthogonal_selection(self, selection: Any, value: Any, *, fields: Any = None) -> None:
        """``z.oindex[selection] = value``."""
        _no_fields(fields)
        self.oindex[selection] = value

    def get_coordinate_selection(self, selection: Any, *, out: np.ndarray | None = None,
                                 fields: Any = None) -> Any:
        """``z.vindex[selection]`` (integer coordinates) read into NumPy."""
        return _fields(self.vindex[selection].read(out), fields)

    def set_coordinate_selection(self, selection: Any, value: Any, *, fields: Any = None) -> None:
        """``z.vindex[selection] = value``."""
        _no_fields(fields)
        self.vindex[selection] = value

    def get_mask_selection(self, mask: Any, *, out: np.ndarray | None = None,
                           fields: Any = None) -> Any:
        """``z.vindex[mask]`` (a boolean array of the array's shape) read into NumPy."""
        return _fields(self.vindex[mask].read(out), fields)

    def set_mask_selection(self, mask: Any, value: Any, *, fields: Any = None) -> None:
        """``z.vindex[mask] = value``."""
        _no_fields(fields)
        self.vindex[mask] = value

    def get_block_selection(self, selection: Any, *, out: np.ndarray | None = None,
                            fields: Any = None) -> Any:
        """``z.blocks[selection]`` read into NumPy."""
        return _fields(self.blocks[selection].read(out), fields)

    def set_block_selection(self, selection: Any, value: Any, *, fields: Any = None) -> None:
        """``z.blocks[selection] = value``."""
        _no_fields(fields)
        self.blocks[selection] = value


def _fields(a: Any, fields: Any) -> Any:
    """zarr-python's ``fields=`` of a structured dtype (exzarr has none: only None)."""
    _no_fields(fields)
    return a


def _no_fields(fields: Any) -> None:
    if fields is not None:
        raise IndexError("fields= selects fields of a structured dtype, which exzarr arrays "
                         "do not have")


def _read_key(key: Any) -> Any:
    """An index key with every exzarr array in it (a mask, index positions) read once,
    before the key is parsed."""
    if type(key) is int:
        return key
    if isinstance(key, Readable):
        return key.read()
    if isinstance(key, tuple) and any(type(k) is not int and isinstance(k, Readable) for k in key):
        return tuple(k.read() if isinstance(k, Readable) else k for k in key)
    return key


class _Indexer:
    __slots__ = ("_arr", "_parse")

    def __init__(self, arr: ZArray, parse: _Parser) -> None:
        self._arr = arr
        self._parse = parse

    def __getitem__(self, key: Any) -> ZArray:
        return self._arr._view(self._parse(_read_key(key), self._arr.shape))

    def __setitem__(self, key: Any, value: Any) -> None:
        self._arr._write(self._arr._compose(self._parse(_read_key(key), self._arr.shape)), value)
