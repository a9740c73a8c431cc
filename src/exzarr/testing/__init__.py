"""Public test helpers: the shared store test suites and hypothesis strategies.

``from exzarr.testing import StoreTests`` gives the pytest base class every store passes
(subclass it and provide a ``store`` fixture); ``exzarr.testing.strategies`` holds the
hypothesis strategies exzarr's own property tests use.  Imported lazily, so pytest and
hypothesis are only needed when these are used.
"""

__all__ = ["StoreTests", "ReadableStoreTests", "strategies"]


def __getattr__(name):
    if name in ("StoreTests", "ReadableStoreTests"):
        from . import stores
        return getattr(stores, name)
    if name == "strategies":
        from . import strategies
        return strategies
    raise AttributeError(name)
