"""Parsed v3 array documents kept by their stored bytes, so that re-opening an array
whose ``zarr.json`` has not changed skips the parse and the codec pipeline's build.

Opening an array again and again is common: a dask task or a web request per chunk, xarray
opening a dataset per call, a loader opening per worker.  Every open still reads the
document; only the work done on the bytes read is kept.  So the memo can never serve
metadata the store no longer holds: a changed document is other bytes.

What a hit hands out is the caller's own: a copy of the metadata whose JSON members
(attributes, codecs, extra fields, ...) are fresh dicts and lists, so a caller that changes
them in place changes nothing any other open sees.  What is shared is what no one changes:
the codec pipeline (its codecs are built once and keep per-thread state only), in
:attr:`Parsed.memo`, keyed by what the array layer builds it with.

A hit also needs the codec registry unchanged since the parse (a codec registered with
:func:`exzarr.codecs.register` since could build another pipeline from the same names) and
the same ``config.max_metadata_depth`` (a lower limit must still refuse the document).
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections import OrderedDict
from typing import Any

from .. import config
from ..codecs.registry import generation
from ..metadata import ArrayMetadataV3

__all__ = ["Parsed", "lookup", "keep", "forget", "MAX_KEPT"]

#: parsed documents kept (least recently used first out): a few kilobytes each
MAX_KEPT = 256


class Parsed:
    """A kept document: its metadata (never handed out itself) and the memo shared by
    every array opened from it."""

    __slots__ = ("meta", "memo", "generation", "depth")

    def __init__(self, meta: ArrayMetadataV3, depth: int) -> None:
        self.meta = meta
        #: what the array layer derives from the metadata alone (the codec pipeline)
        self.memo: dict[Any, Any] = {}
        self.generation = generation()
        self.depth = depth


_kept: OrderedDict[bytes, Parsed] = OrderedDict()
_lock = threading.Lock()


def _json_copy(value: Any) -> Any:
    """``value`` with every dict and list in it new (scalars and tuples of them kept)."""
    t = type(value)
    if t is dict:
        return {k: _json_copy(v) for k, v in value.items()}
    if t is list:
        return [_json_copy(v) for v in value]
    if t is tuple:
        return tuple(_json_copy(v) for v in value)
    return value


_FIELDS = tuple(f.name for f in dataclasses.fields(ArrayMetadataV3))


def _own_copy(meta: ArrayMetadataV3) -> ArrayMetadataV3:
    """A copy of ``meta`` that shares no dict or list with it (not validated again: it
    holds the same values)."""
    new = copy.copy(meta)
    for name in _FIELDS:
        value = getattr(meta, name)
        if isinstance(value, (dict, list, tuple)):
            object.__setattr__(new, name, _json_copy(value))
    return new


def lookup(raw: Any) -> tuple[ArrayMetadataV3, dict[Any, Any]] | None:
    """(the caller's own copy of the metadata, the shared memo) of the document ``raw``
    if it was kept and is still valid, else None."""
    if type(raw) is not bytes:
        return None
    with _lock:
        hit = _kept.get(raw)
        if hit is None:
            return None
        if hit.generation != generation() or hit.depth != config.get().max_metadata_depth:
            del _kept[raw]
            return None
        _kept.move_to_end(raw)
    return _own_copy(hit.meta), hit.memo


def keep(raw: Any, meta: ArrayMetadataV3) -> tuple[ArrayMetadataV3, dict[Any, Any]]:
    """Keep ``meta``, just parsed from ``raw``; returns (a copy for the caller, the memo)."""
    if type(raw) is not bytes:
        return meta, {}
    entry = Parsed(_own_copy(meta), config.get().max_metadata_depth)
    with _lock:
        _kept[raw] = entry
        _kept.move_to_end(raw)
        while len(_kept) > MAX_KEPT:
            _kept.popitem(last=False)
    return meta, entry.memo


def forget() -> None:
    """Drop every kept document."""
    with _lock:
        _kept.clear()
