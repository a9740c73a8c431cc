"""``exzarr demo`` (what ``make demo`` runs): write a zstd-compressed 2-d float32 array to
the local filesystem, write and read slices, check them against NumPy, show ``info``."""

from __future__ import annotations

import os
import shutil
import tempfile
import time

from ._common import command
from .. import api as ez


def _args(p):
    p.add_argument("--path", default=None, metavar="DIR",
                   help="directory to write into (default: a temporary directory, removed "
                        "afterwards unless --keep)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--size", type=int, default=2000, metavar="N",
                   help="the array is N x N float32 (default 2000)")


class _Clock:
    def __init__(self):
        self.t = time.perf_counter()

    def lap(self) -> str:
        now = time.perf_counter()
        ms, self.t = (now - self.t) * 1000, now
        return f"{ms:8.1f} ms"


@command("demo", "write a sample array to a temporary directory, read slices back, check "
         "them and print its info", _args)
def demo(args) -> int:
    import numpy as np


    temp = args.path is None
    root = tempfile.mkdtemp(prefix="exzarr-demo-") if temp else os.path.abspath(args.path)
    os.makedirs(root, exist_ok=True)
    url = os.path.join(root, "demo.zarr")
    n = max(8, args.size)
    chunk = max(1, n // 8)
    try:
        clock = _Clock()
        rng = np.random.default_rng(42)
        data = rng.standard_normal((n, n), dtype=np.float32)
        expected = np.zeros((n, n), dtype=np.float32)
        z = ez.create(url, shape=(n, n), chunks=(chunk, chunk), dtype="float32", fill_value=0,
                      compressor="zstd", zarr_format=3, overwrite=True,
                      attributes={"description": "exzarr demo"})
        print(f"{clock.lap()}  created {url}: shape {z.shape}, chunks {z.chunks}, zstd")
        half = n // 2
        z[:half, :] = data[:half]
        expected[:half] = data[:half]
        print(f"{clock.lap()}  wrote rows 0:{half} ({data[:half].nbytes / 2**20:.1f} MiB)")
        r0, r1, c0, c1 = n // 3, n // 3 + n // 5, n // 7, n // 7 + n // 2
        z[r0 + half // 2:r1 + half // 2, c0:c1] = data[r0:r1, c0:c1] * 2
        expected[r0 + half // 2:r1 + half // 2, c0:c1] = data[r0:r1, c0:c1] * 2
        print(f"{clock.lap()}  wrote block [{r0 + half // 2}:{r1 + half // 2}, {c0}:{c1}] "
              f"(partial chunks: read-modify-write)")
        z[-1, ::3] = 7.5
        expected[-1, ::3] = 7.5
        print(f"{clock.lap()}  wrote a strided row [-1, ::3]")

        r = ez.open_array(url, mode="r")
        checks: dict[str, tuple[slice | int, slice | int]] = {
            "[a:b, c:d]": (slice(r0, r1), slice(c0, c1)),
            "[::7, 5]": (slice(None, None, 7), 5),
            "[-10:, ::-3]": (slice(-10, None), slice(None, None, -3)),
            "whole array": (slice(None), slice(None)),
        }
        for label, key in checks.items():
            got = r[key].read()
            if not np.array_equal(got, expected[key]):
                raise AssertionError(f"read {label} differs from what was written")
            print(f"{clock.lap()}  read {label:<12} {str(got.shape):<14} matches NumPy")
        oi = r.oindex[[1, n // 2, n - 1], [0, n - 1]].read()
        if not np.array_equal(oi, expected[np.ix_([1, n // 2, n - 1], [0, n - 1])]):
            raise AssertionError("orthogonal read differs from what was written")
        print(f"{clock.lap()}  read oindex[[1, {n // 2}, {n - 1}], [0, {n - 1}]] matches NumPy")
        print()
        print(r.info)
        print()
        print("demo OK" + (f" (data kept in {root})" if not temp or args.keep else ""))
        return 0
    finally:
        if temp and not args.keep:
            shutil.rmtree(root, ignore_errors=True)
