"""How much of a sharded region read is Python planning: the read against its compiled floor.

A region read of a sharded array on local files (the suite's ``sharded.region``) plans in
Python on the calling thread (the selection, then each shard's index read and coalesced
ranges) and decodes in compiled code on every thread
(:mod:`exzarr.array.shard_files`).  This script times, taking turns in one process:

- ``read``: the whole region read, as the suite times it;
- ``kernel``: only the compiled part, fed the jobs that one read made (captured once,
  their counters reset before each run) into the same output array: the floor the
  planning's Python sits on top of.

The difference is what Python costs the read (measured on 2026-12-06: ~1 ms of ~13).
A last pass of reads, timed in phases (the compiled calls' feeder wrapped, as a
measurement only), says where the serial part goes: ``before``, from the read's start to
the feeder (the selection parsed and planned: no thread decodes yet); ``first jobs``, from
there to the first shard's jobs made (its index read and checked, its ranges planned;
the other threads wait for them); ``after``, from the feeder's return to the read's end.
The array and the region are the suite's ``sharded.region`` workload
(:mod:`workloads`; ``--quick``: its 2048x2048 variant), written and read through the
suite's exzarr adapter (:mod:`engines.exzarr`), once into ``--dir``.  A diagnostic, not a
test: nothing asserts on timings.

    python benchmarks/planning_floor.py
    python benchmarks/planning_floor.py --runs 100 --threads 1
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any, Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from numba_cache import use_numba_cache  # noqa: E402

use_numba_cache()  # before Numba is imported: the Makefile's folder, keyed by the kernels

import workloads as W  # noqa: E402
from engines import load  # noqa: E402
from exzarr import executor  # noqa: E402

_run_fed = executor.run_fed  # (the feeder as exzarr has it, whatever wraps it here)


@contextlib.contextmanager
def _feeding(wrapper: Callable[..., None]) -> Iterator[None]:
    """:func:`exzarr.executor.run_fed` replaced by ``wrapper`` (which calls the real one)
    while inside."""
    executor.run_fed = wrapper
    try:
        yield
    finally:
        executor.run_fed = _run_fed


def _captured_jobs(read: Callable[[], np.ndarray]) -> tuple[list[Any], np.ndarray]:
    """The items one read hands to :func:`exzarr.executor.run_fed`, and its output."""
    items: list[Any] = []

    def capture(fn: Callable[[Any], None], made: Any, **kw: Any) -> None:
        got = list(made)
        items.extend(got)
        _run_fed(fn, got, **kw)

    with _feeding(capture):
        out = read()
    if not items:
        raise SystemExit("the read made no compiled jobs (kernels off, or not a local "
                         "store?): nothing to compare")
    return items, out


def _phases(read: Callable[[], np.ndarray], runs: int) -> dict[str, list[float]]:
    """``runs`` reads, each split at :func:`exzarr.executor.run_fed`'s entry, its first
    item and its return (module docstring)."""
    marks: dict[str, float] = {}

    def timed(fn: Callable[[Any], None], made: Any, **kw: Any) -> None:
        marks["fed"] = time.perf_counter()

        def first_marked() -> Any:
            for k, item in enumerate(made):
                if not k:
                    marks["first"] = time.perf_counter()
                yield item

        try:
            _run_fed(fn, first_marked(), **kw)
        finally:
            marks["back"] = time.perf_counter()

    out: dict[str, list[float]] = {"before": [], "first jobs": [], "after": []}
    with _feeding(timed):
        for _ in range(runs):
            marks.clear()
            t = time.perf_counter()
            read()
            end = time.perf_counter()
            out["before"].append(marks["fed"] - t)
            out["first jobs"].append(marks.get("first", marks["back"]) - marks["fed"])
            out["after"].append(end - marks["back"])
    return out


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=60, help="timed runs of each (default 60)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--quick", action="store_true", help="the 2048x2048 variant")
    ap.add_argument("--dir", default=None,
                    help="folder for the array (kept there; default: a temporary folder)")
    a = ap.parse_args(argv)
    w = next(x for x in W.make_workloads(a.quick) if x.name == "sharded.region")
    lay, region = w.layout, w.params["region"]
    eng = load("exzarr", a.threads)  # (sets exzarr's threads, as in the suite's workers)
    if a.dir:
        os.makedirs(a.dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        loc = os.path.join(a.dir or tmp, f"{lay.name}-{W.fmt_shape(lay.shape)}.zarr")
        if not os.path.exists(os.path.join(loc, "zarr.json")):
            eng.write_full(eng.create(lay, loc), W.make_data(lay.shape))
        h = eng.open(lay, loc)

        def read() -> np.ndarray:
            return np.asarray(eng.read_region(h, region))

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
    print(f"{w.name}: {w.describe()} [{lay.describe()}]; {a.threads} threads, {a.runs} runs "
          f"each, taking turns")
    for name, v in times.items():
        print(f"  {name:7s} best {min(v) * 1e3:8.2f} ms   median {statistics.median(v) * 1e3:8.2f} ms")
    gap = statistics.median(times["read"]) - statistics.median(times["kernel"])
    print(f"  planning in Python (median read - median kernel): {gap * 1e3:.2f} ms")
    print("  serial parts of a read (medians): " + ", ".join(
        f"{name} {statistics.median(v) * 1e3:.2f} ms" for name, v in phases.items()))
    return {**times, **phases}


if __name__ == "__main__":
    main()
