"""An xarray backend that reads Zarr groups through exzarr: ``engine="exzarr"``.

::

    import xarray as xr
    ds = xr.open_dataset("data.zarr", engine="exzarr")              # lazy
    ds = xr.open_dataset("s3://b/d.zarr", engine="exzarr", chunks={},  # dask, Zarr chunks
                         storage_options={"anon": True})
    tree = xr.open_datatree("data.zarr", engine="exzarr")            # every group

The backend is used only when asked for: ``guess_can_open`` is always False, so a plain
``xr.open_dataset("x.zarr")`` keeps xarray's own zarr engine.

The dataset is built the way xarray's own zarr backend builds it, so the two give
identical datasets:

* each array of the group is a variable whose data is an :class:`ExzarrBackendArray`
  (wrapped lazily by xarray): nothing is read until values are needed, and then only the
  chunks the selection touches (basic keys read ``z[key]``, outer keys ``z.oindex[key]``,
  vectorized keys ``z.vindex[key]``);
* dimensions come from ``dimension_names`` (v3) or the ``_ARRAY_DIMENSIONS`` attribute (v2,
  hidden from the attributes, as are ``_nc*`` attributes); an array without names gets
  ``dim_0``, ``dim_1``... (``<name>_dim_<i>`` when ``dim_<i>`` is already used with
  another size);
* ``encoding`` holds ``chunks``, ``preferred_chunks`` (so ``chunks={}`` gives dask chunks
  equal to the Zarr chunks: the inner chunks of a sharded array), ``shards``, and
  ``compressors``/``filters``/(v3) ``serializer`` as zarr-python codec objects, as the
  zarr engine reports them (:func:`codec_encoding`);
* fill values follow xarray's zarr engine: the Zarr ``fill_value`` of a **v2** array
  becomes its ``_FillValue`` attribute (values equal to it read as NaN with
  ``mask_and_scale=True``), while for **v3** only a ``_FillValue`` attribute (as xarray
  writes it, base64 for floats) masks and the ``fill_value`` goes to ``encoding``;
  ``use_zarr_fill_value_as_mask=`` does what the installed zarr engine does with it
  (:func:`zarr_engine_applies_fill_mask_keyword`); ``ExzarrDataStore(group,
  use_zarr_fill_value_as_mask=...)`` always applies it;
* CF decoding (``mask_and_scale``, ``decode_times``, ``decode_timedelta``, ``use_cftime``,
  ``concat_characters``, ``decode_coords``) and ``drop_variables`` are xarray's own.

This module imports xarray; ``exzarr.integrations`` does not import it.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
from xarray.backends import BackendArray, BackendEntrypoint
from xarray.backends.common import AbstractDataStore
from xarray.backends.store import StoreBackendEntrypoint
from xarray.core import indexing
from xarray.core.utils import FrozenDict
from xarray.core.variable import Variable

from ..hierarchy.group import Group
from .. import api as ez
from ..codecs.registry import codec_class
from ..storage import Store

__all__ = ["ExzarrBackendEntrypoint", "ExzarrBackendArray", "ExzarrDataStore",
           "DIMENSION_KEY", "codec_encoding", "zarr_engine_applies_fill_mask_keyword"]

#: the v2 attribute xarray stores dimension names in
DIMENSION_KEY = "_ARRAY_DIMENSIONS"


class ExzarrBackendArray(BackendArray):
    """A lazily indexed exzarr array, as xarray's backend array protocol wants it."""

    __slots__ = ("_array", "shape", "dtype")

    def __init__(self, zarray):
        self._array = zarray
        self.shape = tuple(zarray.shape)
        self.dtype = np.dtype(zarray.dtype)

    def get_array(self):
        return self._array

    def _basic(self, key):
        return self._array[key].read()

    def _outer(self, key):
        return self._array.oindex[key].read()

    def _vectorized(self, key):
        return self._array.vindex[key].read()

    def __getitem__(self, key):
        if isinstance(key, indexing.BasicIndexer):
            method = self._basic
        elif isinstance(key, indexing.VectorizedIndexer):
            method = self._vectorized
        else:
            method = self._outer
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.VECTORIZED, method)


