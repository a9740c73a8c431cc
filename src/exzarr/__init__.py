"""exzarr: chunked, compressed, N-dimensional arrays in the Zarr format (v2 and v3).

>>> import exzarr as ez
>>> z = ez.create("memory://doc", shape=(4, 4), chunks=(2, 2), dtype="int32")
>>> z[0, :] = 7
>>> z[:2].read().tolist()
[[7, 7, 7, 7], [0, 0, 0, 0]]
"""

__version__ = "0.1.0"

from . import config, errors
import importlib as _importlib
from typing import Any as _Any

from .api import (array, consolidate_metadata, convert, copy, create, create_array, create_group,
                  create_hierarchy, empty, empty_like, from_array, full, full_like, group, load,
                  ones, ones_like, open, open_array, open_consolidated, open_group, open_like,
                  save, save_array, save_group, store, tree, zeros, zeros_like)
from .array.zarray import ZArray
from .hierarchy.group import Group
from .integrations.loader import loader

__all__ = ["ZArray", "array", "create", "empty", "full", "ones", "open", "open_array", "zeros",
           "config", "errors", "__version__", "Group", "group", "open_group",
           "consolidate_metadata", "convert", "copy", "loader", "store", "array_api",
           "create_array", "create_group", "from_array", "empty_like", "zeros_like",
           "ones_like", "full_like", "open_like", "open_consolidated", "save", "save_array",
           "save_group", "load", "tree", "create_hierarchy"]


def __getattr__(name: str) -> _Any:
    if name == "array_api":  # the Array API namespace, built (and imported) on first use
        return _importlib.import_module("exzarr.array_api")
    raise AttributeError(f"module 'exzarr' has no attribute {name!r}")
