"""zarr-python (3.x) adapter, default BatchedCodecPipeline."""

from __future__ import annotations

import numpy as np

import zarr
from zarr.codecs import BloscCodec, ZstdCodec

from workloads import BLOSC, ZSTD_LEVEL

from .base import Engine


class ZarrPythonEngine(Engine):
    name = "zarr"

    def __init__(self, threads: int):
        super().__init__(threads)
        # codec work runs in zarr's thread pool; cap it at the same thread count
        zarr.config.set({"threading.max_workers": threads})

    def versions(self):
        import numcodecs
        return {"zarr": zarr.__version__, "numcodecs": numcodecs.__version__}

    def _store(self, layout, loc):
        if layout.store == "memory":
            if not hasattr(self, "_mem"):
                self._mem: dict[str, zarr.storage.MemoryStore] = {}
            return self._mem.setdefault(loc, zarr.storage.MemoryStore())
        return zarr.storage.LocalStore(loc)

    def create(self, layout, loc):
        if layout.zarr_format == 2:
            import numcodecs
            comp = {"zstd": numcodecs.Zstd(level=ZSTD_LEVEL),
                    "blosc": numcodecs.Blosc(cname=BLOSC["cname"], clevel=BLOSC["clevel"],
                                             shuffle=numcodecs.Blosc.SHUFFLE),
                    "none": None}[layout.codec]
        else:
            comp = {"zstd": ZstdCodec(level=ZSTD_LEVEL, checksum=False),
                    "blosc": BloscCodec(typesize=4, **BLOSC),
                    "none": None}[layout.codec]
        return zarr.create_array(
            self._store(layout, loc), shape=layout.shape, chunks=layout.chunks,
            shards=layout.shards, dtype="float32", fill_value=0.0,
            compressors=comp, filters=None, zarr_format=layout.zarr_format, overwrite=True)

    def open(self, layout, loc):
        return zarr.open_array(self._store(layout, loc), mode="r+")

    def write_full(self, h, data):
        h[...] = data

    def read_full(self, h):
        return h[...]

    def read_region(self, h, region):
        (r0, r1), (c0, c1) = region
        return h[r0:r1, c0:c1]

    def read_points(self, h, points):
        out = np.empty(len(points), dtype=h.dtype)
        for k, (i, j) in enumerate(points.tolist()):
            out[k] = h[i, j]
        return out

    def read_strided(self, h, steps):
        return h[::steps[0], ::steps[1]]

    def write_blocks(self, h, blocks):
        for r, c, v in blocks:
            h[r:r + v.shape[0], c:c + v.shape[1]] = v
