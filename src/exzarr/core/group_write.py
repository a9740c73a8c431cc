"""The writing half of :class:`~exzarr.core.group.Group`: creating, replacing and
deleting members and changing attributes.  Every write records itself in the
consolidated metadata of the ancestors (see :mod:`.consolidated`)."""

from __future__ import annotations

import json

from ..errors import NodeExistsError, NodeNotFoundError, ReadOnlyError, ShapeMismatchError
from ..metadata import GroupMetadataV3
from ..metadata._common import dumps_document
from .consolidated import refresh_after_write
from .hierarchy import check_name, ensure_parents, write_group
from .nodes import NodeInfo, delete_node, node_exists
from .state import join_key

__all__ = ["GroupWrites"]


class GroupWrites:
    """Mixin for Group; relies on its ``_store``, ``_path``, ``_meta``, ``_cons``,
    ``_prefix``, ``_info``, ``_node`` and ``_where``."""

    def _set_attrs(self, d: dict) -> None:
        self._check_writable()
        if self.zarr_format == 3:
            key = join_key(self._path, "zarr.json")
            raw = self._store.get(key)  # keep what others wrote (consolidated_metadata)
            doc = json.loads(raw) if raw is not None else self._meta.to_json()
            doc["attributes"] = d
            self._meta = GroupMetadataV3.from_json(doc, store=self._store, key=key)
            self._store.set(key, dumps_document(doc))
        else:
            self._meta = self._meta.replace(attributes=d)
            self._store.set(join_key(self._path, ".zattrs"), self._meta.attrs_to_bytes())
        refresh_after_write(self._store, self._path, NodeInfo("group", self.zarr_format, self._meta),
                            self.zarr_format)

    # -- writes ---------------------------------------------------------------------
    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError(f"group at {self._where()} was opened read-only (mode='r'); open "
                                f"it with mode='r+' or 'a' to change it", store=self._store,
                                key=self._path)

    def _written(self, full: str, info: NodeInfo | None) -> None:
        """Record a node written (``info``) or deleted (None) at store path ``full``."""
        refresh_after_write(self._store, full, info, self.zarr_format)
        if self._cons is not None:
            rel = full[len(self._path):].lstrip("/") if self._path else full
            rel = join_key(self._prefix, rel)
            if info is None:
                self._cons.remove(rel)
            else:
                self._cons.put(rel, info)

    def _prepare(self, name: str, overwrite: bool) -> tuple[str, str]:
        self._check_writable()
        rel = check_name(name, self._where())
        full = join_key(self._path, rel)
        existing = node_exists(self._store, full)
        if existing:
            if not overwrite:
                raise NodeExistsError(
                    f"an {existing} already exists at {self._where(rel)}; pass overwrite=True "
                    f"to replace it, or open it with group[{rel!r}]", store=self._store, key=full)
            delete_node(self._store, full)
            self._written(full, None)
        ensure_parents(self._store, full, self.zarr_format, start=self._path,
                       on_write=self._written)
        return rel, full

    def create_group(self, name: str, *, overwrite: bool = False, attributes=None):
        """Create the group ``name`` (``"a/b"`` creates missing parents) and return it."""
        from .attributes import check_json
        if attributes:
            check_json(dict(attributes), self._where(name))
        rel, full = self._prepare(name, overwrite)
        info = write_group(self._store, full, self.zarr_format, attributes)
        self._written(full, info)
        return self._node(rel, info)

    def require_group(self, name: str, *, attributes=None):
        """The group ``name``, created if it does not exist (an array there is an error)."""
        rel = check_name(name, self._where())
        info = self._info(rel)
        if info is None:
            return self.create_group(rel, attributes=attributes)
        if info.kind != "group":
            raise NodeExistsError(f"{self._where(rel)} holds an array, not a group; choose "
                                  f"another name or delete it (del group[{rel!r}])",
                                  store=self._store, key=join_key(self._path, rel))
        return self._node(rel, info)

    def create_array(self, name: str, *, shape, dtype="float64", chunks=None,
                     overwrite: bool = False, **kwargs):
        """Create the array ``name`` in this group; ``kwargs`` as for :func:`exzarr.create`
        (``fill_value``, ``compressor``, ``codecs``, ``filters``, ``shards``, ``attributes``,
        ``dimension_names``, ``order``, ...).  The array has the group's Zarr format."""
        from .api import create

        fmt = kwargs.pop("zarr_format", None)
        if fmt not in (None, self.zarr_format):
            raise ValueError(f"the group at {self._where()} is Zarr v{self.zarr_format}; its "
                             f"arrays must be too (got zarr_format={fmt})")
        for k in ("store", "path", "mode", "storage_options"):
            if k in kwargs:
                raise TypeError(f"create_array() takes no {k}=; the array goes in this group")
        rel, full = self._prepare(name, overwrite)
        z = create(self._store, path=full, shape=shape, dtype=dtype, chunks=chunks,
                   zarr_format=self.zarr_format, **kwargs)
        info = NodeInfo("array", self.zarr_format, z.metadata)
        self._written(full, info)
        return self._node(rel, info)

    def require_array(self, name: str, *, shape, dtype="float64", **kwargs):
        """The array ``name``; created if missing, else checked to have ``shape``/``dtype``."""
        import numpy as np

        rel = check_name(name, self._where())
        info = self._info(rel)
        if info is None:
            return self.create_array(rel, shape=shape, dtype=dtype, **kwargs)
        if info.kind != "array":
            raise NodeExistsError(f"{self._where(rel)} holds a group, not an array",
                                  store=self._store, key=join_key(self._path, rel))
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if tuple(info.meta.shape) != shape or info.meta.dtype != np.dtype(dtype):
            raise ShapeMismatchError(
                f"the array at {self._where(rel)} has shape {tuple(info.meta.shape)} and dtype "
                f"{info.meta.dtype}, not {shape} and {np.dtype(dtype)}; use another name or "
                f"create_array(..., overwrite=True)", store=self._store, key=join_key(self._path, rel))
        return self._node(rel, info)

    def __delitem__(self, name: str) -> None:
        self._check_writable()
        rel = check_name(name, self._where())
        full = join_key(self._path, rel)
        if self._info(rel) is None:
            raise NodeNotFoundError(f"no member {rel!r} to delete in the group at {self._where()}",
                                    store=self._store, key=full)
        delete_node(self._store, full)
        self._written(full, None)
