"""The Numba cache folder the Makefile gives ``make bench`` (and the tests), for the
benchmark scripts run directly (``python benchmarks/run.py``).

Numba invalidates a cached kernel only when its own file changes, not when a helper it
inlines from another module does; a cache shared across edits of ``src/exzarr/kernels``
can run a kernel compiled against a helper that is no longer there.  The Makefile
therefore keys the folder by a hash of the kernels' sources (``KERNELS_KEY``); this
module takes the same key from :func:`exzarr.kernels.jit.kernels_key`, so a script run by
hand times the code in the tree and shares the Makefile's compiled kernels.
"""

from __future__ import annotations

import os
from pathlib import Path

from exzarr.kernels.jit import kernels_key

__all__ = ["numba_cache_dir", "use_numba_cache"]

ROOT = Path(__file__).resolve().parent.parent


def numba_cache_dir(root: Path = ROOT) -> str:
    """``<root>/.numba-cache/<key>``, the key the first 12 hex digits of the SHA-1 of
    ``src/exzarr/kernels/*.py`` concatenated in byte order of their names (the
    Makefile's ``KERNELS_KEY``, :func:`exzarr.kernels.jit.kernels_key`)."""
    return str(root / ".numba-cache" / kernels_key(root / "src" / "exzarr" / "kernels"))


def use_numba_cache(env: dict[str, str] | None = None) -> None:
    """Set ``NUMBA_CACHE_DIR`` in ``env`` (default: this process's environment, which
    must happen before Numba is imported) unless it is set already."""
    target = os.environ if env is None else env
    if not target.get("NUMBA_CACHE_DIR"):
        target["NUMBA_CACHE_DIR"] = numba_cache_dir()
