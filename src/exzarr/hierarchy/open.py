"""Opening and creating nodes: the hierarchy's half of the module functions.

``open_node`` (an array or a group, whichever is there), ``group``/``open_group``,
``create_array_at`` (a new array, replacing what is there only once the new array's
metadata is known to be valid) and ``consolidate_metadata``.  :mod:`exzarr.api` resolves
URLs and modes and calls these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..array.attributes import check_json
from ..array.readable import set_array_creator
from ..array.state import ArrayMetadata, ArrayState
from ..array.zarray import ZArray
from ..errors import (ArrayNotFoundError, GroupNotFoundError, NodeExistsError, NodeNotFoundError,
                      ReadOnlyError, where)
from ..storage import Store
from .consolidated import (LOCK, ConsolidatedView, load_v2_consolidated, refresh_after_write,
                           strip_nested, write_consolidated)
from .nodes import NodeInfo, delete_node, find_node, node_exists
from .walk import ensure_parents, walk, write_group

if TYPE_CHECKING:  # imported where a group is returned: opening an array does not load it
    from .group import Group

__all__ = ["open_node", "open_array_node", "create_array_at", "find_group", "new_group",
           "group_at", "open_group_at", "consolidate_at"]


def _missing_message(s: Store, path: str, zarr_format: int | None,
                     kind: str = "array or group") -> str:
    keys = {None: "zarr.json, .zarray or .zgroup", 3: "zarr.json", 2: ".zarray or .zgroup"}[zarr_format]
    return (f"no {kind} found at {where(s, path or '/')} (looked for {keys}); check the path "
            f"or URL, that the array was created there, and that you may read it")


def open_node(s: Store, path: str, *, mode: str, zarr_format: int | None = None,
              skip_checksum: bool = False) -> ZArray | Group:
    """The array or group stored at ``path`` (NodeNotFoundError if there is none)."""
    info = find_node(s, path, zarr_format)
    if info is None:
        raise NodeNotFoundError(_missing_message(s, path, zarr_format), store=s, key=path)
    if info.kind == "group":
        from .group import Group
        return Group._from_info(s, path, info, read_only=mode == "r")
    return ZArray(ArrayState(s, path, info.meta, read_only=mode == "r",
                             skip_checksum=skip_checksum, memo=info.memo))


def open_array_node(s: Store, path: str, *, mode: str, zarr_format: int | None = None,
                    skip_checksum: bool = False) -> ZArray:
    """The array stored at ``path`` (ArrayNotFoundError if there is none, or a group)."""
    info = find_node(s, path, zarr_format)
    if info is None or info.kind != "array":
        msg = _missing_message(s, path, zarr_format, "array")
        if info is not None:
            msg = f"{where(s, path or '/')} holds a group, not an array; open it with exzarr.open_group()"
        raise ArrayNotFoundError(msg, store=s, key=path)
    return ZArray(ArrayState(s, path, info.meta, read_only=mode == "r",
                             skip_checksum=skip_checksum, memo=info.memo))


def create_array_at(s: Store, path: str, meta: ArrayMetadata, *, overwrite: bool,
                    write_empty_chunks: bool | None = None,
                    skip_checksum: bool = False) -> ZArray:
    """Write the new array ``meta`` at ``path`` and return it.

    The codec pipeline is built (and so validated) before an existing node is deleted;
    an existing node is an error unless ``overwrite``."""
    state = ArrayState(s, path, meta, write_empty_chunks=write_empty_chunks,
                       skip_checksum=skip_checksum)
    existing = node_exists(s, path)
    if existing and not overwrite:
        raise NodeExistsError(
            f"an {existing} already exists at {where(s, path or '/')}; pass overwrite=True "
            f"(or mode='w') to replace it, or open it with exzarr.open()", store=s, key=path)
    if s.read_only:
        raise ReadOnlyError(f"cannot create an array in the read-only store {s.url}", store=s)
    if existing:
        delete_node(s, path)
    state.replace_meta(meta)
    return ZArray(state)


def find_group(store: Store, path: str, zarr_format: int | None, *,
               use_consolidated: bool | None = None) -> tuple[NodeInfo, ConsolidatedView | None]:
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


def new_group(store: Store, path: str, zarr_format: int, *,
              attributes: Mapping[str, Any] | None = None) -> Group:
    """A new group at ``path``, replacing whatever is there (missing parents created)."""
    from .group import Group
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


def group_at(s: Store, path: str, *, overwrite: bool, mode: str | None,
             zarr_format: int | None, attributes: Mapping[str, Any] | None) -> Group:
    """:func:`exzarr.group` on an opened store."""
    from .group import Group
    fmt = zarr_format or 3
    existing = None if overwrite else node_exists(s, path)
    info = find_node(s, path) if existing else None
    if info is not None:  # (None also when the node was deleted since node_exists)
        if mode == "w-" or info.kind != "group" or (zarr_format and info.zarr_format != zarr_format):
            what = f"a Zarr v{info.zarr_format} {info.kind}"
            raise NodeExistsError(f"{what} already exists at {where(s, path or '/')}; pass "
                                  f"overwrite=True to replace it", store=s, key=path)
        if attributes:
            raise NodeExistsError(f"a group already exists at {where(s, path or '/')}; set its "
                                  f"attributes with group.attrs.update(...) or pass overwrite=True",
                                  store=s, key=path)
        return Group._from_info(s, path, info)
    return new_group(s, path, fmt, attributes=attributes)


def open_group_at(s: Store, path: str, *, mode: str, zarr_format: int | None,
                  use_consolidated: bool | None, attributes: Mapping[str, Any] | None) -> Group:
    """:func:`exzarr.open_group` on an opened store."""
    from .group import Group
    if mode in ("w", "w-"):
        if mode == "w-" and node_exists(s, path):
            raise NodeExistsError(f"a node already exists at {where(s, path or '/')} and "
                                  f"mode='w-' refuses to replace it; use mode='a' to open it or "
                                  f"mode='w' to replace it", store=s, key=path)
        return new_group(s, path, zarr_format or 3, attributes=attributes)
    try:
        info, cons = find_group(s, path, zarr_format,
                                use_consolidated=use_consolidated)
    except GroupNotFoundError:
        if mode != "a" or node_exists(s, path):
            raise
        return new_group(s, path, zarr_format or 3, attributes=attributes)
    return Group._from_info(s, path, info, read_only=mode == "r",
                            use_consolidated=use_consolidated, cons=cons)


def consolidate_at(s: Store, path: str, zarr_format: int | None) -> Group:
    """:func:`exzarr.consolidate_metadata` on an opened store."""
    from .group import Group
    info, _ = find_group(s, path, zarr_format, use_consolidated=False)
    entries = {rel: strip_nested(node) for rel, node in walk(s, path, info.zarr_format)}
    with LOCK:
        info = write_consolidated(s, path, strip_nested(info), entries)
    return Group(s, path, info.meta, cons=ConsolidatedView(info.zarr_format, entries))


set_array_creator(create_array_at)  # how ZArray.to_zarr creates its target
