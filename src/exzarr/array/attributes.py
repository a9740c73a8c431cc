"""User attributes of an array or group: a dict that writes through to the store."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, Protocol

from ..errors import InvalidMetadataError, MetadataNestingError

__all__ = ["Attributes", "check_json"]


def check_json(value: object, where: str) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidMetadataError(
            f"attribute values must be JSON values (str, int, float, bool, None, lists and "
            f"dicts of them; no NaN/Infinity, NumPy arrays or other objects) at {where}: {e}; "
            f"convert values with .tolist()/float()/str() first") from None
    except RecursionError:
        raise MetadataNestingError(
            f"attribute values at {where} nest more deeply than the interpreter's stack "
            "allows; store them flatter") from None


class AttributesOwner(Protocol):
    """An array or group, as :class:`Attributes` sees it."""

    def _get_attrs(self) -> Mapping[str, Any]: ...
    def _set_attrs(self, d: dict[str, Any]) -> None: ...
    def _where(self) -> str: ...


class Attributes(MutableMapping[str, Any]):
    """Reads come from the node's current metadata; every change is persisted at once.

    ``owner`` provides ``_get_attrs() -> dict``, ``_set_attrs(dict)`` and ``_where()``.
    """

    def __init__(self, owner: AttributesOwner) -> None:
        self._owner = owner

    def _current(self) -> dict[str, Any]:
        return dict(self._owner._get_attrs())

    def __getitem__(self, k: str) -> Any:
        return self._current()[k]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())

    def __setitem__(self, k: str, v: Any) -> None:
        self.update({k: v})

    def __delitem__(self, k: str) -> None:
        d = self._current()
        del d[k]
        self._owner._set_attrs(d)

    def update(self, other: Any = (), /, **kw: Any) -> None:
        d = self._current()
        new = dict(other, **kw)
        check_json(new, self._owner._where())
        d.update(new)
        self._owner._set_attrs(d)

    def put(self, d: Mapping[str, Any]) -> None:
        """Replace all attributes with ``d``."""
        check_json(d, self._owner._where())
        self._owner._set_attrs(dict(d))

    def asdict(self) -> dict[str, Any]:
        return self._current()

    def __repr__(self) -> str:
        return f"Attributes({self._current()!r})"
