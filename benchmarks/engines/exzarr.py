"""exzarr adapter."""

from __future__ import annotations

from typing import Any

import numpy as np

import exzarr as ez
from exzarr import config

from workloads import BLOSC, ZSTD_LEVEL

from .base import Engine


class ExzarrEngine(Engine):
    name = "exzarr"

    def __init__(self, threads: int):
        super().__init__(threads)
        config.set_global(threads=threads)

    def versions(self):
        return {"exzarr": getattr(ez, "__version__", "?")}

    def _url(self, layout, loc):
        return f"memory://{loc}" if layout.store == "memory" else loc

    def create(self, layout, loc):
        return self._create_at(self._url(layout, loc), layout)

    def _create_at(self, where, layout):
        """Create (replacing anything there) an empty array with ``layout`` at ``where``, a
        URL or an open store."""
        kw: dict[str, Any] = {}
        if layout.zarr_format == 2:
            kw["compressor"] = {"zstd": {"id": "zstd", "level": ZSTD_LEVEL},
                                "blosc": {"id": "blosc", "cname": BLOSC["cname"],
                                          "clevel": BLOSC["clevel"], "shuffle": 1,
                                          "blocksize": 0},
                                "none": None}[layout.codec]
        else:
            kw["compressor"] = {
                "zstd": {"name": "zstd", "configuration": {"level": ZSTD_LEVEL, "checksum": False}},
                "blosc": {"name": "blosc", "configuration": {**BLOSC, "typesize": 4, "blocksize": 0}},
                "none": None}[layout.codec]
        if layout.shards:
            kw["shards"] = layout.shards
        return ez.create(where, shape=layout.shape, chunks=layout.chunks,
                         dtype="float32", fill_value=0, zarr_format=layout.zarr_format,
                         overwrite=True, **kw)

    def open(self, layout, loc):
        return ez.open(self._url(layout, loc), mode="r+")

    def write_full(self, h, data):
        h[...] = data

    def read_full(self, h):
        return h[...].read()

    def read_region(self, h, region):
        (r0, r1), (c0, c1) = region
        return h[r0:r1, c0:c1].read()

    def read_points(self, h, points):
        out = np.empty(len(points), dtype=h.dtype)
        for k, (i, j) in enumerate(points.tolist()):
            out[k] = h[i, j].read()
        return out

    def read_strided(self, h, steps):
        return h[::steps[0], ::steps[1]].read()

    def write_blocks(self, h, blocks):
        for r, c, v in blocks:
            h[r:r + v.shape[0], c:c + v.shape[1]] = v