def _decode_fill_attr(value, dtype: np.dtype):
    """A ``_FillValue`` attribute as xarray's zarr backend writes it (base64 for floats)."""
    try:
        from xarray.backends.zarr import FillValueCoder
    except ImportError:  # pragma: no cover - older xarray
        return value
    try:
        return FillValueCoder.decode(value, dtype)
    except (TypeError, ValueError):
        return value


class ExzarrDataStore(AbstractDataStore):
    """The members of one exzarr :class:`~exzarr.core.group.Group` as xarray variables."""

    def __init__(self, group: Group, *, close_store: bool = False,
                 use_zarr_fill_value_as_mask: bool | None = None):
        self.group = group
        self._close_store = close_store
        if use_zarr_fill_value_as_mask is None:
            # xarray.open_zarr's default: v2 data used fill_value as the missing-value mask
            use_zarr_fill_value_as_mask = group.zarr_format == 2
        self._fill_as_mask = bool(use_zarr_fill_value_as_mask)
        self._arrays = dict(group.arrays())
        self._dims: dict[str, tuple[str, ...]] = {}
        sizes: dict[str, int] = {}
        named = {n: self._named_dims(a) for n, a in self._arrays.items()}
        for dims, a in ((d, self._arrays[n]) for n, d in named.items() if d is not None):
            for d, s in zip(dims, a.shape):
                if d is not None:
                    sizes.setdefault(d, s)
        for name, arr in self._arrays.items():
            given = named[name] or (None,) * arr.ndim
            dims = []
            for i, (d, s) in enumerate(zip(given, arr.shape)):
                if d is None:
                    d = f"dim_{i}"
                    if sizes.get(d, s) != s:
                        d = f"{name}_dim_{i}"
                    sizes.setdefault(d, s)
                dims.append(d)
            self._dims[name] = tuple(dims)

    @staticmethod
    def _named_dims(arr):
        if arr.zarr_format == 3:
            names = arr.dimension_names
        else:
            names = (arr.metadata.attributes or {}).get(DIMENSION_KEY)
        if names is None or len(names) != arr.ndim:
            return None
        return tuple(None if n is None else str(n) for n in names)

    def _attributes(self, arr) -> dict:
        attrs = dict(arr.metadata.attributes or {})
        if arr.zarr_format == 2:
            attrs.pop(DIMENSION_KEY, None)
            attrs = {k: v for k, v in attrs.items() if not k.lower().startswith("_nc")}
        return attrs

    def open_store_variable(self, name: str) -> Variable:
        arr = self._arrays[name]
        dims = self._dims[name]
        attrs = self._attributes(arr)
        data = indexing.LazilyIndexedArray(ExzarrBackendArray(arr))
        chunks = tuple(arr.chunks)
        encoding: dict[str, Any] = {"chunks": chunks,
                                    "preferred_chunks": dict(zip(dims, chunks))}
        encoding.update(codec_encoding(arr))
        encoding["shards"] = arr.shards
        fill = arr.metadata.fill_value
        if self._fill_as_mask:
            if fill is not None:
                attrs["_FillValue"] = np.asarray(fill, dtype=arr.dtype)[()]
        else:
            if arr.zarr_format == 3:
                encoding["fill_value"] = arr.fill_value
            if "_FillValue" in attrs:
                attrs["_FillValue"] = _decode_fill_attr(attrs["_FillValue"], arr.dtype)
        return Variable(dims, data, attrs, encoding)

    def get_variables(self):
        return FrozenDict((name, self.open_store_variable(name)) for name in self._arrays)

    def get_attrs(self):
        return {k: v for k, v in (self.group.attrs or {}).items()
                if not k.lower().startswith("_nc")}

    def get_dimensions(self):
        dims: dict[str, int] = {}
        for name, arr in self._arrays.items():
            for d, s in zip(self._dims[name], arr.shape):
                dims.setdefault(d, s)
        return FrozenDict(dims)

    def get_encoding(self):
        return {}

    def close(self):
        if self._close_store:
            self._close_store = False
            self.group.store.close()


