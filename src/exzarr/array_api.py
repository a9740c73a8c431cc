"""``import exzarr.array_api as xp``: the Array API namespace over lazy exzarr arrays (the
same object as ``exzarr.array_api`` and ``z.__array_namespace__()``); see
:mod:`exzarr.array.namespace`."""

from __future__ import annotations

import sys

from .array.namespace import namespace as _namespace

# this module *is* the namespace: its attributes are the namespace's
sys.modules[__name__] = _namespace()
