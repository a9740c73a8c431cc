"""Paired comparison of engines on the cloud benchmark's workloads, in one process.

``cloud.py`` runs each engine in fresh workers, a few runs each, and reports the fastest
run of each.  Here moto's speed for the same requests drifts by up to 50 % from one minute
to the next (the server CPU of one read of 1024 chunks went from 3.4 to 2.3 s in a
minute, with nothing else running), so two engines that send the same requests swap
places from one run of ``cloud.py`` to the next.  This tool answers the narrower question
"is A faster than B on this workload against this server, here, now": the engines take
turns one operation at a time (A B, B A, A B, ...) inside one process, so neighbouring
runs see the same machine and the same server, and it reports the median over pairs of
the ratio A time / B time (with its quartiles and how often A was faster), next to each
engine's best and median time, client CPU and server CPU.  It is a diagnostic beside
``cloud.py``, as ``paired.py`` is beside ``run.py``: every read is checked against the
data and every first write read back.

    python benchmarks/cloud_paired.py chunked.read                    # exzarr vs tensorstore
    python benchmarks/cloud_paired.py 'chunked.*,sharded.read' --pairs 20
    python benchmarks/cloud_paired.py chunked.write --latency 20 --jitter
    python benchmarks/cloud_paired.py sharded.read --exzarr-options '{"concurrency": 8}'
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from numba_cache import use_numba_cache  # noqa: E402

use_numba_cache()  # before Numba is imported: the Makefile's folder, keyed by the kernels

from cloud import (BUCKET, ENV, check, make_cases, read_calls, select, servers,  # noqa: E402
                   timed_run, warm_up)
from engines.cloud_s3 import CLOUD_ENGINES, CLOUD_LABELS, load_cloud  # noqa: E402
from pairing import pair_summary  # noqa: E402


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workloads", help="names or globs of <layout>.<op> (as cloud.py "
                    "--workloads), e.g. 'chunked.read' or 'chunked.*,sharded.read'")
    ap.add_argument("--engines", default="exzarr,tensorstore",
                    help="two or more of " + ",".join(CLOUD_ENGINES) + "; ratios are of "
                         "the first to each other (default: exzarr,tensorstore)")
    ap.add_argument("--pairs", type=int, default=10,
                    help="timed runs per engine and workload, taking turns (default 10)")
    ap.add_argument("--n", type=int, default=4096, help="array side (default 4096)")
    ap.add_argument("--chunk", type=int, default=128, help="chunk side (default 128)")
    ap.add_argument("--points", type=int, default=1000, help="single-element reads")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--exzarr-options", dest="exzarr_options", type=json.loads, default=None,
                    help="JSON object merged into the exzarr engines' storage options, to "
                         "try a setting, e.g. '{\"concurrency\": 8}'")
    ap.add_argument("--latency", type=float, default=0.0,
                    help="milliseconds every request waits in the proxy (as cloud.py)")
    ap.add_argument("--jitter", action="store_true",
                    help="with --latency: exponential waits of that mean (as cloud.py)")
    ap.add_argument("--json", default=None,
                    help="also write the summaries (what main() returns) here as JSON")
    a = ap.parse_args(argv)
    a.engines = [e.strip() for e in a.engines.split(",") if e.strip()]
    if len(a.engines) < 2 or any(e not in CLOUD_ENGINES for e in a.engines):
        ap.error(f"--engines needs two or more of {','.join(CLOUD_ENGINES)}")
    if a.jitter and not a.latency:
        ap.error("--jitter needs --latency (its mean)")
    return a


def compare(runs: dict[str, list[dict]], names: list[str]) -> list[str]:
    """Lines: each engine's figures, then the first engine's paired ratio to each other."""
    lines = []
    for n in names:
        t = [r["time"] for r in runs[n]]
        cpu = statistics.median(r["cpu"] for r in runs[n])
        server = statistics.median(r.get("server_cpu") or 0.0 for r in runs[n])
        lines.append(f"  {CLOUD_LABELS[n]:<26} best {min(t) * 1e3:9.2f} ms   median "
                     f"{statistics.median(t) * 1e3:9.2f} ms   client CPU {cpu * 1e3:8.1f} ms"
                     f"   server CPU {server * 1e3:8.1f} ms   requests {runs[n][0]['requests']}")
    a = names[0]
    for b, p in summary(runs, names)["paired"].items():
        lines.append(f"  {a} time / {b} time: median {p['median']:.3f} "
                     f"(quartiles {p['q1']:.3f}-{p['q3']:.3f}); "
                     f"{a} faster in {p['wins']} of {p['pairs']} pairs")
    return lines


def summary(runs: dict[str, list[dict]], names: list[str]) -> dict:
    """What ``--json`` writes for one workload (as ``paired.py``'s): each engine's fastest
    and median time and median client and server CPU (per operation), and the first
    engine's paired ratios to each other."""
    def each(key: str, pick) -> dict:
        return {n: pick(r.get(key) or 0.0 for r in runs[n]) for n in names}

    first = [r["time"] for r in runs[names[0]]]
    return {"runs": len(first), "best": each("time", min),
            "median": each("time", statistics.median), "cpu_median": each("cpu", statistics.median),
            "server_cpu_median": each("server_cpu", statistics.median),
            "paired": {b: pair_summary(first, [r["time"] for r in runs[b]]) for b in names[1:]}}


def main(argv=None) -> list[dict]:
    """Runs the workloads taking turns and prints each one's comparison; returns their
    summaries (:func:`summary`, with ``workload`` and ``threads``)."""
    a = parse_args(argv)
    os.environ.update(ENV)
    from workloads import make_data
    cases = select(make_cases(a.n, a.chunk, a.points), a.workloads)
    data = make_data((a.n, a.n))
    done: list[dict] = []
    how = f"; latency {a.latency:g} ms{' (exponential)' if a.jitter else ''}" if a.latency else ""
    # the proxy in a process of its own: in this one its threads would take the
    # interpreter lock from a Python engine's threads, and its CPU would count as theirs
    with servers(a.latency, a.jitter, proxy_process=True) as (_moto, proxy):
        engines = {n: load_cloud(n, a.threads, proxy.url, BUCKET) for n in a.engines}
        for n, eng in engines.items():
            if a.exzarr_options and n.startswith("exzarr"):
                eng.opts = {**eng.opts, **a.exzarr_options}
        for case in cases:
            lay = case.layout
            locs = {n: f"paired/{n}/{case.name}.zarr" for n in a.engines}
            for n, eng in engines.items():
                warm_up(eng, case, f"paired/{n}")
                eng.write_full(eng.create(lay, locs[n]), data)
                check(f"{n} read-back", eng.read_full(eng.open(lay, locs[n])), data)
            calls = {n: read_calls(eng, case, locs[n], data) for n, eng in engines.items()}
            for op in case.ops:
                runs: dict[str, list[dict]] = {n: [] for n in a.engines}
                for k in range(a.pairs):
                    for n in (a.engines if k % 2 == 0 else a.engines[::-1]):
                        eng = engines[n]
                        if op == "write":
                            h = eng.create(lay, locs[n])
                            runs[n].append(timed_run(proxy.url, lambda: eng.write_full(h, data)))
                            if k == 0:
                                check(f"{n} write read-back",
                                      eng.read_full(eng.open(lay, locs[n])), data)
                        else:
                            runs[n].append(timed_run(proxy.url, *calls[n][op]))
                print(f"{case.name}.{op}: {case.describe()}; {a.pairs} runs per engine, "
                      f"{a.threads} threads, taking turns in one process{how}", flush=True)
                print("\n".join(compare(runs, a.engines)), flush=True)
                done.append({"workload": f"{case.name}.{op}", "threads": a.threads,
                             **summary(runs, a.engines)})
    if a.json:
        Path(a.json).write_text(json.dumps(done, indent=1))
    return done


if __name__ == "__main__":
    main()
