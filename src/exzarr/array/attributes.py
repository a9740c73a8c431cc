"""User attributes of an array or group: a dict that writes through to the store."""

from __future__ import annotations

import json
from collections.abc import MutableMapping

from ..errors import InvalidMetadataError

__all__ = ["Attributes", "check_json"]


def check_json(value, where: str) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidMetadataError(
            f"attribute values must be JSON values (str, int, float, bool, None, lists and "
            f"dicts of them; no NaN/Infinity, NumPy arrays or other objects) at {where}: {e}; "
            f"convert values with .tolist()/float()/str() first") from None


class Attributes(MutableMapping):
    """Reads come from the node's current metadata; every change is persisted at once.

    ``owner`` provides ``_get_attrs() -> dict``, ``_set_attrs(dict)`` and ``_where()``.
    """

    def __init__(self, owner):
        self._owner = owner

    def _current(self) -> dict:
        return dict(self._owner._get_attrs())

    def __getitem__(self, k):
        return self._current()[k]

    def __iter__(self):
        return iter(self._current())

    def __len__(self):
        return len(self._current())

    def __setitem__(self, k, v):
        self.update({k: v})

    def __delitem__(self, k):
        d = self._current()
        del d[k]
        self._owner._set_attrs(d)

    def update(self, other=(), **kw):
        d = self._current()
        new = dict(other, **kw)
        check_json(new, self._owner._where())
        d.update(new)
        self._owner._set_attrs(d)

    def put(self, d: dict) -> None:
        """Replace all attributes with ``d``."""
        check_json(d, self._owner._where())
        self._owner._set_attrs(dict(d))

    def asdict(self) -> dict:
        return self._current()

    def __repr__(self):
        return f"Attributes({self._current()!r})"
