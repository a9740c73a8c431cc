"""Workload definitions and the shared, deterministic benchmark data.

A *layout* is how an array is stored (format, codecs, chunking, sharding, store kind); a
*workload* is one measured operation on a layout.  Every engine gets exactly the same
layouts (same codecs, levels, chunk and shard shapes) and the same operations (same
regions, points and blocks, generated from fixed seeds).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypedDict

import numpy as np

DTYPE = np.dtype("float32")
ZSTD_LEVEL = 1


class BloscSettings(TypedDict):
    """Blosc's settings, by the keyword names of zarr-python's ``BloscCodec``."""
    cname: Literal["lz4", "lz4hc", "blosclz", "snappy", "zlib", "zstd"]
    clevel: int
    shuffle: Literal["noshuffle", "shuffle", "bitshuffle"]


# byte shuffle, typesize 4
BLOSC: BloscSettings = {"cname": "lz4", "clevel": 5, "shuffle": "shuffle"}


@dataclass(frozen=True)
class Layout:
    name: str
    shape: tuple[int, int]
    chunks: tuple[int, int]
    codec: str                       # "zstd" (level 1, no checksum) | "blosc" | "none"
    zarr_format: int = 3
    shards: tuple[int, int] | None = None   # v3 sharding_indexed: outer shard shape
    store: str = "local"             # "local" (a directory under --dir) | "memory"

    def describe(self) -> str:
        codec = {"zstd": f"zstd(level={ZSTD_LEVEL})",
                 "blosc": "blosc(lz4, clevel=5, shuffle)",
                 "none": "no compression"}[self.codec]
        grid = (f"shards {fmt_shape(self.shards)} of {fmt_shape(self.chunks)} chunks"
                if self.shards else f"chunks {fmt_shape(self.chunks)}")
        return (f"v{self.zarr_format}, {fmt_shape(self.shape)} float32, {grid}, {codec}, "
                f"{'in-memory store' if self.store == 'memory' else 'local disk'}")


@dataclass(frozen=True)
class Workload:
    name: str          # "<layout>.<op>"
    layout: Layout
    op: str            # write_full | read_full | read_region | read_points | read_strided | write_blocks
    params: dict = field(default_factory=dict, hash=False, compare=False)
    n_ops: int = 1     # operations per timed run (latency = time / n_ops)

    @property
    def is_write(self) -> bool:
        return self.op.startswith("write")

    def describe(self) -> str:
        p = self.params
        texts: dict[str, str | Callable[[], str]] = {
            "write_full": "full write",
            "read_full": "full read",
            "read_region": lambda: f"region read [{_sl(p['region'])}]",
            "read_points": lambda: f"{self.n_ops} single-element reads at random positions",
            "read_strided": lambda: f"strided read [::{p['steps'][0]}, ::{p['steps'][1]}]",
            "write_blocks": lambda: (f"{self.n_ops} unaligned {p['block']}x{p['block']} "
                                     f"block writes into the stored array"),
        }
        what = texts[self.op]
        return what() if callable(what) else what


def fmt_shape(s) -> str:
    return "x".join(str(x) for x in s)


def _sl(region) -> str:
    return ", ".join(f"{a}:{b}" for a, b in region)


def make_workloads(quick: bool = False) -> list[Workload]:
    """Every workload, in the order they run (writes of a layout before its reads)."""
    n = 2048 if quick else 8192
    shape = (n, n)
    shard = (n // 2, n // 2)          # 4096x4096 at full size: 4 shards of 256 inner chunks
    L = {
        "zstd": Layout("zstd", shape, (512, 512), "zstd"),
        "blosc": Layout("blosc", shape, (512, 512), "blosc"),
        "raw": Layout("raw", shape, (512, 512), "none"),
        "sharded": Layout("sharded", shape, (256, 256), "zstd", shards=shard),
        "mem": Layout("mem", shape, (512, 512), "zstd", store="memory"),
        "memraw": Layout("memraw", shape, (512, 512), "none", store="memory"),
        "memblosc": Layout("memblosc", shape, (512, 512), "blosc", store="memory"),
        "v2blosc": Layout("v2blosc", shape, (512, 512), "blosc", zarr_format=2),
    }
    lo, hi = (n * 1000) // 8192, (n * 3000) // 8192   # [1000:3000, 1000:3000] at full size
    npoints = 200 if quick else 1000
    nblocks = 50 if quick else 200
    w = []
    for name in ("zstd", "blosc", "raw"):
        w.append(Workload(f"{name}.write", L[name], "write_full"))
        w.append(Workload(f"{name}.read", L[name], "read_full"))
    z = L["zstd"]
    w.append(Workload("zstd.region", z, "read_region", {"region": ((lo, hi), (lo, hi))}))
    w.append(Workload("zstd.points", z, "read_points", {"seed": 1}, n_ops=npoints))
    w.append(Workload("zstd.strided", z, "read_strided", {"steps": (7, 3)}))
    w.append(Workload("zstd.blocks", z, "write_blocks", {"seed": 2, "block": 100}, n_ops=nblocks))
    s = L["sharded"]
    w.append(Workload("sharded.write", s, "write_full"))
    w.append(Workload("sharded.read", s, "read_full"))
    w.append(Workload("sharded.points", s, "read_points", {"seed": 1}, n_ops=npoints))
    # a 2048x2048 region (at full size) across all 4 shards, on no inner-chunk boundary:
    # its peak memory / output size is reported beside the time
    r0, r1 = (n * 3000) // 8192, (n * 3000) // 8192 + n // 4
    w.append(Workload("sharded.region", s, "read_region", {"region": ((r0, r1), (r0, r1))}))
    w.append(Workload("mem.write", L["mem"], "write_full"))
    w.append(Workload("mem.read", L["mem"], "read_full"))
    for name in ("memraw", "memblosc"):
        w.append(Workload(f"{name}.write", L[name], "write_full"))
        w.append(Workload(f"{name}.read", L[name], "read_full"))
    w.append(Workload("v2blosc.write", L["v2blosc"], "write_full"))
    w.append(Workload("v2blosc.read", L["v2blosc"], "read_full"))
    return w


def select(workloads: list[Workload], patterns: str | None) -> list[Workload]:
    """Filter by comma-separated names or globs (``zstd.*``, ``*.read``, ``sharded.points``)."""
    if not patterns:
        return workloads
    pats = [p.strip() for p in patterns.split(",") if p.strip()]
    unknown = [p for p in pats if not any(fnmatch.fnmatchcase(x.name, p) for x in workloads)]
    if unknown:
        raise SystemExit(f"unknown workload(s) {unknown}; known: "
                         f"{', '.join(x.name for x in workloads)}")
    return [x for x in workloads if any(fnmatch.fnmatchcase(x.name, p) for p in pats)]


# ----------------------------------------------------------------------------- data

def make_data(shape: tuple[int, int]) -> np.ndarray:
    """A smooth field plus noise, quantised to 1/64 so it compresses moderately
    (zstd level 1 gets roughly 2x).  Deterministic: same bytes on every machine."""
    n0, n1 = shape
    y = np.linspace(0, 6 * np.pi, n0, dtype=np.float32)[:, None]
    x = np.linspace(0, 4 * np.pi, n1, dtype=np.float32)[None, :]
    out = np.sin(y) * np.cos(x)
    out *= 100
    out += np.sin(0.37 * y + 0.5 * x)
    rng = np.random.default_rng(12345)
    out += rng.standard_normal(shape, dtype=np.float32)
    np.multiply(out, 64, out=out)
    np.round(out, out=out)
    out /= 64
    return out.astype(DTYPE, copy=False)


def points(w: Workload) -> np.ndarray:
    """(n_ops, 2) int64 row/column positions for ``read_points``."""
    rng = np.random.default_rng(w.params["seed"])
    n0, n1 = w.layout.shape
    return np.stack([rng.integers(0, n0, w.n_ops), rng.integers(0, n1, w.n_ops)], axis=1)


def block_origins(w: Workload) -> np.ndarray:
    """(n_ops, 2) origins of the unaligned blocks for ``write_blocks`` (never on a chunk
    boundary, so every block is a partial-chunk read-modify-write, most span 2-4 chunks)."""
    rng = np.random.default_rng(w.params["seed"])
    b = w.params["block"]
    c0, c1 = w.layout.chunks
    n0, n1 = w.layout.shape
    o = np.stack([rng.integers(0, n0 - b, w.n_ops), rng.integers(0, n1 - b, w.n_ops)], axis=1)
    o[:, 0] += (o[:, 0] % c0 == 0)
    o[:, 1] += (o[:, 1] % c1 == 0)
    return o


def block_values(data: np.ndarray, r: int, c: int, b: int) -> np.ndarray:
    """The values written at block (r, c): different from what is stored there."""
    return -data[r:r + b, c:c + b] + np.float32(0.5)


def block_writes(data: np.ndarray, w: Workload) -> list[tuple[int, int, np.ndarray]]:
    """``write_blocks``' argument: (row, column, values) of every block, values contiguous."""
    b = w.params["block"]
    return [(int(r), int(c), np.ascontiguousarray(block_values(data, r, c, b)))
            for r, c in block_origins(w)]


def expected_after_blocks(data: np.ndarray, w: Workload) -> np.ndarray:
    out = data.copy()
    b = w.params["block"]
    for r, c in block_origins(w):
        out[r:r + b, c:c + b] = block_values(data, r, c, b)
    return out
