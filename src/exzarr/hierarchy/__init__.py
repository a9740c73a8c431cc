"""Groups and the hierarchy of nodes in a store: ``Group``, node discovery, walking,
consolidated metadata (kept current through a hook on array metadata writes) and the
store-level halves of ``open``/``group``/``open_group``/``consolidate_metadata``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .group import Group
    from .nodes import NodeInfo

__all__ = ["Group", "NodeInfo"]


def __getattr__(name: str) -> Any:
    """``Group`` and ``NodeInfo``, imported on first use (PEP 562): opening an array
    loads node discovery but not the group machinery."""
    if name == "Group":
        from .group import Group
        return Group
    if name == "NodeInfo":
        from .nodes import NodeInfo
        return NodeInfo
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
