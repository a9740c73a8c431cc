"""Groups and the hierarchy of nodes in a store: ``Group``, node discovery, walking,
consolidated metadata (kept current through a hook on array metadata writes) and the
store-level halves of ``open``/``group``/``open_group``/``consolidate_metadata``."""

from .group import Group
from .nodes import NodeInfo

__all__ = ["Group", "NodeInfo"]