def _open_group(filename_or_obj, group, storage_options, zarr_format, consolidated):
    """``(Group, close_store)`` for a path/URL, a Store or a Group."""

    sub = (group or "").strip("/") or None
    if isinstance(filename_or_obj, Group):
        g = filename_or_obj
        return (g[sub] if sub else g), False
    if isinstance(filename_or_obj, os.PathLike):
        filename_or_obj = os.fspath(filename_or_obj)
    owned = not isinstance(filename_or_obj, Store)
    g = ez.open_group(filename_or_obj, mode="r", path=sub, zarr_format=zarr_format,
                      storage_options=storage_options, use_consolidated=consolidated)
    return g, owned


def codec_encoding(arr) -> dict[str, Any]:
    """``compressors``, ``filters`` and (v3) ``serializer`` of ``arr`` as xarray's zarr
    engine puts them in ``encoding``: zarr-python's codec objects (numcodecs codecs for
    v2), so ``ds.to_zarr(...)`` writes them back unchanged.  Without zarr-python (or for
    a codec it does not know) they are the codecs' JSON documents."""
    doc = arr.metadata.to_json()
    fmt = arr.zarr_format
    try:
        from zarr.abc.codec import ArrayArrayCodec, ArrayBytesCodec, BytesBytesCodec
        from zarr.core.array import parse_array_metadata
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meta: Any = parse_array_metadata(dict(doc))
    except Exception:  # no zarr-python, or metadata it refuses: the JSON documents
        return _json_codec_encoding(doc, fmt)
    if fmt == 2:
        return {"compressors": () if meta.compressor is None else (meta.compressor,),
                "filters": tuple(meta.filters or ())}
    inner = meta.inner_codecs  # the codecs inside sharding_indexed, as zarr-python reports
    return {"compressors": tuple(c for c in inner if isinstance(c, BytesBytesCodec)),
            "filters": tuple(c for c in inner if isinstance(c, ArrayArrayCodec)),
            "serializer": next((c for c in inner if isinstance(c, ArrayBytesCodec)), None)}


def _json_codec_encoding(doc: dict, fmt: int) -> dict[str, Any]:
    if fmt == 2:
        comp = doc.get("compressor")
        return {"compressors": () if comp is None else (comp,),
                "filters": tuple(doc.get("filters") or ())}
    codecs = list(doc.get("codecs") or ())
    if len(codecs) == 1 and codecs[0].get("name") == "sharding_indexed":
        codecs = list(codecs[0].get("configuration", {}).get("codecs") or ())
    kinds = []
    for c in codecs:
        try:
            kinds.append(codec_class(c["name"]).kind)
        except Exception:  # unknown codec: after the serializer, so a bytes codec
            kinds.append("bytes_bytes")
    return {"compressors": tuple(c for c, k in zip(codecs, kinds) if k == "bytes_bytes"),
            "filters": tuple(c for c, k in zip(codecs, kinds) if k == "array_array"),
            "serializer": next((c for c, k in zip(codecs, kinds) if k == "array_bytes"),
                               None)}


@functools.cache
def zarr_engine_applies_fill_mask_keyword() -> bool:
    """Whether ``xr.open_dataset(..., engine="zarr", use_zarr_fill_value_as_mask=...)``
    of the installed xarray applies the keyword.

    xarray's zarr engine (2026.9 and earlier releases) hands ``None`` to its store
    whatever the caller passed, so the format default always applies (v2: the
    ``fill_value`` masks; v3: it does not), also through ``xr.open_zarr``.  engine="exzarr"
    does what the installed zarr engine does; this asks it once, on a one-element
    in-memory v3 array.  Without zarr-python the keyword applies.
    """
    try:
        import zarr
        from xarray.backends.zarr import ZarrBackendEntrypoint
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mem: Any = zarr.storage.MemoryStore()
            g = zarr.open_group(mem, mode="w", zarr_format=3)
            g.create_array("v", shape=(1,), dtype="int8", fill_value=1, dimension_names=["x"])
            ds = ZarrBackendEntrypoint().open_dataset(
                mem, mask_and_scale=False, consolidated=False,
                use_zarr_fill_value_as_mask=True)
            return "_FillValue" in ds["v"].attrs
    except Exception:
        return True


