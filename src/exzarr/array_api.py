"""``import exzarr.array_api as xp``: the Array API namespace over lazy exzarr arrays (the
same object as ``exzarr.array_api`` and ``z.__array_namespace__()``); see
:mod:`exzarr.array.namespace`."""

from __future__ import annotations

import sys

from .array.namespace import namespace as _namespace
from .hierarchy import open as _hierarchy_open  # noqa: F401  (registers how ``to_zarr``
# creates its target and keeps consolidated metadata current, as ``exzarr.api`` does:
# ``import exzarr.array_api`` alone must be enough to store a result)

# this module *is* the namespace: its attributes are the namespace's
sys.modules[__name__] = _namespace()
