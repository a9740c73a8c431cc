"""``Group``: a mapping of member names to ``ZArray``/``Group``.

A v2 group is ``.zgroup`` + ``.zattrs``; a v3 group is ``zarr.json`` with
``node_type: group``.  A group opened with consolidated metadata answers member lookups
and listings from it (no further reads); every metadata write exzarr makes below a
consolidated group updates that consolidated metadata (see :mod:`.consolidated`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar, overload

import numpy as np
import numpy.typing as npt

from ..array.attributes import Attributes, check_json
from ..array.readable import Readable
from ..array.zarr_args import zarr_kwargs
from ..array.create import array_metadata
from ..array.state import ArrayState
from ..array.zarray import ZArray
from ..errors import NodeExistsError, NodeNotFoundError, ReadOnlyError, ShapeMismatchError, where
from ..metadata import GroupMetadataV3
from ..metadata._common import dumps_document, loads_json
from ..storage import Store
from ..storage.keys import join_key, norm_path
from .consolidated import ConsolidatedView, read_consolidated, refresh_after_write
from .create_hierarchy import execute_plan, plan_hierarchy
from .nodes import GroupMetadata, NodeInfo, delete_node, find_node, node_exists
from ..array.info import ArrayInfo
from .tree import Tree, group_info
from .walk import check_name, children, ensure_parents, walk, write_group

__all__ = ["Group"]


def _dtype_of(data: Any) -> np.dtype[Any]:
    dt = getattr(data, "dtype", None)
    dt = np.dtype(dt) if dt is not None else np.asarray(data).dtype
    return np.dtype(object) if dt.kind == "T" else dt

_D = TypeVar("_D")


class Group(Mapping[str, "ZArray | Group"]):
    """A Zarr group: ``g["a/b"]``, ``"x" in g``, ``list(g)`` (member names), ``len(g)``.

    Reading members (lookup, listing, walking) and writing them (creating, replacing and
    deleting members, changing attributes) both live here; every write records itself in
    the consolidated metadata of the ancestors (see :mod:`.consolidated`)."""

    def __init__(self, store: Store, path: str, meta: GroupMetadata, *, read_only: bool = False,
                 cons: ConsolidatedView | None = None, prefix: str = "") -> None:
        self._store = store
        self._path = norm_path(path)
        self._meta: GroupMetadata = meta
        self._read_only = read_only
        self._cons = cons
        self._prefix = prefix

    @classmethod
    def _from_info(cls, store: Store, path: str, info: NodeInfo, *, read_only: bool = False,
                   use_consolidated: bool | None = None,
                   cons: ConsolidatedView | None = None) -> Group:
        """The group described by ``info`` (found at ``path``), with its consolidated
        metadata when it has some and ``use_consolidated`` is not False."""
        if use_consolidated is not False and cons is None:
            cons = read_consolidated(store, path, info)
            if cons is None and use_consolidated:
                names = {2: ".zmetadata", 3: "consolidated_metadata in zarr.json"}[info.zarr_format]
                raise NodeNotFoundError(
                    f"no consolidated metadata at {where(store, path or '/')} (looked for "
                    f"{names}); run exzarr.consolidate_metadata() on it, or open it with "
                    f"use_consolidated=None", store=store, key=path)
        if use_consolidated is False:
            cons = None
        return cls(store, path, info.meta, read_only=read_only, cons=cons)

    # -- identity -------------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self._store

    @property
    def path(self) -> str:
        return self._path

    @property
    def name(self) -> str:
        return "/" + self._path

    @property
    def basename(self) -> str:
        return self._path.rsplit("/", 1)[-1]

    @property
    def zarr_format(self) -> int:
        return self._meta.zarr_format

    @property
    def metadata(self) -> GroupMetadata:
        return self._meta

    @property
    def read_only(self) -> bool:
        return self._read_only or self._store.read_only

    @property
    def consolidated(self) -> bool:
        """Whether members are answered from consolidated metadata."""
        return self._cons is not None

    def __repr__(self) -> str:
        return f"<Group {self.name!r} zarr v{self.zarr_format} at {self._store.url}>"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Group) and other._store.url == self._store.url
                and other._path == self._path)

    def __hash__(self) -> int:
        return hash((self._store.url, self._path))

    def _where(self, rel: str | None = None) -> str:
        return where(self._store, join_key(self._path, rel) if rel else (self._path or "/"))

    # -- attributes -----------------------------------------------------------------
    @property
    def attrs(self) -> Attributes:
        return Attributes(self)

    def _get_attrs(self) -> dict[str, Any]:
        return self._meta.attributes or {}

    # -- member lookup --------------------------------------------------------------
    def _info(self, rel: str) -> NodeInfo | None:
        if self._cons is not None:
            info = self._cons.get(join_key(self._prefix, rel))
            if info is not None:
                return info
        # not consolidated, or written after the consolidated view was read
        return find_node(self._store, join_key(self._path, rel), self.zarr_format)

    def _node(self, rel: str, info: NodeInfo) -> ZArray | Group:
        if info.kind == "group":
            return self._group_node(rel, info)
        return self._array_node(rel, info)

    def _group_node(self, rel: str, info: NodeInfo) -> Group:
        cons = self._cons
        return Group(self._store, join_key(self._path, rel), info.meta,
                     read_only=self._read_only, cons=cons,
                     prefix=join_key(self._prefix, rel) if cons is not None else "")

    def _array_node(self, rel: str, info: NodeInfo) -> ZArray:
        return ZArray(ArrayState(self._store, join_key(self._path, rel), info.meta,
                                 read_only=self._read_only, memo=info.memo))

    def __getitem__(self, name: str) -> ZArray | Group:
        rel = check_name(name, self._where())
        info = self._info(rel)
        if info is None:
            raise NodeNotFoundError(
                f"no member {rel!r} in the group at {self._where()} (looked for "
                f"{'zarr.json' if self.zarr_format == 3 else '.zarray/.zgroup'} at "
                f"{join_key(self._path, rel)!r}){self._members_hint()}",
                store=self._store, key=join_key(self._path, rel))
        return self._node(rel, info)

    def _members_hint(self) -> str:
        try:
            names = list(self)
        except Exception:  # listing unsupported or failing: the hint is optional
            return ""
        shown = ", ".join(repr(n) for n in names[:20]) + (", ..." if len(names) > 20 else "")
        return f"; its members are: {shown}" if names else "; the group has no members"

    @overload
    def get(self, name: str) -> ZArray | Group | None: ...
    @overload
    def get(self, name: str, default: _D) -> ZArray | Group | _D: ...

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name: object) -> bool:
        try:
            rel = check_name(name, self._where())
        except (TypeError, ValueError):
            return False
        return self._info(rel) is not None

    def _children(self) -> list[tuple[str, NodeInfo]]:
        if self._cons is not None:
            return self._cons.children(self._prefix)
        return children(self._store, self._path, self.zarr_format)

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, _ in self._children()])

    def __len__(self) -> int:
        return len(self._children())

    # keys/items/values return lists (as zarr-python's Group does), not Mapping views
    def keys(self) -> list[str]:  # type: ignore[override]
        return list(self)

    def items(self) -> list[tuple[str, ZArray | Group]]:  # type: ignore[override]
        return [(n, self._node(n, info)) for n, info in self._children()]

    def values(self) -> list[ZArray | Group]:  # type: ignore[override]
        return [node for _, node in self.items()]

    def arrays(self) -> list[tuple[str, ZArray]]:
        """``(name, ZArray)`` of the direct member arrays, sorted by name."""
        return [(n, self._array_node(n, i)) for n, i in self._children() if i.kind == "array"]

    def groups(self) -> list[tuple[str, Group]]:
        """``(name, Group)`` of the direct member groups, sorted by name."""
        return [(n, self._group_node(n, i)) for n, i in self._children() if i.kind == "group"]

    def array_keys(self) -> list[str]:
        return [n for n, i in self._children() if i.kind == "array"]

    def group_keys(self) -> list[str]:
        return [n for n, i in self._children() if i.kind == "group"]

    def _descendants(self, max_depth: int | None) -> list[tuple[str, NodeInfo]]:
        if self._cons is not None:
            out = self._cons.descendants(self._prefix)
            if max_depth is not None:
                out = [(r, i) for r, i in out if r.count("/") <= max_depth]
        else:
            out = walk(self._store, self._path, self.zarr_format, max_depth)
        return sorted(out, key=lambda t: t[0].split("/"))  # depth first, by name

    def members(self, max_depth: int | None = 0) -> tuple[tuple[str, ZArray | Group], ...]:
        """``(relative path, node)`` of the members, ``max_depth`` levels deep (0: direct
        members only, None: all), depth first in name order (a group, then its members)."""
        if max_depth is not None and max_depth < 0:
            raise ValueError(f"max_depth must be >= 0 or None, got {max_depth}")
        return tuple((r, self._node(r, i)) for r, i in self._descendants(max_depth))

    def tree(self, max_depth: int | None = None) -> Tree:
        """A readable text tree of the hierarchy (``print(g.tree())``)."""
        return Tree.of(self, self._descendants(max_depth))

    @property
    def info(self) -> ArrayInfo:
        return group_info(self)

    def _repr_html_(self) -> str:
        """Jupyter's rich display: summary table and a collapsible tree of every member,
        each array with its summary line and chunk-grid card (metadata only)."""
        from .display import group_html  # the display loads on first use
        return group_html(self)

    # -- writes ---------------------------------------------------------------------
    def _set_attrs(self, d: dict[str, Any]) -> None:
        self._check_writable()
        if isinstance(self._meta, GroupMetadataV3):
            key = join_key(self._path, "zarr.json")
            raw = self._store.get(key)  # keep what others wrote (consolidated_metadata)
            doc = (loads_json(raw, "group metadata", self._store, key) if raw is not None
                   else self._meta.to_json())
            doc["attributes"] = d
            self._meta = GroupMetadataV3.from_json(doc, store=self._store, key=key)
            self._store.set(key, dumps_document(doc))
        else:
            meta = self._meta.replace(attributes=d)
            self._store.set(join_key(self._path, ".zattrs"), meta.attrs_to_bytes())
            self._meta = meta
        refresh_after_write(self._store, self._path, NodeInfo("group", self.zarr_format, self._meta),
                            self.zarr_format)

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

    def create_group(self, name: str, *, overwrite: bool = False,
                     attributes: Mapping[str, Any] | None = None) -> Group:
        """Create the group ``name`` (``"a/b"`` creates missing parents) and return it."""
        if attributes:
            check_json(dict(attributes), self._where(name))
        rel, full = self._prepare(name, overwrite)
        info = write_group(self._store, full, self.zarr_format, attributes)
        self._written(full, info)
        return self._group_node(rel, info)

    def create_hierarchy(self, nodes: Mapping[str, Any], *, overwrite: bool = False
                         ) -> Iterator[tuple[str, ZArray | Group]]:
        """zarr-python 3's ``Group.create_hierarchy``: create the nodes of ``nodes`` (paths
        relative to this group -> array or group metadata of this group's Zarr format:
        exzarr's, zarr-python's or metadata dicts), missing parents as groups, and return
        ``(relative path, node)`` pairs, parents first.  Everything is validated before
        anything is written (see :mod:`.create_hierarchy`); a node already at a named path
        is an error unless ``overwrite``.  ``nodes`` may not name the group itself."""
        self._check_writable()
        plan = plan_hierarchy(self._store, nodes, overwrite=overwrite, root=self._path,
                              root_format=self.zarr_format)
        created = execute_plan(plan)
        out: list[tuple[str, ZArray | Group]] = []
        cut = len(self._path) + 1 if self._path else 0
        if self._cons is not None:
            for full in plan.deletes:
                self._cons.remove(join_key(self._prefix, full[cut:]))
        for node in created:
            rel = node.path[cut:]
            if node.path == self._path:  # this group, re-created (deleted meanwhile)
                continue
            if self._cons is not None:
                self._cons.put(join_key(self._prefix, rel), node.info)
            out.append((rel, self._node(rel, node.info)))
        return iter(out)

    def require_group(self, name: str, *,
                      attributes: Mapping[str, Any] | None = None) -> Group:
        """The group ``name``, created if it does not exist (an array there is an error)."""
        rel = check_name(name, self._where())
        info = self._info(rel)
        if info is None:
            return self.create_group(rel, attributes=attributes)
        if info.kind != "group":
            raise NodeExistsError(f"{self._where(rel)} holds an array, not a group; choose "
                                  f"another name or delete it (del group[{rel!r}])",
                                  store=self._store, key=join_key(self._path, rel))
        return self._group_node(rel, info)

    def create_array(self, name: str, *, shape: int | Sequence[int] | None = None,
                     dtype: npt.DTypeLike | None = None, chunks: Any = None,
                     overwrite: bool = False, data: Any = None, write_data: bool = True,
                     **kwargs: Any) -> ZArray:
        """Create the array ``name`` in this group; ``kwargs`` as for :func:`exzarr.create`
        (``fill_value``, ``compressor``, ``codecs``, ``filters``, ``shards``, ``attributes``,
        ``dimension_names``, ``order``, ...) and zarr-python 3's (``compressors``,
        ``serializer``, ``attrs``, ``"auto"``...).  ``data=`` (a NumPy or exzarr array)
        gives the shape and dtype and is written (unless ``write_data=False``).  The
        array has the group's Zarr format."""
        kwargs = zarr_kwargs(kwargs, "create_array")
        if data is not None:
            if shape is not None or (dtype is not None and np.dtype(dtype) != _dtype_of(data)):
                raise ValueError("create_array() takes data= or shape=/dtype=, not both")
            if not isinstance(data, Readable):
                data = np.asarray(data)
                if data.dtype.kind == "T":  # NumPy StringDType: variable-length strings
                    data = data.astype(object)
            shape, dtype = data.shape, data.dtype
        if shape is None:
            raise TypeError("create_array() needs shape= (and dtype=), or data=")
        fmt = kwargs.pop("zarr_format", None)
        if fmt not in (None, self.zarr_format):
            raise ValueError(f"the group at {self._where()} is Zarr v{self.zarr_format}; its "
                             f"arrays must be too (got zarr_format={fmt})")
        for k in ("store", "path", "mode", "storage_options"):
            if k in kwargs:
                raise TypeError(f"create_array() takes no {k}=; the array goes in this group")
        write_empty_chunks = kwargs.pop("write_empty_chunks", None)
        skip_checksum = kwargs.pop("skip_checksum", False)
        if self.zarr_format == 3 and "fill_value" in kwargs and kwargs["fill_value"] is None:
            del kwargs["fill_value"]  # zarr-python: None is the default (v3)
        if chunks == "auto":
            chunks = None
        self._check_writable()
        rel = check_name(name, self._where())
        # every argument is validated (metadata and codec pipeline) before anything is replaced
        meta = array_metadata(shape=shape, dtype="float64" if dtype is None else dtype,
                              chunks=chunks, zarr_format=self.zarr_format, **kwargs)
        state = ArrayState(self._store, join_key(self._path, rel), meta,
                           write_empty_chunks=write_empty_chunks, skip_checksum=skip_checksum)
        rel, full = self._prepare(rel, overwrite)
        state.replace_meta(meta)
        self._written(full, NodeInfo("array", self.zarr_format, meta))
        z = ZArray(state)
        if data is not None and write_data:
            z[...] = data
        return z

    def require_array(self, name: str, *, shape: int | Sequence[int],
                      dtype: npt.DTypeLike = "float64", **kwargs: Any) -> ZArray:
        """The array ``name``; created if missing, else checked to have ``shape``/``dtype``."""
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
        return self._array_node(rel, info)

    # -- zarr-python's other names (see docs/coming-from-zarr-python.md) -------------
    def create(self, name: str, **kwargs: Any) -> ZArray:
        """Same as :meth:`create_array` (zarr-python 3's ``Group.create``)."""
        return self.create_array(name, **kwargs)

    def create_dataset(self, name: str, **kwargs: Any) -> ZArray:
        """zarr v2's (and h5py's) name for :meth:`create_array`."""
        return self.create_array(name, **kwargs)

    def require_dataset(self, name: str, *, shape: int | Sequence[int], **kwargs: Any) -> ZArray:
        """zarr v2's name for :meth:`require_array`."""
        return self.require_array(name, shape=shape, **kwargs)

    def require_groups(self, *names: str) -> tuple[Group, ...]:
        """:meth:`require_group` for each name."""
        return tuple(self.require_group(n) for n in names)

    def empty(self, name: str, *, shape: int | Sequence[int], **kwargs: Any) -> ZArray:
        """A new member array that reads as its fill value."""
        return self.create_array(name, shape=shape, **kwargs)

    def zeros(self, name: str, *, shape: int | Sequence[int], **kwargs: Any) -> ZArray:
        """A new member array of zeros."""
        return self.create_array(name, shape=shape, **dict(kwargs, fill_value=0))

    def ones(self, name: str, *, shape: int | Sequence[int], **kwargs: Any) -> ZArray:
        """A new member array of ones."""
        return self.create_array(name, shape=shape, **dict(kwargs, fill_value=1))

    def full(self, name: str, *, shape: int | Sequence[int], fill_value: Any,
             **kwargs: Any) -> ZArray:
        """A new member array reading as ``fill_value``."""
        return self.create_array(name, shape=shape, fill_value=fill_value, **kwargs)

    def array(self, name: str, data: Any = None, **kwargs: Any) -> ZArray:
        """A new member array holding ``data`` (zarr v2's ``Group.array``)."""
        if data is None:
            raise TypeError("Group.array() needs data")
        return self.create_array(name, data=data, **kwargs)

    def _like(self, data: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"shape": tuple(np.shape(data)), "dtype": _dtype_of(data)}
        if getattr(data, "chunks", None) is not None:
            out["chunks"] = tuple(data.chunks)
        out.update(kwargs)
        return out

    def empty_like(self, name: str, data: Any, **kwargs: Any) -> ZArray:
        """A new member array of ``data``'s shape, dtype and chunks."""
        return self.create_array(name, **self._like(data, kwargs))

    def zeros_like(self, name: str, data: Any, **kwargs: Any) -> ZArray:
        return self.create_array(name, **self._like(data, dict(kwargs, fill_value=0)))

    def ones_like(self, name: str, data: Any, **kwargs: Any) -> ZArray:
        return self.create_array(name, **self._like(data, dict(kwargs, fill_value=1)))

    def full_like(self, name: str, data: Any, **kwargs: Any) -> ZArray:
        fill = kwargs.pop("fill_value", getattr(data, "fill_value", 0))
        return self.create_array(name, **self._like(data, dict(kwargs, fill_value=fill)))

    def __setitem__(self, name: str, value: Any) -> None:
        """``g["x"] = data``: a new member array holding ``data`` (replacing what is there)."""
        self.create_array(name, data=value, overwrite=True)

    def move(self, source: str, dest: str) -> None:
        """Move the member ``source`` (an array or a group, with everything below it) to
        ``dest`` (missing parents created; an existing ``dest`` is an error).  Copies the
        keys, then deletes the old ones: the store must support listing."""
        self._check_writable()
        src_rel = check_name(source, self._where())
        dst_rel = check_name(dest, self._where())
        info = self._info(src_rel)
        if info is None:
            raise NodeNotFoundError(f"no member {src_rel!r} to move in the group at "
                                    f"{self._where()}", store=self._store,
                                    key=join_key(self._path, src_rel))
        src_full, dst_full = join_key(self._path, src_rel), join_key(self._path, dst_rel)
        if node_exists(self._store, dst_full):
            raise NodeExistsError(f"{self._where(dst_rel)} already exists; delete it first "
                                  f"(del group[{dst_rel!r}])", store=self._store, key=dst_full)
        if (dst_full + "/").startswith(src_full + "/"):
            raise ValueError(f"cannot move {src_rel!r} into itself ({dst_rel!r})")
        ensure_parents(self._store, dst_full, self.zarr_format, start=self._path,
                       on_write=self._written)
        keys = list(self._store.list_prefix(src_full + "/"))
        for k in keys:
            v = self._store.get(k)
            if v is not None:
                self._store.set(dst_full + k[len(src_full):], v)
        moved = [(join_key(dst_rel, r), i) for r, i in
                 walk(self._store, dst_full, self.zarr_format, None)]
        delete_node(self._store, src_full)
        self._written(src_full, None)
        new_info = find_node(self._store, dst_full, self.zarr_format)
        self._written(dst_full, new_info)
        for r, i in moved:
            self._written(join_key(self._path, r), i)

    def update_attributes(self, new_attributes: dict[str, Any]) -> Group:
        """Merge ``new_attributes`` into the attributes; returns self."""
        self.attrs.update(new_attributes)
        return self

    def nmembers(self, max_depth: int | None = 0) -> int:
        """Number of members, ``max_depth`` levels deep (None: all)."""
        return len(self._descendants(max_depth))

    def array_values(self) -> list[ZArray]:
        return [a for _, a in self.arrays()]

    def group_values(self) -> list[Group]:
        return [g for _, g in self.groups()]

    @property
    def store_path(self) -> str:
        """The store URL and the group's path in it (zarr-python's is a ``StorePath``)."""
        url = self._store.url.rstrip("/")
        return f"{url}/{self._path}" if self._path else url

    @property
    def synchronizer(self) -> None:
        """Always None: exzarr locks chunks itself (zarr-python's is None too)."""
        return None

    def info_complete(self) -> ArrayInfo:
        """:attr:`info`."""
        return group_info(self)

    def __delitem__(self, name: str) -> None:
        self._check_writable()
        rel = check_name(name, self._where())
        full = join_key(self._path, rel)
        if self._info(rel) is None:
            raise NodeNotFoundError(f"no member {rel!r} to delete in the group at {self._where()}",
                                    store=self._store, key=full)
        delete_node(self._store, full)
        self._written(full, None)
