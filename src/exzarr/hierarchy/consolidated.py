"""Consolidated metadata: the metadata of a whole hierarchy in one key.

Two stored forms, both exactly as zarr-python writes them:

* Zarr v2: ``<group>/.zmetadata`` =
  ``{"metadata": {".zgroup": {...}, ".zattrs": {...}, "a/.zarray": {...}, ...},
  "zarr_consolidated_format": 1}``.
* Zarr v3: the group's own ``zarr.json`` carries ``"consolidated_metadata": {"kind":
  "inline", "must_understand": false, "metadata": {"a": {<zarr.json of a>}, "a/b": ...}}``
  (flat, paths relative to the group; nested groups carry an empty one of their own).

Opening a consolidated group reads that one key; members then come from it without
further reads.

**Staleness policy: update, never hide.**  Whenever exzarr writes node metadata (a new
array or group, changed attributes, a resize through a group's array, a deleted member),
:func:`refresh_after_write` rewrites the entry in the consolidated metadata of every
ancestor group that has some, so a consolidated open always sees nodes exzarr wrote.
Looking a member up by name also falls back to the store when the consolidated view of
an already open group lacks it.
"""

from __future__ import annotations

import threading

from ..array.state import ArrayMetadata, on_metadata_written
from ..errors import InvalidMetadataError, where
from ..metadata._common import dumps_document, loads_json
from ..storage import Store
from ..storage.keys import join_key
from .nodes import NodeInfo
from .walk import node_from_v2_docs, node_from_v3_doc, parent_paths

__all__ = ["ConsolidatedView", "read_consolidated", "load_v2_consolidated",
           "refresh_after_write", "write_consolidated", "strip_nested", "LOCK",
           "ZMETADATA", "has_consolidated"]

ZMETADATA = ".zmetadata"
_INLINE = {"kind": "inline", "must_understand": False}
#: held while consolidated metadata is rewritten
LOCK = threading.RLock()


class ConsolidatedView:
    """Metadata of every node below one group, keyed by path relative to that group."""

    def __init__(self, zarr_format: int, entries: dict[str, NodeInfo]):
        self.zarr_format = zarr_format
        self.entries = entries

    def get(self, rel: str) -> NodeInfo | None:
        return self.entries.get(rel)

    def children(self, rel: str) -> list[tuple[str, NodeInfo]]:
        """(name, info) of the direct members of the group at ``rel``, sorted by name."""
        pre = join_key(rel, "")
        out = []
        for k, info in self.entries.items():
            if k.startswith(pre) and "/" not in k[len(pre):]:
                out.append((k[len(pre):], info))
        return sorted(out, key=lambda t: t[0])

    def descendants(self, rel: str):
        pre = join_key(rel, "")
        return sorted((k[len(pre):], v) for k, v in self.entries.items() if k.startswith(pre))

    def put(self, rel: str, info: NodeInfo) -> None:
        self.entries[rel] = info

    def remove(self, rel: str) -> None:
        for k in [k for k in self.entries if k == rel or k.startswith(rel + "/")]:
            del self.entries[k]


# -- reading ----------------------------------------------------------------------
def strip_nested(info: NodeInfo) -> NodeInfo:
    """A group entry without its own (nested, in-memory) consolidated field."""
    if info.kind == "group" and info.zarr_format == 3 and info.meta.consolidated_metadata is not None:
        return NodeInfo("group", 3, info.meta.replace(consolidated_metadata=None))
    return info


def _v3_entries(cm, store, key, prefix: str = "") -> dict[str, NodeInfo]:
    if not isinstance(cm, dict) or not isinstance(cm.get("metadata", {}), dict):
        raise InvalidMetadataError(f"consolidated_metadata in {where(store, key)} must be an object "
                                   f"with a 'metadata' object; re-run exzarr.consolidate_metadata()",
                                   store=store, key=key)
    kind = cm.get("kind", "inline")
    if kind != "inline":
        raise InvalidMetadataError(f"consolidated_metadata kind {kind!r} in {where(store, key)} is not "
                                   f"supported (only 'inline'); open with use_consolidated=False",
                                   store=store, key=key)
    out: dict[str, NodeInfo] = {}
    for rel, doc in cm.get("metadata", {}).items():
        rel = join_key(prefix, rel.strip("/"))
        info = node_from_v3_doc(doc, store, f"{key} (consolidated entry {rel!r})")
        out[rel] = strip_nested(info)
        nested = doc.get("consolidated_metadata")
        if info.kind == "group" and nested and nested.get("metadata"):
            out.update(_v3_entries(nested, store, key, rel))  # nested (in-memory) form
    return out


def load_v2_consolidated(store, path: str, raw: bytes | None = None):
    """``(root NodeInfo, ConsolidatedView)`` from ``<path>/.zmetadata``, or None if absent."""
    key = join_key(path, ZMETADATA)
    if raw is None:
        raw = store.get(key)
    if raw is None:
        return None
    try:
        doc = loads_json(raw, "consolidated metadata", store, key)
        md = doc["metadata"]
        if not isinstance(md, dict):
            raise TypeError("'metadata' is not an object")
    except (ValueError, KeyError, TypeError) as e:
        raise InvalidMetadataError(f"{where(store, key)} is not consolidated metadata ({e}); "
                                   f"re-run exzarr.consolidate_metadata() or delete it",
                                   store=store, key=key) from None
    nodes: dict[str, dict] = {}
    for k, v in md.items():
        node, _, name = k.rpartition("/")
        nodes.setdefault(node, {})[name] = v
    entries: dict[str, NodeInfo] = {}
    root = None
    for rel, docs in nodes.items():
        info = node_from_v2_docs(docs.get(".zarray"), docs.get(".zgroup"), docs.get(".zattrs"),
                                 store=store, path=join_key(path, rel))
        if info is None:
            continue
        if rel == "":
            root = info
        else:
            entries[rel] = info
    if root is None or root.kind != "group":
        raise InvalidMetadataError(f"{where(store, key)} has no '.zgroup' entry for the group "
                                   f"itself; re-run exzarr.consolidate_metadata()", store=store, key=key)
    return root, ConsolidatedView(2, entries)


