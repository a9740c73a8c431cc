"""Metadata documents read again only when they changed, on stores where asking costs
less than reading (:attr:`~exzarr.storage.base.Store.revalidates`: object stores).

Opening an array reads its ``zarr.json`` (or ``.zarray`` and ``.zattrs``) every time:
nothing opened is ever older than the store.  On an object store, the second and later
reads of an unchanged document can be a conditional request (``If-None-Match`` with the
version tag of the copy kept here): the server answers "not modified" without the
document, and the copy is used.  A document changed or removed since, by this process or
any other, is a full answer (or none), which replaces (or drops) the copy.  So a kept
copy is never used unchecked, as :mod:`exzarr.hierarchy.parsed` never serves metadata
the store no longer holds; what it saves is the transfer and the server's work, as
tensorstore's cached metadata does (it revalidates the same way).

Copies are kept per :attr:`~exzarr.storage.base.Store.tag_scope` and key, the most
recently used :data:`MAX_KEPT` of them (a few kilobytes each).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from ..storage.base import Store

__all__ = ["read", "forget", "MAX_KEPT"]

#: documents kept (least recently used first out)
MAX_KEPT = 256

_kept: OrderedDict[tuple[str, str], tuple[str, bytes]] = OrderedDict()
_lock = threading.Lock()


def read(store: Store, key: str) -> bytes | None:
    """The document at ``key`` as the store holds it now (None: none), asked for only if
    it changed where the store :attr:`~exzarr.storage.base.Store.revalidates`."""
    if not store.revalidates:
        return store.get(key)
    where = (store.tag_scope, key)
    with _lock:
        hit = _kept.get(where)
    if hit is None:
        raw, tag = store.get_tagged(key)
    else:
        answer = store.get_unless(key, hit[0])
        if answer is None:  # not modified: the copy is the document
            with _lock:
                if where in _kept:
                    _kept.move_to_end(where)
            return hit[1]
        raw, tag = answer
    with _lock:
        if raw is None or tag is None or type(raw) is not bytes:
            _kept.pop(where, None)
        else:
            _kept[where] = (tag, raw)
            _kept.move_to_end(where)
            while len(_kept) > MAX_KEPT:
                _kept.popitem(last=False)
    return raw


def forget() -> None:
    """Drop every kept document."""
    with _lock:
        _kept.clear()
