"""exzarr: chunked, compressed, N-dimensional arrays in the Zarr format (v2 and v3).

>>> import exzarr as ez
>>> z = ez.create("memory://doc", shape=(4, 4), chunks=(2, 2), dtype="int32")
>>> z[0, :] = 7
>>> z[:2].read().tolist()
[[7, 7, 7, 7], [0, 0, 0, 0]]

``import exzarr`` loads only the settings and the exception tree; every other public name
is imported on first use (PEP 562), so a program loads what it uses: ``exzarr.open`` and a
read never load the compute engine, the group machinery or the batch loader.
"""

__version__ = "0.1.0"

import importlib as _importlib
import sys as _sys
import types as _types
from typing import Any as _Any

from . import config, errors

#: public name -> the module that defines it (imported when the name is first used)
_LAZY = {
    **dict.fromkeys(
        ["array", "consolidate_metadata", "create", "create_array",
         "create_group", "create_hierarchy", "empty", "empty_like", "from_array", "full",
         "full_like", "group", "load", "ones", "ones_like", "open", "open_array",
         "open_consolidated", "open_group", "open_like", "save", "save_array", "save_group",
         "store", "tree", "zeros", "zeros_like"], "exzarr.api"),
    **dict.fromkeys(["convert", "copy"], "exzarr.tools.convert"),
    "ZArray": "exzarr.array.zarray",
    "Group": "exzarr.hierarchy.group",
    "loader": "exzarr.integrations.loader",
}

__all__ = ["ZArray", "array", "create", "empty", "full", "ones", "open", "open_array", "zeros",
           "config", "errors", "__version__", "Group", "group", "open_group",
           "consolidate_metadata", "convert", "copy", "loader", "store", "array_api",
           "create_array", "create_group", "from_array", "empty_like", "zeros_like",
           "ones_like", "full_like", "open_like", "open_consolidated", "save", "save_array",
           "save_group", "load", "tree", "create_hierarchy"]


def __getattr__(name: str) -> _Any:
    if name == "array_api":  # the Array API namespace, built (and imported) on first use
        _importlib.import_module("exzarr.api")
        return _importlib.import_module("exzarr.array_api")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'exzarr' has no attribute {name!r}")
    # exzarr.api first, always: importing it registers the hierarchy's hooks on the array
    # layer (consolidated metadata kept current, the array creator of ``to_zarr``)
    _importlib.import_module("exzarr.api")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(_types.ModuleType):
    """The type of this module: importing the subpackage ``exzarr.array`` would make the
    import system replace the function ``exzarr.array`` with it (it sets a package's
    attribute for each subpackage loaded); the function keeps the name, as it always has."""

    def __setattr__(self, name: str, value: _Any) -> None:
        if name == "array" and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
