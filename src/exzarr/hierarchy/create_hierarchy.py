"""``create_hierarchy``: many groups and arrays from their metadata, all validated before
anything is written (zarr-python 3's ``zarr.create_hierarchy`` / ``Group.create_hierarchy``).

``nodes`` maps paths to node metadata in any of three forms:

* exzarr's metadata objects (:class:`~exzarr.metadata.ArrayMetadataV3`, ``ArrayMetadataV2``,
  ``GroupMetadataV3``, ``GroupMetadataV2``);
* zarr-python's (``ArrayV3Metadata``, ``ArrayV2Metadata``, ``GroupMetadata``), recognised
  by their class's module and read through their own ``to_dict()`` (zarr is never imported);
* plain metadata dicts as they appear in ``zarr.json`` (v3), ``.zarray`` or ``.zgroup``
  (v2; an ``"attributes"`` entry holds the ``.zattrs`` content, as zarr-python's
  ``to_dict()`` writes it).

What happens, in order:

1. **Plan, reading only.**  Every path is checked (:func:`~.walk.check_name`), every node's
   metadata parsed and, for arrays, its codec pipeline built; all nodes must share one Zarr
   format; an array may not have a node below it.  Every missing ancestor becomes an
   *implicit* group (the root ``""`` included); an implicit group already in the store is
   left as it is.  A node already at a path named in ``nodes`` is an error unless
   ``overwrite``; an array, or a node of the other Zarr format, where an implicit group
   goes is always an error (name that path in ``nodes`` to replace it).
2. **Write**, only when the whole plan is valid: with ``overwrite``, each existing node at a
   named path is deleted with everything below it (zarr-python's rule), then every new
   node's metadata is written, parents first.  Consolidated metadata of every ancestor
   that has some is brought up to date, as for every other exzarr write; a v3 group given
   with ``consolidated_metadata`` gets it rebuilt from the nodes actually written below it.

Unlike zarr-python's generator (which does nothing until iterated), the work is done when
the function is called; the ``(path, node)`` pairs come back parents first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..array.state import ArrayState
from ..errors import InvalidArgumentError, InvalidMetadataError, NodeExistsError, ReadOnlyError, where
from ..metadata import ArrayMetadataV2, ArrayMetadataV3, GroupMetadataV2, GroupMetadataV3
from ..storage import Store
from ..storage.keys import join_key
from .consolidated import refresh_after_write
from .nodes import NodeInfo, delete_node, find_node, node_exists, node_from_v2_docs, node_from_v3_doc
from .walk import check_name, parent_paths, write_group

__all__ = ["CreatedNode", "HierarchyPlan", "create_hierarchy_at", "execute_plan", "node_info",
           "plan_hierarchy"]

_INLINE_EMPTY = {"kind": "inline", "must_understand": False, "metadata": {}}


@dataclass(frozen=True)
class CreatedNode:
    """A node of the plan: ``path`` (from the store root), its metadata, whether it is an
    implicit parent group, and for an array its validated state (pipeline built)."""

    path: str
    info: NodeInfo
    implicit: bool
    state: ArrayState | None


@dataclass(frozen=True)
class HierarchyPlan:
    """What :func:`create_hierarchy_at` will do: ``deletes`` (existing nodes replaced,
    with ``overwrite``) then ``writes`` (parents first).  Building it writes nothing."""

    store: Store
    zarr_format: int
    deletes: tuple[str, ...]
    writes: tuple[CreatedNode, ...]


# -- node metadata in its three forms -------------------------------------------------------
_KINDS: dict[type, str] = {ArrayMetadataV2: "array", ArrayMetadataV3: "array",
                           GroupMetadataV2: "group", GroupMetadataV3: "group"}


def _is_zarr_object(obj: Any) -> bool:
    mod = type(obj).__module__ or ""
    return (mod == "zarr" or mod.startswith("zarr.")) and callable(getattr(obj, "to_dict", None))


def _json_default(x: Any) -> Any:
    """What ``json`` cannot write in zarr-python's ``to_dict()``: NumPy scalars, enums."""
    item = getattr(x, "item", None)
    if callable(item):
        return item()
    value = getattr(x, "value", None)
    if value is not None:
        return value
    raise TypeError(f"{type(x).__name__} {x!r} is not JSON")


def _from_v3_dict(doc: dict[str, Any], store: Store, path: str) -> NodeInfo:
    return node_from_v3_doc(doc, store, join_key(path, "zarr.json"))


