"""Finding and loading node metadata (array or group, v2 or v3) at a path in a store."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidMetadataError, where
from ..metadata import ArrayMetadataV2, ArrayMetadataV3, GroupMetadataV2, GroupMetadataV3
from ..metadata import loads_json as metadata_loads_json
from ..storage import Store
from ..storage.keys import join_key
from . import documents, parsed

__all__ = ["NodeInfo", "find_node", "node_exists", "delete_node", "load_v2_attrs", "loads_json",
           "node_from_v3_doc", "node_from_v2_docs", "GroupMetadata", "NodeMetadata"]

GroupMetadata = GroupMetadataV2 | GroupMetadataV3
#: the metadata of a node: array (v2/v3) or group (v2/v3)
NodeMetadata = ArrayMetadataV2 | ArrayMetadataV3 | GroupMetadataV2 | GroupMetadataV3


class NodeInfo:
    __slots__ = ("kind", "zarr_format", "meta", "memo")

    def __init__(self, kind: str, zarr_format: int, meta: Any,
                 memo: dict[Any, Any] | None = None) -> None:
        #: "array" or "group"; ``meta`` is the matching metadata (ArrayMetadata for an
        #: array, GroupMetadata for a group; typed Any so callers need not narrow it)
        self.kind, self.zarr_format = kind, zarr_format
        self.meta: Any = meta
        #: for an array read from a stored document: what is built from its metadata
        #: alone, shared by every array opened from the same bytes (:mod:`.parsed`)
        self.memo = memo


_V3_KINDS: dict[str, type[ArrayMetadataV3] | type[GroupMetadataV3]] = {
    "array": ArrayMetadataV3, "group": GroupMetadataV3}


def loads_json(raw: bytes, store: Store | None, key: str) -> Any:
    """Parse a metadata key's JSON: invalid, non-UTF-8 or too deeply nested text raises a
    located InvalidMetadataError."""
    return metadata_loads_json(raw, "metadata document", store, key)


def node_from_v3_doc(doc: Any, store: Store | None = None, key: str | None = None) -> NodeInfo:
    """A v3 ``zarr.json`` document (already parsed) as a NodeInfo."""
    node_type = doc.get("node_type") if isinstance(doc, dict) else None
    # (a non-str node_type, e.g. a JSON list, is invalid metadata, not a TypeError)
    cls = _V3_KINDS.get(node_type) if isinstance(node_type, str) else None
    if cls is None or not isinstance(node_type, str):
        raise InvalidMetadataError(f"{where(store, key)} has node_type {node_type!r}; expected "
                                   f"'array' or 'group'", store=store, key=key)
    return NodeInfo(node_type, 3, cls.from_json(doc, store=store, key=key))


def node_from_v2_docs(zarray: Any, zgroup: Any, zattrs: Any, store: Store | None = None,
                      path: str = "") -> NodeInfo | None:
    """A v2 node from its parsed ``.zarray``/``.zgroup``/``.zattrs`` documents (any None)."""
    if zattrs is not None and not isinstance(zattrs, dict):
        key = join_key(path, ".zattrs")
        raise InvalidMetadataError(f"{where(store, key)} must hold a JSON object",
                                   store=store, key=key)
    if zarray is not None:
        key = join_key(path, ".zarray")
        return NodeInfo("array", 2, ArrayMetadataV2.from_json(zarray, attributes=zattrs or {},
                                                              store=store, key=key))
    if zgroup is not None:
        key = join_key(path, ".zgroup")
        return NodeInfo("group", 2, GroupMetadataV2.from_json(zgroup, attributes=zattrs or {},
                                                              store=store, key=key))
    return None


def load_v2_attrs(store: Store, path: str) -> dict[str, Any]:
    key = join_key(path, ".zattrs")
    raw = documents.read(store, key)
    if raw is None:
        return {}
    attrs = metadata_loads_json(raw, "attributes document", store, key)
    if not isinstance(attrs, dict):
        raise InvalidMetadataError(f"{where(store, key)} must hold a JSON object", store=store, key=key)
    return attrs


def find_node(store: Store, path: str, zarr_format: int | None = None) -> NodeInfo | None:
    """The node at ``path`` (v3 first, then v2, unless ``zarr_format`` restricts it)."""
    if zarr_format in (None, 3):
        key = join_key(path, "zarr.json")
        raw = documents.read(store, key)
        if raw is not None:
            hit = parsed.lookup(raw)
            if hit is not None:
                return NodeInfo("array", 3, *hit)
            info = node_from_v3_doc(loads_json(raw, store, key), store, key)
            if info.kind == "array":
                info = NodeInfo("array", 3, *parsed.keep(raw, info.meta))
            return info
    if zarr_format in (None, 2):
        key = join_key(path, ".zarray")
        raw = documents.read(store, key)
        if raw is not None:
            ameta = ArrayMetadataV2.from_bytes(raw, store=store, key=key)
            return NodeInfo("array", 2, ameta.replace(attributes=load_v2_attrs(store, path)))
        key = join_key(path, ".zgroup")
        raw = documents.read(store, key)
        if raw is not None:
            gmeta = GroupMetadataV2.from_bytes(raw, store=store, key=key)
            return NodeInfo("group", 2, gmeta.replace(attributes=load_v2_attrs(store, path)))
    return None


def node_exists(store: Store, path: str) -> str | None:
    """The kind of node at ``path`` ('array'/'group') or None, without parsing it."""
    for name, kind in (("zarr.json", None), (".zarray", "array"), (".zgroup", "group")):
        if store.exists(join_key(path, name)):
            if kind is None:
                info = find_node(store, path, 3)
                return info.kind if info else "array"
            return kind
    return None


def delete_node(store: Store, path: str) -> None:
    """Remove every key of the node at ``path`` (and its children)."""
    store.delete_prefix(join_key(path, "") if path else "")
