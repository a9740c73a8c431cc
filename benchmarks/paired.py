"""Paired comparison of engines on one workload, in one process.

``make bench`` runs each engine in fresh workers and reports the best run of each; on a
shared machine whose speed drifts from minute to minute, two engines within ~20% of each
other then swap places from one run of the suite to the next.  This tool answers the
narrower question "is A faster than B on this workload, here, now" with less noise: the
engines take turns inside one process (A B, B A, A B, ...), so neighbouring runs see the
same machine, and it reports the median over runs of the paired ratio A time / B time
(with its quartiles and how often A was faster), next to each engine's best and median.
It is a diagnostic beside the suite (the suite's fresh-worker numbers stay the reference):
the engines share one interpreter, and every written or read array is checked as in the
suite.

    python benchmarks/paired.py raw.write                     # exzarr vs zarrs
    python benchmarks/paired.py sharded.region --engines exzarr,tensorstore --runs 40

Block writes (``*.blocks``) start each run from a fresh copy of the engine's own stored
array (copied before the clock starts), as in the suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from numba_cache import use_numba_cache  # noqa: E402
from pairing import pair_summary  # noqa: E402

use_numba_cache()  # before Numba is imported: the Makefile's folder, keyed by the kernels

import workloads as W  # noqa: E402
from engines import load  # noqa: E402
from fsplace import spread_children  # noqa: E402
from rss import cpu_times  # noqa: E402
from worker import check, reader, warm_up  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workload", help="one workload name (benchmarks/run.py --list)")
    ap.add_argument("--engines", default="exzarr,zarrs",
                    help="two or more engines; ratios are of the first to each other "
                         "(default: exzarr,zarrs)")
    ap.add_argument("--runs", type=int, default=20, help="timed runs per engine (default 20)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--quick", action="store_true", help="the 2048x2048 variant")
    ap.add_argument("--dir", default=None, help="parent directory of the stores")
    ap.add_argument("--json", default=None,
                    help="also write the summary (what main() returns) here as JSON")
    args = ap.parse_args(argv)

    found = [w for w in W.make_workloads(args.quick) if w.name == args.workload]
    if not found:
        raise SystemExit(f"unknown workload {args.workload!r} (benchmarks/run.py --list)")
    w = found[0]
    names = args.engines.split(",")
    if len(names) < 2:
        raise SystemExit("--engines needs two or more engines")
    engines = {n: load(n, args.threads) for n in names}
    data = W.make_data(w.layout.shape)
    blocks = expected = None
    if w.op == "write_blocks":  # the blocks the suite writes (workloads.block_writes)
        blocks = W.block_writes(data, w)
        expected = W.expected_after_blocks(data, w)
    root = tempfile.mkdtemp(prefix="exzarr-paired-", dir=args.dir)
    placement = spread_children(root)  # each engine's array in groups of its own
    times: dict[str, list[float]] = {n: [] for n in names}
    cpus: dict[str, list[float]] = {n: [] for n in names}  # process CPU time of each run
    syss: dict[str, list[float]] = {n: [] for n in names}  # ... of it in the operating system
    try:
        calls: dict[str, Callable[[], object] | None] = {}
        for n, eng in engines.items():
            warm_up(eng, w.layout, w.op, os.path.join(root, f"warm-{n}"))
            loc = os.path.join(root, n)
            if w.op == "write_full":
                calls[n] = None
            elif w.op == "write_blocks":  # the engine's own stored array, copied per run
                eng.write_full(eng.create(w.layout, loc), data)
                calls[n] = None
            else:
                h = eng.create(w.layout, loc)
                eng.write_full(h, data)
                fn, expect = reader(eng, w, eng.open(w.layout, loc))
                check(f"{n} {w.op}", fn(), np.asarray(expect(data)))
                calls[n] = fn
        for r in range(args.runs):
            for n in (names if r % 2 == 0 else names[::-1]):
                eng, loc = engines[n], os.path.join(root, n)

                def timed(fn) -> None:
                    """Run ``fn`` on the clock: its wall and CPU time go to engine n's."""
                    c, t = cpu_times(), time.perf_counter()
                    fn()
                    times[n].append(time.perf_counter() - t)
                    _took(cpus[n], syss[n], c)

                if w.op == "write_full":
                    h = eng.create(w.layout, loc)
                    os.sync()  # earlier runs' dirty pages written back, untimed
                    timed(lambda: eng.write_full(h, data))
                    del h
                    if r == 0:
                        check(f"{n} read-back", eng.read_full(eng.open(w.layout, loc)), data)
                elif w.op == "write_blocks":
                    target = loc + "-blocks"
                    shutil.rmtree(target, ignore_errors=True)
                    shutil.copytree(loc, target)
                    h = eng.open(w.layout, target)
                    os.sync()
                    timed(lambda: eng.write_blocks(h, blocks))
                    del h
                    if r == 0:
                        assert expected is not None  # set above for write_blocks
                        check(f"{n} read-back after block writes",
                              eng.read_full(eng.open(w.layout, target)), expected)
                else:
                    timed(calls[n])
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print(f"{w.name}: {w.layout.describe()}; {args.runs} runs per engine, "
          f"{args.threads} threads, taking turns in one process; {placement}")
    for n in names:
        print(f"  {n:<12} best {min(times[n]) * 1e3:9.2f} ms   "
              f"median {statistics.median(times[n]) * 1e3:9.2f} ms   "
              f"CPU median {statistics.median(cpus[n]) * 1e3:9.2f} ms "
              f"(system {statistics.median(syss[n]) * 1e3:.2f} ms)")
    a = names[0]
    summary = {"workload": w.name, "runs": args.runs, "threads": args.threads,
               "best": {n: min(times[n]) for n in names},
               "median": {n: statistics.median(times[n]) for n in names},
               "cpu_median": {n: statistics.median(cpus[n]) for n in names},
               "paired": {b: pair_summary(times[a], times[b]) for b in names[1:]}}
    for b in names[1:]:
        p = summary["paired"][b]
        print(f"  {a} time / {b} time: median {p['median']:.3f} "
              f"(quartiles {p['q1']:.3f}-{p['q3']:.3f}); "
              f"{a} faster in {p['wins']} of {p['pairs']} pairs")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    return summary


def _took(cpus: list[float], syss: list[float], before: tuple[float, float]) -> None:
    now = cpu_times()
    cpus.append(now[0] - before[0])
    syss.append(now[1] - before[1])


if __name__ == "__main__":
    main()
