"""Benchmark runner: exzarr vs zarr-python, tensorstore and zarr-python + zarrs.

    python benchmarks/run.py                      # full run (minutes), writes results/latest.md
    python benchmarks/run.py --quick              # 2048x2048 variant of every workload
    python benchmarks/run.py --engines exzarr,tensorstore --workloads 'zstd.*' --repeat 5

Every (engine, workload) runs in its own fresh subprocess (``worker.py``) so peak RSS is
that operation's alone; every read result and every written array is checked against the
data, and a mismatch fails the run (exit status 1) and shows as WRONG DATA in the table.
No timing is asserted anywhere: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


import report  # noqa: E402
from rss import machine  # noqa: E402
import workloads as W  # noqa: E402
from engines import ENGINES, LABELS  # noqa: E402
from fsplace import spread_children  # noqa: E402
from numba_cache import use_numba_cache  # noqa: E402
from pairing import recheck_rows  # noqa: E402


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="2048x2048 variant of every workload (smoke run)")
    ap.add_argument("--engines", default=",".join(ENGINES),
                    help=f"comma-separated subset of {','.join(ENGINES)} (default: all)")
    ap.add_argument("--workloads", default=None,
                    help="comma-separated names or globs, e.g. 'zstd.*,sharded.points' "
                         "(default: all; --list shows them)")
    ap.add_argument("--list", action="store_true", help="list the workloads and exit")
    ap.add_argument("--rounds", type=int, default=None,
                    help="rounds: each round is a sweep over every workload, running every "
                         "engine once per workload in a fresh worker, in rotated order, so "
                         "the engines share the machine's state (page cache, memory, slow "
                         "spells) alike; the best time over all rounds is reported "
                         "(default 5, --quick 1)")
    ap.add_argument("--repeat", type=int, default=None,
                    help="timed runs per worker (default 3, --quick 1): the best of rounds x "
                         "repeat runs is reported")
    ap.add_argument("--min-time", dest="min_time", type=float, default=None,
                    help="after its --repeat timed runs, a worker keeps timing while its "
                         "timed runs took less than this many seconds in all, up to "
                         "--max-repeat runs (default 0.5, 0 with --quick): short operations "
                         "get more tries, every engine by the same rule")
    ap.add_argument("--max-repeat", dest="max_repeat", type=int, default=None,
                    help="most timed runs per worker (default 4 x --repeat)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="worker threads for every engine (default: cores)")
    ap.add_argument("--dir", default=None,
                    help="parent directory for the temporary stores (local disk; "
                         "default: the system temp dir); removed afterwards")
    ap.add_argument("--keep", action="store_true", help="keep the stores after the run")
    ap.add_argument("--out", default=None,
                    help="Markdown output (default: results/latest.md for a complete full "
                         "run, otherwise results/last-run.md)")
    ap.add_argument("--json", default=None, help="also write the raw results as JSON here")
    ap.add_argument("--no-codec-ceiling", dest="codec_ceiling", action="store_false",
                    help="skip measuring the codecs alone (numcodecs in a thread pool)")
    ap.add_argument("--settle", type=float, default=0.0,
                    help="before each worker of a local-disk write, flush and wait this many "
                         "seconds (default 0): on ext4 without a journal a new file's inode "
                         "is found by skipping every inode freed in the last minute, so a "
                         "write pays for the deletions just before it (the previous "
                         "worker's); 65 lets every engine start from a settled disk")
    ap.add_argument("--timeout", type=float, default=900,
                    help="seconds before one measurement subprocess is killed")
    ap.add_argument("--recheck", type=int, default=12,
                    help="after the rounds, run each row behind again with its best anchor, "
                         "taking turns in one process (benchmarks/paired.py), this many runs "
                         "each (default 12; 0: none); reported beside the headline, whose "
                         "verdict it does not change")
    ap.add_argument("--recheck-within", dest="recheck_within", type=float, default=0.02,
                    help="re-check the rows this close to behind too: those whose ratio is "
                         "above 1 minus this (default 0.02: above 0.98; 0: only rows behind)")
    a = ap.parse_args(argv)
    a.engines = [e.strip() for e in a.engines.split(",") if e.strip()]
    bad = [e for e in a.engines if e not in ENGINES]
    if bad:
        ap.error(f"unknown engine(s) {bad}; known: {','.join(ENGINES)}")
    if a.rounds is None:
        a.rounds = 1 if a.quick else 5
    if a.repeat is None:
        a.repeat = 1 if a.quick else 3
    if a.min_time is None:
        a.min_time = 0.0 if a.quick else 0.5
    if a.max_repeat is None:
        a.max_repeat = 4 * a.repeat
    return a


def sweeps(workloads: list[tuple[str, list[str]]],
           rounds: int) -> Iterator[tuple[int, str, str]]:
    """``(round, workload, engine)`` in the order the workers run: each round a sweep over
    ``workloads`` (``(name, its engines)``, in order), every engine once per workload, the
    engines' order rotated by one from round to round.  One engine's workers of a workload
    are a whole sweep apart, so a slow spell of the machine lasting seconds falls on at
    most one of them."""
    for k in range(rounds):
        for name, engines in workloads:
            at = k % len(engines) if engines else 0
            for e in engines[at:] + engines[:at]:
                yield k, name, e


def merge_rounds(rounds: list[dict]) -> dict:
    """One result from the rounds of one engine on one workload: every timed run, the
    best run of each round (``round_best``), the peak memory of the first round; the first
    failure if any round failed."""
    bad = next((r for r in rounds if r["status"] != "ok"), None)
    if bad is not None:
        return bad
    first = rounds[0]
    return {**first, "times": [t for r in rounds for t in r["times"]],
            "round_best": [min(r["times"]) for r in rounds],
            "wall_s": sum(r.get("wall_s", 0.0) for r in rounds), "rounds": len(rounds)}


def recheck(wls, results, a, parent: str, log) -> list[dict]:
    """Each headline row behind (or within ``a.recheck_within`` of it), run again with its
    best anchor taking turns in one process (``paired.py``, ``a.recheck`` runs each): what
    :func:`report.render_rechecks` shows."""
    if a.recheck <= 0 or "exzarr" not in a.engines:
        return []
    return recheck_rows(
        report.behind(wls, results, a.engines, a.recheck_within), HERE / "paired.py",
        lambda name, anchor: [name, "--engines", f"exzarr,{anchor}", "--runs", str(a.recheck),
                              "--threads", str(a.threads), *(["--quick"] if a.quick else [])],
        LABELS, parent, a.timeout, log, store_dir=True)


def run_worker(job: dict, timeout: float) -> dict:
    cmd = [sys.executable, str(HERE / "worker.py"), json.dumps(job)]
    env = dict(os.environ)
    use_numba_cache(env)  # the Makefile's folder, keyed by the kernels' sources
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {**_ids(job), "status": "error", "error": f"timed out after {timeout:.0f} s"}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("RESULT "):
            res = json.loads(line[7:])
            if res["status"] not in ("ok", "unavailable") and p.stderr.strip():
                res["stderr"] = p.stderr[-2000:]
            return res
    return {**_ids(job), "status": "error",
            "error": f"worker exited {p.returncode} without a result: {p.stderr[-1500:]}"}


def _ids(job):
    return {"engine": job["engine"], "workload": job.get("workload"), "phase": job["phase"]}


def du(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def fs_type(path: str) -> str:
    """Filesystem type of ``path`` (longest mount-point prefix in /proc/mounts)."""
    best, kind = "", "?"
    try:
        for line in open("/proc/mounts"):
            parts = line.split()
            mnt, typ = parts[1], parts[2]
            if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) > len(best):
                best, kind = mnt, typ
    except OSError:
        pass
    return kind


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main(argv=None) -> int:
    a = parse_args(argv)
    all_w = W.make_workloads(a.quick)
    if a.list:
        for w in all_w:
            print(f"{w.name:16s} {w.describe()}  [{w.layout.describe()}]")
        return 0
    wls = W.select(all_w, a.workloads)
    complete = not a.quick and a.workloads is None and a.engines == list(ENGINES)
    out = Path(a.out) if a.out else HERE / "results" / ("latest.md" if complete else "last-run.md")
    t_start = time.perf_counter()
    started = dt.datetime.now(dt.timezone.utc)
    parent = a.dir or tempfile.gettempdir()
    Path(parent).mkdir(parents=True, exist_ok=True)
    root = tempfile.mkdtemp(prefix="exzarr-bench-", dir=parent)
    placement = spread_children(root)  # each engine's folder in groups of its own
    load_start = loadavg()
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    results, versions, unavailable, sizes, ceilings = [], {}, {}, {}, {}
    try:
        shape = wls[0].layout.shape
        log(f"generating {W.fmt_shape(shape)} float32 data ...")
        data_path = os.path.join(root, "data.npy")
        base = {"quick": a.quick, "threads": a.threads, "repeat": a.repeat,
                "min_time": a.min_time, "max_repeat": a.max_repeat, "data": data_path}
        r = run_worker({**base, "engine": "-", "phase": "data", "shape": list(shape)}, a.timeout)
        if r["status"] != "ok":
            raise SystemExit(f"could not generate the data: {r.get('error')}")

        if a.codec_ceiling:
            from worker import CODEC_CEILINGS
            for name in CODEC_CEILINGS:
                r = run_worker({**base, "engine": "-", "phase": "codec", "codec": name,
                                "repeat": max(3, a.repeat)},
                               a.timeout)
                ceilings[name] = r
                log("  " + report.ceiling_line(name, r))

        for e in a.engines:
            r = run_worker({**base, "engine": e, "phase": "probe"}, a.timeout)
            if r["status"] == "ok":
                versions[e] = r["versions"]
                os.makedirs(os.path.join(root, e), exist_ok=True)
            else:
                unavailable[e] = r.get("error", r["status"])
                log(f"{LABELS[e]}: unavailable ({unavailable[e]})")
        engines = [e for e in a.engines if e in versions]

        # every workload's jobs, and the stores its reads need that no selected full write
        # before it makes (written once here, by that engine)
        prepared: set[tuple[str, str]] = set()
        jobs_of: dict[str, dict[str, dict]] = {}
        for w in wls:
            lay = w.layout
            jobs: dict[str, dict] = {}
            for e in engines:
                loc = (f"bench-{lay.name}" if lay.store == "memory"
                       else os.path.join(root, e, f"{lay.name}.zarr"))
                job = {**base, "engine": e, "workload": w.name, "loc": loc,
                       "scratch": (f"warmup-{lay.name}" if lay.store == "memory"
                                   else os.path.join(root, e, f"warmup-{lay.name}.zarr"))}
                needs_store = lay.store == "local" and w.op != "write_full"
                if needs_store and (e, lay.name) not in prepared:
                    writer = next((x for x in wls if x.layout == lay and x.op == "write_full"),
                                  None) or next(x for x in all_w if x.layout == lay
                                                and x.op == "write_full")
                    r = run_worker({**job, "workload": writer.name, "phase": "prepare"},
                                   a.timeout)
                    if r["status"] != "ok":
                        res = {**r, "workload": w.name, "phase": "measure"}
                        results.append(res)
                        log(f"  {w.name:15s} {LABELS[e]:18s} {res['status'].upper()}: "
                            f"could not prepare the store: {res.get('error')}")
                        continue
                    prepared.add((e, lay.name))
                    sizes[(e, lay.name)] = du(loc)
                if lay.store == "local" and w.op == "write_full":
                    prepared.add((e, lay.name))  # its first round writes the store
                jobs[e] = job
            jobs_of[w.name] = jobs
        # a round is a sweep over every workload, each running every engine once in a fresh
        # worker (in rotated order): one engine's workers of a row are a sweep apart, not
        # side by side, so a slow spell of the machine lasting seconds meets at most one of
        # them (it met all five of a row's workers of one engine when they ran in a row)
        rounds: dict[tuple[str, str], list[dict]] = {
            (w.name, e): [] for w in wls for e in jobs_of[w.name]}
        by_name = {w.name: w for w in wls}
        for k, name, e in sweeps([(w.name, list(jobs_of[w.name])) for w in wls], a.rounds):
            w = by_name[name]
            lay, done = w.layout, rounds[(name, e)]
            if done and done[-1]["status"] != "ok":
                continue  # failed once: reported as is, not retried
            if a.settle > 0 and lay.store == "local" and w.op == "write_full":
                os.sync()
                time.sleep(a.settle)
            t0 = time.perf_counter()
            r = run_worker({**jobs_of[name][e], "phase": "measure"}, a.timeout)
            r["wall_s"] = time.perf_counter() - t0
            done.append(r)
            log(f"  [{k + 1}/{a.rounds}] " + report.progress_line(w, e, r))
        for w in wls:
            for e, job in jobs_of[w.name].items():
                r = merge_rounds(rounds[(w.name, e)])
                results.append(r)
                if r["status"] == "ok" and w.op == "write_full" and w.layout.store == "local":
                    sizes[(e, w.layout.name)] = du(job["loc"])
                log("  " + report.progress_line(w, e, r))
    finally:
        if a.keep:
            log(f"stores kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    rechecks = recheck(wls, results, a, parent, log)
    meta = {
        "command": " ".join(["python", "benchmarks/run.py", *map(shlex.quote, sys.argv[1:])])
        if argv is None else "python benchmarks/run.py " + " ".join(map(shlex.quote, argv)),
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(), "threads": a.threads, "repeat": a.repeat, "rounds": a.rounds,
        "min_time": a.min_time, "max_repeat": a.max_repeat, "quick": a.quick,
        "recheck_within": a.recheck_within,
        "versions": versions, "unavailable": unavailable, "engines": a.engines,
        "elapsed_s": time.perf_counter() - t_start,
        "store_dir": f"{parent} ({fs_type(os.path.realpath(parent))}; {placement})",
        "load": (load_start, loadavg()),
    }
    md = report.render(wls, results, meta, sizes, ceilings, rechecks)
    print(md)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(md)
    log(f"wrote {out} ({meta['elapsed_s']:.0f} s)")
    if a.json:
        Path(a.json).write_text(json.dumps({"meta": meta, "results": results,
                                            "codec_ceilings": ceilings,
                                            "rechecks": rechecks}, indent=1))
    failed = [r for r in [*results, *ceilings.values()] if r["status"] in ("wrong", "error")]
    for r in failed:
        log(f"FAILED {r.get('workload') or r['phase']} on {LABELS.get(r['engine'], r['engine'])}"
            f": {r['status']}: {r.get('error')}")
        if r.get("trace"):
            log(r["trace"])
    unchecked = [rc for rc in rechecks if "error" in rc]  # (wrong data included)
    for rc in unchecked:
        log(f"FAILED re-check of {rc['workload']}: {rc['error']} ({rc['command']})")
    return 1 if failed or unchecked else 0


if __name__ == "__main__":
    sys.exit(main())
