"""zarr-python with the zarrs (Rust) codec pipeline.

``codec_pipeline.strict`` is on, so an operation zarrs does not support raises instead of
silently falling back to zarr-python's own pipeline (which would mislabel the numbers);
the runner reports such a workload as unavailable for this engine.
"""

from __future__ import annotations

import zarr

from .base import Unavailable
from .zarr_python import ZarrPythonEngine


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
        return {**super().versions(), "zarrs": zarrs.__version__}

    def create(self, layout, loc):
        if layout.store == "memory":
            raise Unavailable("zarrs pipeline does not support zarr-python's MemoryStore")
        return super().create(layout, loc)
