"""Public test helpers: the shared store test suites and hypothesis strategies.

``from exzarr.testing import StoreTests`` gives the pytest base class every store passes
(subclass it and provide a ``store`` fixture); ``exzarr.testing.strategies`` holds the
hypothesis strategies exzarr's own property tests use.  Imported lazily, so pytest and
hypothesis are only needed when these are used.
"""

import importlib

__all__ = ["StoreTests", "ReadableStoreTests", "strategies"]


def __getattr__(name):
    if name in ("StoreTests", "ReadableStoreTests"):
        return getattr(importlib.import_module(f"{__name__}.stores"), name)
    if name == "strategies":
        return importlib.import_module(f"{__name__}.strategies")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