def _from_v2_dict(doc: dict[str, Any], store: Store, path: str) -> NodeInfo:
    attrs = doc.pop("attributes", None)
    kind = doc.pop("node_type", None) or ("array" if "shape" in doc else "group")
    if kind not in ("array", "group"):
        raise InvalidMetadataError(
            f"the metadata for {where(store, path or '/')} has node_type {kind!r}; expected "
            "'array' or 'group'", store=store, key=path)
    doc.pop("consolidated_metadata", None)  # zarr-python's v2 groups: .zmetadata is separate
    info = node_from_v2_docs(doc if kind == "array" else None, doc if kind == "group" else None,
                             attrs, store=store, path=path)
    assert info is not None
    return info


#: metadata dicts by their ``zarr_format``
_DICT_PARSERS: dict[int, Callable[[dict[str, Any], Store, str], NodeInfo]] = {
    2: _from_v2_dict, 3: _from_v3_dict}


def node_info(value: Any, store: Store, path: str) -> NodeInfo:
    """The metadata ``value`` given for ``path`` (any of the three forms) as a NodeInfo."""
    kind = _KINDS.get(type(value))
    if kind is not None:
        return NodeInfo(kind, value.zarr_format, value)
    if _is_zarr_object(value):
        try:
            value = json.loads(json.dumps(value.to_dict(), default=_json_default))
        except (TypeError, ValueError) as exc:
            raise InvalidMetadataError(
                f"cannot read the zarr-python {type(value).__name__} given for "
                f"{where(store, path or '/')} as JSON ({exc}); pass its metadata as a dict",
                store=store, key=path) from exc
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            f"nodes[{path!r}] is a {type(value).__name__}; create_hierarchy takes array or "
            "group metadata: exzarr's (exzarr.metadata.ArrayMetadataV3, GroupMetadataV3, ...), "
            "zarr-python's (ArrayV3Metadata, ArrayV2Metadata, GroupMetadata) or a dict as in "
            "zarr.json / .zarray / .zgroup", store=store, key=path)
    doc = dict(value)
    fmt = doc.get("zarr_format")
    parse = _DICT_PARSERS.get(fmt) if isinstance(fmt, int) and not isinstance(fmt, bool) else None
    if parse is None:
        raise InvalidMetadataError(
            f"the metadata dict for {where(store, path or '/')} has zarr_format {fmt!r}; "
            "give 2 (a .zarray or .zgroup document) or 3 (a zarr.json document)",
            store=store, key=path)
    return parse(doc, store, path)


# -- planning -------------------------------------------------------------------------------
def _norm_key(key: Any, store: Store, root: str) -> str:
    """``key`` as a path from the store root (``""``: the root itself)."""
    if isinstance(key, str) and not key.strip("/"):
        return root
    return join_key(root, check_name(key, where(store, root or "/")))


def _covered(path: str, prefixes: list[str]) -> bool:
    return any(p == "" or path == p or path.startswith(p + "/") for p in prefixes)


def _has_keys_below(store: Store, path: str) -> bool:
    if not store.supports_listing:
        return False
    return next(iter(store.list_prefix(join_key(path, "") if path else "")), None) is not None


def _explicit_nodes(store: Store, nodes: Mapping[Any, Any], root: str,
                    root_format: int | None) -> dict[str, NodeInfo]:
    if not isinstance(nodes, Mapping):
        raise InvalidArgumentError(
            f"create_hierarchy takes nodes as a mapping of paths to node metadata, got a "
            f"{type(nodes).__name__}", store=store)
    explicit: dict[str, NodeInfo] = {}
    for key, value in nodes.items():
        path = _norm_key(key, store, root)
        if root_format is not None and path == root:
            raise InvalidArgumentError(
                f"nodes names {key!r}, the group itself ({where(store, root or '/')}); "
                "Group.create_hierarchy creates nodes below the group: leave the root out, or "
                "use exzarr.create_hierarchy on the store to replace it", store=store, key=path)
        if path in explicit:
            raise InvalidArgumentError(
                f"nodes names {where(store, path or '/')} twice (keys that differ only in "
                f"slashes, e.g. {key!r}); give each path once", store=store, key=path)
        explicit[path] = node_info(value, store, path)
    formats: dict[int, list[str]] = {}
    for path, info in explicit.items():
        formats.setdefault(info.zarr_format, []).append(path or "/")
    if root_format is not None:
        formats.setdefault(root_format, []).append(f"{root or '/'} (the group)")
    if len(formats) > 1:
        listing = "; ".join(f"v{f}: {', '.join(sorted(p))}" for f, p in sorted(formats.items()))
        raise InvalidArgumentError(
            f"create_hierarchy got nodes of both Zarr formats ({listing}) in "
            f"{where(store)}; a hierarchy has one format: convert the metadata first",
            store=store)
    return explicit


