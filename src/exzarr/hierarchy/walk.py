"""Walking a Zarr hierarchy in a store: parsing node documents, listing the children of a
group (with batched metadata reads), and creating missing parent groups.

No ``Group`` objects here: these functions work on ``NodeInfo`` (kind, zarr_format, meta)
so :mod:`.group`, :mod:`.consolidated` and :mod:`exzarr.tools.convert` share them.
"""

from __future__ import annotations


from ..errors import InvalidNameError, NodeExistsError, StorageError, where
from ..metadata import GroupMetadataV2, GroupMetadataV3
from ..storage.keys import join_key
from .nodes import NodeInfo, find_node, loads_json, node_from_v2_docs, node_from_v3_doc

__all__ = ["METADATA_NAMES", "load_nodes",
           "child_names", "children", "walk", "ensure_parents", "write_group",
           "check_name", "parent_paths"]

#: file names that hold metadata, never node names
METADATA_NAMES = frozenset({"zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"})

def parent_paths(path: str) -> list[str]:
    """Strict ancestors of ``path``, root first: ``"a/b/c"`` -> ``["", "a", "a/b"]``."""
    parts = path.split("/") if path else []
    return ["/".join(parts[:i]) for i in range(len(parts))]


def check_name(name, where_: str) -> str:
    """A member path (``"x"`` or ``"a/b"``) normalised, or InvalidNameError saying what is
    wrong (a ValueError; also a TypeError for a name that is not a str)."""
    if not isinstance(name, str):
        raise InvalidNameError(f"member names are str, got {type(name).__name__} {name!r} at "
                               f"{where_}; pass a name such as 'x' or 'a/b'")
    parts = [p for p in name.split("/") if p]
    if not parts:
        raise InvalidNameError(f"empty member name {name!r} at {where_}; pass a name such as "
                               "'x' or 'a/b'")
    for p in parts:
        if p in (".", "..") or p in METADATA_NAMES:
            raise InvalidNameError(f"invalid member name {name!r} at {where_}: {p!r} is "
                                   "reserved (relative parts and metadata file names cannot "
                                   "name members); choose another name")
        if "\0" in p:
            raise InvalidNameError(f"invalid member name {name!r} at {where_}: it contains a "
                                   "NUL character; choose another name")
    return "/".join(parts)


def load_nodes(store, paths: list[str], zarr_format: int) -> dict[str, NodeInfo]:
    """The nodes at ``paths`` (absent ones left out), read with one batched ``get_many``."""
    if not paths:
        return {}
    out: dict[str, NodeInfo] = {}
    if zarr_format == 3:
        keys = {p: join_key(p, "zarr.json") for p in paths}
        raw = store.get_many(list(keys.values()))
        for p, k in keys.items():
            if raw.get(k) is not None:
                out[p] = node_from_v3_doc(loads_json(raw[k], store, k), store, k)
        return out
    names = (".zarray", ".zgroup", ".zattrs")
    raw = store.get_many([join_key(p, n) for p in paths for n in names])
    for p in paths:
        docs = []
        for n in names:
            k = join_key(p, n)
            docs.append(None if raw.get(k) is None else loads_json(raw[k], store, k))
        zarray, zgroup, zattrs = docs
        info = node_from_v2_docs(zarray, zgroup, zattrs, store=store, path=p)
        if info is not None:
            out[p] = info
    return out


def child_names(store, path: str) -> list[str]:
    """Names of the entries directly under ``path`` that could be nodes (sorted)."""
    if not store.supports_listing:
        raise StorageError(
            f"the store {store.url} cannot list keys, so the members of the group at "
            f"{where(store, path or '/')} cannot be found; open the hierarchy with consolidated "
            f"metadata (exzarr.consolidate_metadata() where it was written) or access members "
            f"by name (group['x'])", store=store, key=path)
    return sorted(n for n in store.list_dir(join_key(path, "")) if n not in METADATA_NAMES)


def children(store, path: str, zarr_format: int) -> list[tuple[str, NodeInfo]]:
    """(name, NodeInfo) of the member nodes of the group at ``path``, sorted by name."""
    names = child_names(store, path)
    found = load_nodes(store, [join_key(path, n) for n in names], zarr_format)
    return [(n, found[join_key(path, n)]) for n in names if join_key(path, n) in found]


def walk(store, path: str, zarr_format: int, max_depth: int | None = None):
    """Yield ``(relative path, NodeInfo)`` of every node below the group at ``path``,
    breadth first, a group before its members.  ``max_depth=0`` yields the direct members."""
    level = [("", path)]
    depth = 0
    while level and (max_depth is None or depth <= max_depth):
        nxt = []
        for rel, full in level:
            for name, info in children(store, full, zarr_format):
                r = join_key(rel, name)
                yield r, info
                if info.kind == "group":
                    nxt.append((r, join_key(full, name)))
        level = nxt
        depth += 1


def write_group(store, path: str, zarr_format: int, attributes=None):
    """Write the metadata of a new group at ``path``; returns its NodeInfo."""
    meta: GroupMetadataV2 | GroupMetadataV3
    if zarr_format == 3:
        meta = GroupMetadataV3(attributes=dict(attributes or {}))
        store.set(join_key(path, "zarr.json"), meta.to_bytes())
    elif zarr_format == 2:
        meta = v2 = GroupMetadataV2(attributes=dict(attributes or {}))
        store.set_many({join_key(path, ".zgroup"): v2.to_bytes(),
                        join_key(path, ".zattrs"): v2.attrs_to_bytes()})
    else:
        raise ValueError(f"zarr_format must be 2 or 3, got {zarr_format!r}")
    return NodeInfo("group", zarr_format, meta)


def ensure_parents(store, path: str, zarr_format: int, *, start: str = "",
                   on_write=None) -> None:
    """Create a group at every ancestor of ``path`` below ``start`` (``start`` itself
    included when it is ``""`` and missing) that holds no node yet; refuse to nest in an array.

    ``on_write(path, info)`` is called for every group written.
    """
    for anc in parent_paths(path):
        if start and not (anc == start or anc.startswith(start + "/")):
            continue
        info = find_node(store, anc, zarr_format)
        if info is None:
            other = find_node(store, anc, 5 - zarr_format)
            if other is not None:
                raise NodeExistsError(
                    f"a Zarr v{other.zarr_format} {other.kind} exists at "
                    f"{where(store, anc or '/')}; a v{zarr_format} node cannot be nested in it",
                    store=store, key=anc)
            info = write_group(store, anc, zarr_format)
            if on_write is not None:
                on_write(anc, info)
        elif info.kind != "group":
            raise NodeExistsError(
                f"cannot create {path!r}: {where(store, anc or '/')} is an array, and arrays "
                f"have no members; choose a path outside it", store=store, key=anc)
