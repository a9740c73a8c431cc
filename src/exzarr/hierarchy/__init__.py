"""Groups and the hierarchy of nodes in a store: ``Group``, node discovery, walking,
consolidated metadata (kept current through a hook on array metadata writes) and the
store-level halves of ``open``/``group``/``open_group``/``consolidate_metadata``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy_names import lazy_names

if TYPE_CHECKING:
    from .group import Group
    from .nodes import NodeInfo

__all__ = ["Group", "NodeInfo"]

# imported on first use (PEP 562): opening an array loads node discovery but not the
# group machinery
__getattr__, __dir__ = lazy_names(__name__, {"Group": "group", "NodeInfo": "nodes"},
                                  globals(), __all__)
