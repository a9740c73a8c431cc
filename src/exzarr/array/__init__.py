"""Stored arrays: ``ZArray`` and its views, the per-array state, plan execution (reads and
writes, sharded or not), the chunk API, streaming and resizing.  Imports only the layers
below it (executor, storage, codecs, kernels, indexing, metadata)."""

from .lazy import LazyArray
from .state import ArrayState
from .zarray import ZArray

__all__ = ["ArrayState", "ZArray", "LazyArray"]
