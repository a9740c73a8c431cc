"""zarr-python with the zarrs (Rust) codec pipeline.

``codec_pipeline.strict`` is on, so an operation zarrs does not support raises instead of
silently falling back to zarr-python's own pipeline (which would mislabel the numbers);
the runner reports such a workload as not available (n/a) for this engine.
"""

from __future__ import annotations

import functools

import zarr

from .base import Unavailable
from .zarr_python import ZarrPythonEngine


def _unsupported_to_unavailable(fn):
    @functools.wraps(fn)
    def wrapper(self, *a, **kw):
        from zarrs import DiscontiguousArrayError, UnsupportedVIndexingError
        try:
            return fn(self, *a, **kw)
        except (DiscontiguousArrayError, UnsupportedVIndexingError, NotImplementedError) as e:
            raise Unavailable(f"zarrs pipeline (strict) does not support this: "
                              f"{type(e).__name__}: {e}") from e
    return wrapper


class ZarrsEngine(ZarrPythonEngine):
    name = "zarrs"

    def __init__(self, threads: int):
        import zarrs  # noqa: F401  (ImportError -> reported as not installed)
        super().__init__(threads)
        zarr.config.set({
            "threading.max_workers": threads,
            "codec_pipeline": {"path": "zarrs.ZarrsCodecPipeline", "strict": True,
                               "chunk_concurrent_maximum": threads,
                               "validate_checksums": True},
        })

    def versions(self):
        import zarrs
        return {"zarrs": zarrs.__version__}

    def create(self, layout, loc):
        if layout.store == "memory":
            raise Unavailable("zarrs pipeline does not support zarr-python's MemoryStore")
        return super().create(layout, loc)

    read_full = _unsupported_to_unavailable(ZarrPythonEngine.read_full)
    read_region = _unsupported_to_unavailable(ZarrPythonEngine.read_region)
    read_points = _unsupported_to_unavailable(ZarrPythonEngine.read_points)
    read_strided = _unsupported_to_unavailable(ZarrPythonEngine.read_strided)
    write_full = _unsupported_to_unavailable(ZarrPythonEngine.write_full)
    write_blocks = _unsupported_to_unavailable(ZarrPythonEngine.write_blocks)