class ExzarrBackendEntrypoint(BackendEntrypoint):
    """``xr.open_dataset(path_or_url, engine="exzarr")``: Zarr v2/v3 groups read by exzarr."""

    description = "Open Zarr v2/v3 groups (local, zip, memory, sqlite, s3/gs/az/http) with exzarr"
    url = "https://github.com/exzarr/exzarr/blob/main/docs/interop.md"
    supports_groups = True
    open_dataset_parameters = (
        "filename_or_obj", "mask_and_scale", "decode_times", "concat_characters",
        "decode_coords", "drop_variables", "use_cftime", "decode_timedelta", "group",
        "storage_options", "zarr_format", "consolidated", "use_zarr_fill_value_as_mask")

    def guess_can_open(self, filename_or_obj) -> bool:
        """Always False: exzarr is used only when asked for (``engine="exzarr"``).

        Answering yes for Zarr paths would make xarray pick exzarr instead of its own
        zarr engine for every ``*.zarr`` path once exzarr is installed ("exzarr" sorts
        before "zarr"), changing what existing code gets."""
        return False

    def open_dataset(self, filename_or_obj, *, mask_and_scale=True, decode_times=True,
                     concat_characters=True, decode_coords=True,
                     drop_variables: str | Iterable[str] | None = None, use_cftime=None,
                     decode_timedelta=None, group: str | None = None, storage_options=None,
                     zarr_format: int | None = None, consolidated: bool | None = None,
                     use_zarr_fill_value_as_mask: bool | None = None):
        if (use_zarr_fill_value_as_mask is not None
                and not zarr_engine_applies_fill_mask_keyword()):
            use_zarr_fill_value_as_mask = None  # as the zarr engine: the format default
        g, owned = _open_group(filename_or_obj, group, storage_options, zarr_format,
                               consolidated)
        store = ExzarrDataStore(g, close_store=owned,
                                use_zarr_fill_value_as_mask=use_zarr_fill_value_as_mask)
        try:
            return StoreBackendEntrypoint().open_dataset(
                store, mask_and_scale=mask_and_scale, decode_times=decode_times,
                concat_characters=concat_characters, decode_coords=decode_coords,
                drop_variables=drop_variables, use_cftime=use_cftime,
                decode_timedelta=decode_timedelta)
        except BaseException:
            store.close()
            raise

    def open_groups_as_dict(self, filename_or_obj, *, group: str | None = None,
                            storage_options=None, zarr_format: int | None = None,
                            consolidated: bool | None = None, **kwargs):
        """``{"/": Dataset, "/sub": Dataset, ...}`` for the group and every group below it."""
        root, owned = _open_group(filename_or_obj, group, storage_options, zarr_format,
                                  consolidated)
        try:
            out = {"/": self.open_dataset(root, **kwargs)}
            for rel, node in root.members(max_depth=None):
                if isinstance(node, Group):
                    out["/" + rel] = self.open_dataset(node, **kwargs)
        except BaseException:
            if owned:
                root.store.close()
            raise
        if owned:  # closing the root dataset (or the tree) closes the store
            out["/"].set_close(root.store.close)
        return out

    def open_datatree(self, filename_or_obj, *, group: str | None = None, **kwargs):
        from xarray import DataTree
        groups = self.open_groups_as_dict(filename_or_obj, group=group, **kwargs)
        try:
            tree = DataTree.from_dict(groups)
        except BaseException:
            for ds in groups.values():
                ds.close()
            raise
        for path, ds in groups.items():
            tree[path].set_close(ds._close)
        return tree
