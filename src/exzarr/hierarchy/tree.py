"""Text rendering of a hierarchy (``Group.tree()``) and ``Group.info``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..array.info import ArrayInfo
from .nodes import NodeInfo

__all__ = ["Tree", "group_info", "describe_array"]


def describe_array(meta) -> str:
    """``(100, 100) float32 chunks=(10, 10)`` for array metadata."""
    chunks = tuple(meta.chunks)
    shards = None
    if meta.zarr_format == 3:
        for c in meta.codecs:
            if c.get("name") == "sharding_indexed":
                shards, chunks = chunks, tuple(c["configuration"]["chunk_shape"])
    text = f"{tuple(meta.shape)} {meta.dtype} chunks={chunks}"
    return text + (f" shards={shards}" if shards else "")


class Tree:
    """A text tree: ``str(tree)`` / ``print(tree)``; ``repr`` shows the same text."""

    def __init__(self, lines: list[str]):
        self.lines = lines

    @classmethod
    def of(cls, group: Any, descendants: Iterable[tuple[str, NodeInfo]]) -> "Tree":
        """``descendants``: ``(relative path, NodeInfo)`` pairs, parents first."""
        kids: dict[str, list[tuple[str, NodeInfo]]] = {}
        for rel, info in descendants:
            parent, _, name = rel.rpartition("/")
            kids.setdefault(parent, []).append((name, info))
        head = f"{group.name} (group, zarr v{group.zarr_format})"
        lines = [head]

        def emit(prefix_rel: str, indent: str) -> None:
            items = sorted(kids.get(prefix_rel, []), key=lambda t: t[0])
            for i, (name, info) in enumerate(items):
                last = i == len(items) - 1
                branch = "└── " if last else "├── "
                if info.kind == "group":
                    lines.append(f"{indent}{branch}{name}")
                    rel = f"{prefix_rel}/{name}" if prefix_rel else name
                    emit(rel, indent + ("    " if last else "│   "))
                else:
                    lines.append(f"{indent}{branch}{name} {describe_array(info.meta)}")

        emit("", "")
        return cls(lines)

    def __str__(self) -> str:
        return "\n".join(self.lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, p, cycle):  # IPython
        p.text(str(self))


def group_info(g) -> ArrayInfo:
    """Rows describing a group (printed like ``ZArray.info``)."""
    members = g._children()
    rows = (
        ("Type", "Group"),
        ("Zarr format", str(g.zarr_format)),
        ("Store", g.store.url),
        ("Path", g.name),
        ("Read-only", str(g.read_only)),
        ("Consolidated", "yes" if g.consolidated else "no"),
        ("Arrays", str(sum(1 for _, i in members if i.kind == "array"))),
        ("Groups", str(sum(1 for _, i in members if i.kind == "group"))),
        ("Attributes", str(len(g.attrs))),
    )
    return ArrayInfo(rows)
