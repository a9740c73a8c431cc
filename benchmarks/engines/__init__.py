"""Engine registry: name -> adapter class, imported lazily so a run only imports the
libraries of the engines it measures (and a missing one is reported, not fatal)."""

from __future__ import annotations

import importlib

from .base import Engine, Unavailable

ENGINES = {
    "exzarr": ("engines.exzarr", "ExzarrEngine"),
    "zarr": ("engines.zarr_python", "ZarrPythonEngine"),
    "tensorstore": ("engines.tensorstore", "TensorstoreEngine"),
    "zarrs": ("engines.zarrs", "ZarrsEngine"),
}
LABELS = {"exzarr": "exzarr", "zarr": "zarr-python", "tensorstore": "tensorstore",
          "zarrs": "zarr-python+zarrs"}


def load(name: str, threads: int) -> Engine:
    """Instantiate the adapter; raise :class:`Unavailable` if its library does not import."""
    mod, cls = ENGINES[name]
    try:
        m = importlib.import_module(mod)
    except ImportError as e:
        raise Unavailable(f"{LABELS[name]} not installed ({e})") from e
    return getattr(m, cls)(threads)


__all__ = ["ENGINES", "LABELS", "Engine", "Unavailable", "load"]
