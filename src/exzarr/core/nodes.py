"""Finding and loading node metadata (array or group, v2 or v3) at a path in a store."""

from __future__ import annotations

import json

from ..errors import InvalidMetadataError, where
from ..metadata import ArrayMetadataV2, ArrayMetadataV3, GroupMetadataV2, GroupMetadataV3
from .state import join_key

__all__ = ["NodeInfo", "find_node", "node_exists", "delete_node", "load_v2_attrs"]


class NodeInfo:
    __slots__ = ("kind", "zarr_format", "meta")

    def __init__(self, kind: str, zarr_format: int, meta):
        self.kind, self.zarr_format, self.meta = kind, zarr_format, meta


def load_v2_attrs(store, path: str) -> dict:
    key = join_key(path, ".zattrs")
    raw = store.get(key)
    if raw is None:
        return {}
    try:
        attrs = json.loads(raw)
    except ValueError as e:
        raise InvalidMetadataError(f"{where(store, key)} is not valid JSON ({e}); restore or "
                                   f"delete the file", store=store, key=key) from None
    if not isinstance(attrs, dict):
        raise InvalidMetadataError(f"{where(store, key)} must hold a JSON object", store=store, key=key)
    return attrs


def find_node(store, path: str, zarr_format: int | None = None) -> NodeInfo | None:
    """The node at ``path`` (v3 first, then v2, unless ``zarr_format`` restricts it)."""
    if zarr_format in (None, 3):
        key = join_key(path, "zarr.json")
        raw = store.get(key)
        if raw is not None:
            try:
                doc = json.loads(raw)
            except ValueError as e:
                raise InvalidMetadataError(
                    f"{where(store, key)} is not valid JSON ({e}); the metadata is corrupt: "
                    f"restore it from a backup or re-create the node", store=store, key=key) from None
            node_type = doc.get("node_type") if isinstance(doc, dict) else None
            if node_type == "array":
                return NodeInfo("array", 3, ArrayMetadataV3.from_json(doc, store=store, key=key))
            if node_type == "group":
                return NodeInfo("group", 3, GroupMetadataV3.from_json(doc, store=store, key=key))
            raise InvalidMetadataError(f"{where(store, key)} has node_type {node_type!r}; "
                                       f"expected 'array' or 'group'", store=store, key=key)
    if zarr_format in (None, 2):
        key = join_key(path, ".zarray")
        raw = store.get(key)
        if raw is not None:
            meta = ArrayMetadataV2.from_bytes(raw, store=store, key=key)
            return NodeInfo("array", 2, meta.replace(attributes=load_v2_attrs(store, path)))
        key = join_key(path, ".zgroup")
        raw = store.get(key)
        if raw is not None:
            meta = GroupMetadataV2.from_bytes(raw, store=store, key=key)
            return NodeInfo("group", 2, meta.replace(attributes=load_v2_attrs(store, path)))
    return None


def node_exists(store, path: str) -> str | None:
    """The kind of node at ``path`` ('array'/'group') or None, without parsing it."""
    for name, kind in (("zarr.json", None), (".zarray", "array"), (".zgroup", "group")):
        if store.exists(join_key(path, name)):
            if kind is None:
                info = find_node(store, path, 3)
                return info.kind if info else "array"
            return kind
    return None


def delete_node(store, path: str) -> None:
    """Remove every key of the node at ``path`` (and its children)."""
    store.delete_prefix(join_key(path, "") if path else "")