def read_consolidated(store, path: str, info: NodeInfo) -> ConsolidatedView | None:
    """The consolidated view of the group ``info`` at ``path``, or None if it has none."""
    if info.zarr_format == 3:
        cm = info.meta.consolidated_metadata
        if cm is None:
            return None
        return ConsolidatedView(3, _v3_entries(cm, store, join_key(path, "zarr.json")))
    found = load_v2_consolidated(store, path)
    return None if found is None else found[1]


def has_consolidated(store, path: str, zarr_format: int) -> bool:
    if zarr_format == 2:
        return store.exists(join_key(path, ZMETADATA))
    raw = store.get(join_key(path, "zarr.json"))
    try:
        return raw is not None and loads_json(raw, "group metadata").get("consolidated_metadata") is not None
    except (ValueError, AttributeError):
        return False


# -- writing ----------------------------------------------------------------------
def _v3_entry_json(info: NodeInfo) -> dict:
    if info.kind == "group":
        doc = info.meta.replace(consolidated_metadata=None).to_json()
        doc["consolidated_metadata"] = dict(_INLINE, metadata={})
        return doc
    return info.meta.to_json()


def _v2_entry_json(rel: str, info: NodeInfo) -> dict:
    name = ".zgroup" if info.kind == "group" else ".zarray"
    return {join_key(rel, name): info.meta.to_json(),
            join_key(rel, ".zattrs"): info.meta.attrs_to_json()}


def write_consolidated(store, path: str, root: NodeInfo, entries: dict[str, NodeInfo]) -> NodeInfo:
    """Store consolidated metadata of ``entries`` for the group ``root`` at ``path``;
    returns the group's (v3: updated) NodeInfo."""
    if root.zarr_format == 2:
        md = _v2_entry_json("", root)
        for rel in sorted(entries):
            md.update(_v2_entry_json(rel, entries[rel]))
        store.set(join_key(path, ZMETADATA), _dumps({"metadata": md, "zarr_consolidated_format": 1}))
        return root
    cm = dict(_INLINE, metadata={rel: _v3_entry_json(entries[rel]) for rel in sorted(entries)})
    meta = root.meta.replace(consolidated_metadata=cm)
    store.set(join_key(path, "zarr.json"), meta.to_bytes())
    return NodeInfo("group", 3, meta)


def _dumps(doc) -> bytes:
    return dumps_document(doc)


def refresh_after_write(store, path: str, info: NodeInfo | None, zarr_format: int) -> None:
    """Bring the consolidated metadata of every ancestor of ``path`` (and, in v2, of the
    group at ``path`` itself) up to date after exzarr wrote the node there (``info``) or
    deleted it (``info=None``).  Reads one key per ancestor; writes only where needed."""
    targets = parent_paths(path)
    if zarr_format == 2 and info is not None and info.kind == "group":
        targets.append(path)  # a v2 group's own .zattrs is part of its .zmetadata
    with LOCK:
        for anc in targets:
            rel = path[len(anc):].lstrip("/") if anc else path
            if zarr_format == 3:
                _refresh_v3(store, anc, rel, info)
            else:
                _refresh_v2(store, anc, rel, info)


def _refresh_v3(store, anc: str, rel: str, info: NodeInfo | None) -> None:
    key = join_key(anc, "zarr.json")
    raw = store.get(key)
    if raw is None:
        return
    try:
        doc = loads_json(raw, "group metadata", store, key)
    except ValueError:
        return
    cm = doc.get("consolidated_metadata") if isinstance(doc, dict) else None
    if not isinstance(cm, dict):
        return
    md = cm.setdefault("metadata", {})
    if info is None:
        for k in [k for k in md if k == rel or k.startswith(rel + "/")]:
            del md[k]
    else:
        md[rel] = _v3_entry_json(strip_nested(info))
    store.set(key, _dumps(doc))


def _refresh_v2(store, anc: str, rel: str, info: NodeInfo | None) -> None:
    key = join_key(anc, ZMETADATA)
    raw = store.get(key)
    if raw is None:
        return
    try:
        doc = loads_json(raw, "consolidated metadata", store, key)
        md = doc["metadata"]
    except (ValueError, KeyError, TypeError):
        return
    if info is None:  # the node and everything below it
        for k in [k for k in md if k.startswith(rel + "/")]:
            del md[k]
    else:  # the node's own documents (a group may have become an array or back)
        for k in [k for k in md if k.rpartition("/")[0] == rel]:
            del md[k]
        md.update(_v2_entry_json(rel, info))
    store.set(key, _dumps(doc))


@on_metadata_written
def _array_metadata_written(store: Store, path: str, meta: ArrayMetadata) -> None:
    """The hook the array layer calls after writing array metadata."""
    refresh_after_write(store, path, NodeInfo("array", meta.zarr_format, meta), meta.zarr_format)
