"""Package names imported from their modules on first use (PEP 562), for the packages
whose ``__init__`` must stay light (``import exzarr`` and ``exzarr.open`` load only what
they use)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(package: str, modules: Mapping[str, str], namespace: dict[str, Any],
               public: list[str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: a name in ``modules`` (name -> module
    of the package) is imported from that module on first use and kept in ``namespace``
    (the package's globals), so later lookups are plain attributes."""

    def getattr_(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted(set(namespace) | set(public))
    return getattr_, dir_
