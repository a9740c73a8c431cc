"""Groups: ``Group`` (a mapping of member names to ``ZArray``/``Group``), ``group`` and
``open_group``.

A v2 group is ``.zgroup`` + ``.zattrs``; a v3 group is ``zarr.json`` with
``node_type: group``.  A group opened with consolidated metadata answers member lookups
and listings from it (no further reads); every metadata write exzarr makes below a
consolidated group updates that consolidated metadata (see :mod:`.consolidated`).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import GroupNotFoundError, NodeExistsError, NodeNotFoundError, ReadOnlyError, where
from .attributes import Attributes
from .consolidated import (ConsolidatedView, load_v2_consolidated, read_consolidated,
                           refresh_after_write)
from .group_write import GroupWrites
from .hierarchy import check_name, children, ensure_parents, norm_path, walk, write_group
from .nodes import NodeInfo, delete_node, find_node, node_exists
from .state import ArrayState, join_key

__all__ = ["Group", "group", "open_group"]


class Group(GroupWrites, Mapping):
    """A Zarr group: ``g["a/b"]``, ``"x" in g``, ``list(g)`` (member names), ``len(g)``."""

    def __init__(self, store, path: str, meta, *, read_only: bool = False,
                 cons: ConsolidatedView | None = None, prefix: str = ""):
        self._store = store
        self._path = norm_path(path)
        self._meta = meta
        self._read_only = read_only
        self._cons = cons
        self._prefix = prefix

    @classmethod
    def _from_info(cls, store, path: str, info: NodeInfo, *, read_only: bool = False,
                   use_consolidated: bool | None = None, cons: ConsolidatedView | None = None):
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
    def store(self):
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
    def metadata(self):
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

    def __eq__(self, other) -> bool:
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

    def _get_attrs(self) -> dict:
        return self._meta.attributes or {}

    # -- member lookup --------------------------------------------------------------
    def _info(self, rel: str) -> NodeInfo | None:
        if self._cons is not None:
            info = self._cons.get(join_key(self._prefix, rel))
            if info is not None:
                return info
        # not consolidated, or written after the consolidated view was read
        return find_node(self._store, join_key(self._path, rel), self.zarr_format)

    def _node(self, rel: str, info: NodeInfo):
        full = join_key(self._path, rel)
        if info.kind == "group":
            cons = self._cons
            return Group(self._store, full, info.meta, read_only=self._read_only, cons=cons,
                         prefix=join_key(self._prefix, rel) if cons is not None else "")
        from .array import ZArray
        return ZArray(ArrayState(self._store, full, info.meta, read_only=self._read_only))

    def __getitem__(self, name: str):
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

    def get(self, name, default=None):
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name) -> bool:
        try:
            rel = check_name(name, self._where())
        except (TypeError, ValueError):
            return False
        return self._info(rel) is not None

    def _children(self) -> list[tuple[str, NodeInfo]]:
        if self._cons is not None:
            return self._cons.children(self._prefix)
        return children(self._store, self._path, self.zarr_format)

    def __iter__(self):
        return iter([name for name, _ in self._children()])

    def __len__(self) -> int:
        return len(self._children())

    def keys(self):
        return list(self)

    def items(self):
        return [(n, self._node(n, info)) for n, info in self._children()]

    def values(self):
        return [node for _, node in self.items()]

    def arrays(self):
        """``(name, ZArray)`` of the direct member arrays, sorted by name."""
        return [(n, self._node(n, i)) for n, i in self._children() if i.kind == "array"]

    def groups(self):
        """``(name, Group)`` of the direct member groups, sorted by name."""
        return [(n, self._node(n, i)) for n, i in self._children() if i.kind == "group"]

    def array_keys(self) -> list[str]:
        return [n for n, i in self._children() if i.kind == "array"]

    def group_keys(self) -> list[str]:
        return [n for n, i in self._children() if i.kind == "group"]

    def _descendants(self, max_depth: int | None):
        if self._cons is not None:
            out = self._cons.descendants(self._prefix)
            if max_depth is not None:
                out = [(r, i) for r, i in out if r.count("/") <= max_depth]
        else:
            out = walk(self._store, self._path, self.zarr_format, max_depth)
        return sorted(out, key=lambda t: t[0].split("/"))  # depth first, by name

    def members(self, max_depth: int | None = 0):
        """``(relative path, node)`` of the members, ``max_depth`` levels deep (0: direct
        members only, None: all), depth first in name order (a group, then its members)."""
        if max_depth is not None and max_depth < 0:
            raise ValueError(f"max_depth must be >= 0 or None, got {max_depth}")
        return tuple((r, self._node(r, i)) for r, i in self._descendants(max_depth))

    def tree(self, max_depth: int | None = None):
        """A readable text tree of the hierarchy (``print(g.tree())``)."""
        from .tree import Tree
        return Tree.of(self, self._descendants(max_depth))

    @property
    def info(self):
        from .tree import group_info
        return group_info(self)

# -- module functions -----------------------------------------------------------------
def _find_group(store, path: str, zarr_format: int | None, *, mode: str,
                use_consolidated: bool | None = None):
    """``(NodeInfo, ConsolidatedView or None)`` of the group at ``path``
    (GroupNotFoundError if there is none, or an array).

    With v2 consolidated metadata, ``.zmetadata`` alone answers (it holds ``.zgroup``)."""
    info = None
    cons = None
    if zarr_format in (None, 3):
        info = find_node(store, path, 3)
    if info is None and zarr_format in (None, 2):
        if use_consolidated is not False:
            found = load_v2_consolidated(store, path)
            if found is not None:
                info, cons = found
        if info is None:
            info = find_node(store, path, 2)
    if info is None:
        looked = {None: "zarr.json, .zgroup", 3: "zarr.json", 2: ".zgroup"}[zarr_format]
        raise GroupNotFoundError(
            f"no group found at {where(store, path or '/')} (looked for {looked}); check the "
            f"path or URL, or create it with exzarr.open_group(..., mode='a') or exzarr.group()",
            store=store, key=path)
    if info.kind != "group":
        raise GroupNotFoundError(
            f"{where(store, path or '/')} holds an array, not a group; open it with "
            f"exzarr.open_array() or exzarr.open()", store=store, key=path)
    return info, cons


def _new_group(store, path: str, zarr_format: int, *, overwrite: bool, attributes) -> Group:
    from .attributes import check_json

    if attributes:
        check_json(dict(attributes), where(store, path or "/"))
    if store.read_only:
        raise ReadOnlyError(f"cannot create a group in the read-only store {store.url}",
                            store=store, key=path)
    if node_exists(store, path):
        delete_node(store, path)
        refresh_after_write(store, path, None, zarr_format)
    ensure_parents(store, path, zarr_format,
                   on_write=lambda p, i: refresh_after_write(store, p, i, zarr_format))
    info = write_group(store, path, zarr_format, attributes)
    refresh_after_write(store, path, info, zarr_format)
    return Group(store, path, info.meta)


def group(store=None, *, path=None, overwrite: bool = False, zarr_format: int | None = None,
          attributes=None, storage_options=None, mode: str | None = None) -> Group:
    """Create a group (or open the one already there) and return it.

    ``overwrite=True`` (or ``mode='w'``) replaces whatever is at ``store``/``path``;
    ``mode='w-'`` refuses an existing node.  New groups are Zarr v3 unless
    ``zarr_format=2``; an existing group of another format than an explicit
    ``zarr_format`` is an error.  Missing parent groups are created.
    """
    from .api import resolve_store

    overwrite = overwrite or mode == "w"
    s = resolve_store(store, "w" if overwrite else (mode or "a"), storage_options)
    path = norm_path(path)
    fmt = zarr_format or 3
    existing = None if overwrite else node_exists(s, path)
    if existing:
        info = find_node(s, path)
        if mode == "w-" or info.kind != "group" or (zarr_format and info.zarr_format != zarr_format):
            what = f"a Zarr v{info.zarr_format} {info.kind}"
            raise NodeExistsError(f"{what} already exists at {where(s, path or '/')}; pass "
                                  f"overwrite=True to replace it", store=s, key=path)
        if attributes:
            raise NodeExistsError(f"a group already exists at {where(s, path or '/')}; set its "
                                  f"attributes with group.attrs.update(...) or pass overwrite=True",
                                  store=s, key=path)
        return Group._from_info(s, path, info)
    return _new_group(s, path, fmt, overwrite=overwrite, attributes=attributes)


def open_group(store=None, *, mode: str = "a", path=None, zarr_format: int | None = None,
               storage_options=None, use_consolidated: bool | None = None,
               attributes=None) -> Group:
    """Open the group at ``store``/``path``.

    ``mode``: ``r`` read only, ``r+`` read/write (must exist), ``a`` read/write (created if
    missing), ``w`` create (replacing what is there), ``w-`` create (fail if it exists).
    ``use_consolidated``: None uses consolidated metadata when present, True requires it,
    False ignores it.
    """
    from .api import resolve_store

    s = resolve_store(store, mode, storage_options)
    path = norm_path(path)
    if mode in ("w", "w-"):
        if mode == "w-" and node_exists(s, path):
            raise NodeExistsError(f"a node already exists at {where(s, path or '/')} and "
                                  f"mode='w-' refuses to replace it; use mode='a' to open it or "
                                  f"mode='w' to replace it", store=s, key=path)
        return _new_group(s, path, zarr_format or 3, overwrite=True, attributes=attributes)
    try:
        info, cons = _find_group(s, path, zarr_format, mode=mode,
                                 use_consolidated=use_consolidated)
    except GroupNotFoundError:
        if mode != "a" or node_exists(s, path):
            raise
        return _new_group(s, path, zarr_format or 3, overwrite=False, attributes=attributes)
    return Group._from_info(s, path, info, read_only=mode == "r",
                            use_consolidated=use_consolidated, cons=cons)