def plan_hierarchy(store: Store, nodes: Mapping[Any, Any], *, overwrite: bool = False,
                   root: str = "", root_format: int | None = None) -> HierarchyPlan:
    """Check ``nodes`` (paths relative to ``root``) against each other and the store and
    return what to delete and write; reads only.  ``root_format``: the format of the
    existing group at ``root`` (``Group.create_hierarchy``), which ``nodes`` may not name."""
    if store.read_only:
        raise ReadOnlyError(f"cannot create a hierarchy in {where(store, root or '/')}: the "
                            "store was opened read-only (mode='r'); open it with mode='a'",
                            store=store, key=root)
    explicit = _explicit_nodes(store, nodes, root, root_format)
    if not explicit:
        return HierarchyPlan(store, root_format or 3, (), ())
    fmt = next(iter(explicit.values())).zarr_format
    implicit: set[str] = set()
    for path in explicit:
        for anc in parent_paths(path):
            if root and not (anc == root or anc.startswith(root + "/")):
                continue
            if anc not in explicit:
                implicit.add(anc)
            elif explicit[anc].kind != "group":
                raise InvalidArgumentError(
                    f"nodes puts {path!r} below {anc!r}, which it makes an array: arrays have "
                    f"no members ({where(store, anc or '/')}); make {anc!r} a group or move "
                    f"{path!r}", store=store, key=anc)
    # existing nodes at the named paths: replaced with overwrite, else an error
    deletes: list[str] = []
    for path in sorted(explicit, key=lambda p: (p.count("/") if p else -1, p)):
        kind = node_exists(store, path)
        below = kind is None and explicit[path].kind == "array" and _has_keys_below(store, path)
        if (kind or below) and not overwrite:
            what = f"an {kind} already exists at" if kind else "keys already exist below"
            raise NodeExistsError(
                f"{what} {where(store, path or '/')}; pass overwrite=True to replace it "
                "(with everything below it), or leave that path out of nodes",
                store=store, key=path)
        if (kind or below) and not _covered(path, deletes):
            deletes.append(path)
    # implicit groups: an existing group of this format stays; anything else is in the way
    writes: list[CreatedNode] = []
    for path in sorted(implicit, key=lambda p: (p.count("/") if p else -1, p)):
        found = None if _covered(path, deletes) else find_node(store, path)
        if found is None:
            writes.append(CreatedNode(path, NodeInfo("group", fmt, GroupMetadataV3() if fmt == 3
                                                     else GroupMetadataV2()), True, None))
        elif found.kind != "group" or found.zarr_format != fmt:
            raise NodeExistsError(
                f"a Zarr v{found.zarr_format} {found.kind} exists at {where(store, path or '/')}, "
                f"where nodes needs a v{fmt} group (a parent of "
                f"{sorted(p for p in explicit if p.startswith(path))[0]!r}); name {path!r} in "
                "nodes with overwrite=True to replace it, or choose other paths",
                store=store, key=path)
    for path, info in explicit.items():
        state = (ArrayState(store, path, info.meta) if info.kind == "array" else None)
        writes.append(CreatedNode(path, info, False, state))
    writes.sort(key=lambda n: (n.path.count("/") if n.path else -1, n.path))
    return HierarchyPlan(store, fmt, tuple(deletes), tuple(writes))


# -- writing --------------------------------------------------------------------------------
def _write_group(store: Store, node: CreatedNode) -> NodeInfo:
    meta = node.info.meta
    if isinstance(meta, GroupMetadataV3):
        if meta.consolidated_metadata is not None:  # rebuilt from what is written below
            meta = meta.replace(consolidated_metadata=dict(_INLINE_EMPTY, metadata={}))
        store.set(join_key(node.path, "zarr.json"), meta.to_bytes())
        return NodeInfo("group", 3, meta)
    return write_group(store, node.path, 2, meta.attributes)


def execute_plan(plan: HierarchyPlan) -> list[CreatedNode]:
    """Carry out a plan made by :func:`plan_hierarchy`; the nodes written, parents first."""
    store, fmt = plan.store, plan.zarr_format
    for path in plan.deletes:
        delete_node(store, path)
        refresh_after_write(store, path, None, fmt)
    done: list[CreatedNode] = []
    for node in plan.writes:
        if node.state is not None:
            node.state.replace_meta(node.info.meta)  # its hook refreshes consolidated metadata
            done.append(node)
            continue
        info = _write_group(store, node)
        refresh_after_write(store, node.path, info, fmt)
        done.append(CreatedNode(node.path, info, node.implicit, None))
    return done


def create_hierarchy_at(store: Store, nodes: Mapping[Any, Any], *, overwrite: bool = False,
                        root: str = "", root_format: int | None = None) -> list[CreatedNode]:
    """Validate ``nodes`` completely (:func:`plan_hierarchy`), then write them; returns the
    nodes written (implicit groups included), parents first."""
    return execute_plan(plan_hierarchy(store, nodes, overwrite=overwrite, root=root,
                                       root_format=root_format))
