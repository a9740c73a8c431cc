"""How much of a sharded region read is Python planning: the read against its compiled floor.

A region read of a sharded array on local files (the suite's ``sharded.region``) plans in
Python on the calling thread (the selection, then each shard's index read and coalesced
ranges) and decodes in compiled code on every thread
(:mod:`exzarr.array.shard_files`).  This script times, taking turns in one process:

- ``read``: the whole read, ``z[r0:r1, r0:r1].read()``, as the suite times it;
- ``kernel``: only the compiled part, fed the jobs that one read made (captured once,
  their counters reset before each run) into the same output array: the floor the
  planning's Python sits on top of.

The difference is what Python costs the read (measured on 2026-12-06: ~1 ms of ~13).
A last pass of reads, timed in phases (the compiled calls' feeder wrapped, as a
measurement only), says where the serial part goes: ``before``, from the read's start to
the feeder (the selection parsed and planned: no thread decodes yet); ``first jobs``, from
there to the first shard's jobs made (its index read and checked, its ranges planned;
the other threads wait for them); ``after``, from the feeder's return to the read's end.
The array is the suite's sharded layout (8192x8192 float32, shards 4096x4096 of 256x256
zstd(level=1) chunks; ``--quick``: 2048x2048, shards 1024x1024 of 256x256), written
once into ``--dir``.  A diagnostic, not a test: nothing asserts on timings.

    python benchmarks/planning_floor.py
    python benchmarks/planning_floor.py --runs 100 --threads 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from typing import Any, Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from numba_cache import use_numba_cache  # noqa: E402

use_numba_cache()  # before Numba is imported: the Makefile's folder, keyed by the kernels

import exzarr as ez  # noqa: E402
from exzarr import executor  # noqa: E402
from workloads import ZSTD_LEVEL, make_data  # noqa: E402


def _array(folder: str, n: int) -> Any:
    path = os.path.join(folder, f"sharded-{n}.zarr")
    if not os.path.exists(os.path.join(path, "zarr.json")):
        z = ez.create(path, shape=(n, n), chunks=(256, 256), shards=(n // 2, n // 2),
                      dtype="float32", fill_value=0, overwrite=True,
                      compressor={"name": "zstd",
                                  "configuration": {"level": ZSTD_LEVEL, "checksum": False}})
        z[...] = make_data((n, n))
    return ez.open(path, mode="r")


def _captured_jobs(read: Callable[[], np.ndarray]) -> tuple[list[Any], np.ndarray]:
    """The items one read hands to :func:`exzarr.executor.run_fed`, and its output."""
    items: list[Any] = []
    run_fed = executor.run_fed

    def capture(fn: Callable[[Any], None], made: Any, **kw: Any) -> None:
        got = list(made)
        items.extend(got)
        run_fed(fn, got, **kw)

    executor.run_fed = capture  # type: ignore[assignment]
    try:
        out = read()
    finally:
        executor.run_fed = run_fed
    if not items:
        raise SystemExit("the read made no compiled jobs (kernels off, or not a local "
                         "store?): nothing to compare")
    return items, out


def _phases(read: Callable[[], np.ndarray], runs: int) -> dict[str, list[float]]:
    """``runs`` reads, each split at :func:`exzarr.executor.run_fed`'s entry, its first
    item and its return (module docstring)."""
    run_fed = executor.run_fed
    marks: dict[str, float] = {}

    def timed(fn: Callable[[Any], None], made: Any, **kw: Any) -> None:
        marks["fed"] = time.perf_counter()

        def first_marked() -> Any:
            for k, item in enumerate(made):
                if not k:
                    marks["first"] = time.perf_counter()
                yield item

        try:
            run_fed(fn, first_marked(), **kw)
        finally:
            marks["back"] = time.perf_counter()

    out: dict[str, list[float]] = {"before": [], "first jobs": [], "after": []}
    executor.run_fed = timed  # type: ignore[assignment]
    try:
        for _ in range(runs):
            marks.clear()
            t = time.perf_counter()
            read()
            end = time.perf_counter()
            out["before"].append(marks["fed"] - t)
            out["first jobs"].append(marks.get("first", marks["back"]) - marks["fed"])
            out["after"].append(end - marks["back"])
    finally:
        executor.run_fed = run_fed
    return out


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=60, help="timed runs of each (default 60)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--quick", action="store_true", help="the 2048x2048 variant")
    ap.add_argument("--dir", default=None,
                    help="folder for the array (kept there; default: a temporary folder)")
    a = ap.parse_args(argv)
    n = 2048 if a.quick else 8192
    r0, r1 = (n * 3000) // 8192, (n * 3000) // 8192 + n // 4  # the suite's region
    if a.dir:
        os.makedirs(a.dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, ez.config.set(threads=a.threads):
        z = _array(a.dir or tmp, n)

        def read() -> np.ndarray:
            return np.asarray(z[r0:r1, r0:r1].read())

        items, expected = _captured_jobs(read)
        jobs = list({id(j): j for j in items}.values())
        work = type(jobs[0]).work

        def kernel() -> None:
            for j in jobs:
                j.counter[:] = 0
                j.status[:] = 0
            executor.run_fed(work, list(items))

        # the jobs write into the first read's output: cleared, they must fill it again
        # (so the kernel runs are the whole decode, not a no-op)
        expected[...] = 0
        kernel()
        if not np.array_equal(expected, read()):
            raise SystemExit("the captured jobs did not reproduce the read")
        times: dict[str, list[float]] = {"read": [], "kernel": []}
        calls = {"read": read, "kernel": kernel}
        for r in range(a.runs):
            for name in (("read", "kernel") if r % 2 == 0 else ("kernel", "read")):
                t = time.perf_counter()
                calls[name]()
                times[name].append(time.perf_counter() - t)
        phases = _phases(read, a.runs)
    print(f"region [{r0}:{r1}, {r0}:{r1}] of a {n}x{n} float32 array in shards of "
          f"{n // 2}x{n // 2} (256x256 zstd chunks), {a.threads} threads, {a.runs} runs each, "
          f"taking turns")
    for name, v in times.items():
        print(f"  {name:7s} best {min(v) * 1e3:8.2f} ms   median {statistics.median(v) * 1e3:8.2f} ms")
    gap = statistics.median(times["read"]) - statistics.median(times["kernel"])
    print(f"  planning in Python (median read - median kernel): {gap * 1e3:.2f} ms")
    print("  serial parts of a read (medians): " + ", ".join(
        f"{name} {statistics.median(v) * 1e3:.2f} ms" for name, v in phases.items()))
    return {**times, **phases}


if __name__ == "__main__":
    main()
