"""exzarr: chunked, compressed, N-dimensional arrays in the Zarr format (v2 and v3).

>>> import exzarr as ez
>>> z = ez.create("memory://doc", shape=(4, 4), chunks=(2, 2), dtype="int32")
>>> z[0, :] = 7
>>> z[:2].read().tolist()
[[7, 7, 7, 7], [0, 0, 0, 0]]
"""

__version__ = "0.1.0"

from . import config, errors
from .core.api import array, create, empty, full, ones, open, open_array, zeros
from .core.array import ZArray
from .core.consolidated import consolidate_metadata
from .core.convert import convert, copy
from .core.group import Group, group, open_group

__all__ = ["ZArray", "array", "create", "empty", "full", "ones", "open", "open_array", "zeros",
           "config", "errors", "__version__", "Group", "group", "open_group",
           "consolidate_metadata", "convert", "copy"]
