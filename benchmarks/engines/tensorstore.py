"""tensorstore adapter (zarr3 / zarr drivers).

Context: ``file_io_sync: false`` (no fsync after each chunk write, as the other engines),
``cache_pool`` 0 bytes (no chunk cache, so repeated reads really decode), and the data-copy
and file-io concurrency limits set to the benchmark's thread count.
"""

from __future__ import annotations

import numpy as np

import tensorstore as ts

from workloads import BLOSC, ZSTD_LEVEL

from .base import Engine

_BYTES = {"name": "bytes", "configuration": {"endian": "little"}}


class TensorstoreEngine(Engine):
    name = "tensorstore"

    def __init__(self, threads: int):
        super().__init__(threads)
        self.ctx = ts.Context({
            "file_io_sync": False,
            "cache_pool": {"total_bytes_limit": 0},
            "data_copy_concurrency": {"limit": threads},
            "file_io_concurrency": {"limit": threads},
        })

    def versions(self):
        from importlib.metadata import version
        return {"tensorstore": version("tensorstore")}

    def _kvstore(self, layout, loc):
        if layout.store == "memory":
            return {"driver": "memory", "path": loc + "/"}
        return {"driver": "file", "path": loc + "/"}

    def _spec(self, layout, loc):
        if layout.zarr_format == 2:
            comp = {"zstd": {"id": "zstd", "level": ZSTD_LEVEL},
                    "blosc": {"id": "blosc", "cname": BLOSC["cname"], "clevel": BLOSC["clevel"],
                              "shuffle": 1, "blocksize": 0},
                    "none": None}[layout.codec]
            meta = {"shape": list(layout.shape), "chunks": list(layout.chunks), "dtype": "<f4",
                    "fill_value": 0.0, "order": "C", "filters": None, "compressor": comp,
                    "dimension_separator": "."}
            return {"driver": "zarr", "kvstore": self._kvstore(layout, loc), "metadata": meta}
        comp = {"zstd": [{"name": "zstd", "configuration": {"level": ZSTD_LEVEL, "checksum": False}}],
                "blosc": [{"name": "blosc", "configuration": {**BLOSC, "typesize": 4,
                                                               "blocksize": 0}}],
                "none": []}[layout.codec]
        codecs = [_BYTES, *comp]
        grid = layout.chunks
        if layout.shards:
            grid = layout.shards
            codecs = [{"name": "sharding_indexed", "configuration": {
                "chunk_shape": list(layout.chunks), "codecs": codecs,
                "index_codecs": [_BYTES, {"name": "crc32c"}], "index_location": "end"}}]
        meta = {"shape": list(layout.shape), "data_type": "float32", "fill_value": 0.0,
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(grid)}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "codecs": codecs}
        return {"driver": "zarr3", "kvstore": self._kvstore(layout, loc), "metadata": meta}

    def create(self, layout, loc):
        return ts.open(self._spec(layout, loc), create=True, delete_existing=True,
                       context=self.ctx).result()

    def open(self, layout, loc):
        spec = self._spec(layout, loc)
        del spec["metadata"]
        return ts.open(spec, open=True, context=self.ctx).result()

    def write_full(self, h, data):
        h.write(data).result()

    def read_full(self, h):
        return h.read().result()

    def read_region(self, h, region):
        (r0, r1), (c0, c1) = region
        return h[r0:r1, c0:c1].read().result()

    def read_points(self, h, points):
        out = np.empty(len(points), dtype=np.float32)
        for k, (i, j) in enumerate(points.tolist()):
            out[k] = h[i, j].read().result()
        return out

    def read_strided(self, h, steps):
        return h[::steps[0], ::steps[1]].read().result()

    def write_blocks(self, h, blocks):
        for r, c, v in blocks:
            h[r:r + v.shape[0], c:c + v.shape[1]].write(v).result()
