"""Cloud benchmark: exzarr (its default back end, and on s3fs) vs zarr-python (s3fs and
obstore) and tensorstore on a local S3 server, with every request counted on the wire.

    python benchmarks/cloud.py                 # 4096x4096 float32, best of 3 (minutes)
    python benchmarks/cloud.py --quick         # 512x512, 100 points, best of 1 (~30 s)
    python benchmarks/cloud.py --engines exzarr,tensorstore --workloads 'sharded.*' --repeat 5
    python benchmarks/cloud.py --latency 20   # every request 20 ms later, like a network
    python benchmarks/cloud.py --latency 20 --jitter   # 20 ms on average, a long tail
    python benchmarks/cloud.py --recheck 0     # no re-check of the rows behind, taking turns

The benchmark starts moto's ``ThreadedMotoServer`` on 127.0.0.1 (a child process) and a
counting HTTP proxy in front of it (``cloud_server.py``); every engine talks to the proxy,
which counts requests (by kind) and bytes in each direction.  Each (engine, layout) runs
in a fresh subprocess (``cloud.py --worker``) that warms up on a tiny array on the same
server, then times every selected workload ``--repeat`` times; requests and bytes are
those of the fastest run.  Every read is compared with the data and every write read back:
a mismatch fails the run (exit status 1, WRONG DATA in the table).  No timing is asserted
anywhere: this is a measurement, not a test.  The servers are stopped on every exit path.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fnmatch
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from engines.cloud_s3 import CLOUD_ENGINES, CLOUD_LABELS  # noqa: E402
from numba_cache import use_numba_cache  # noqa: E402
from pairing import recheck_rows  # noqa: E402
from rss import cpu_times  # noqa: E402
from timing import runs as timed_runs  # noqa: E402

BUCKET = "exzarr-cloud-bench"
OPS = ("write", "open", "read", "region", "points")
ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
       "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
       "AWS_EC2_METADATA_DISABLED": "true", "NO_PROXY": "127.0.0.1,localhost",
       "no_proxy": "127.0.0.1,localhost"}


# ----------------------------------------------------------------------------- workloads

@dataclass(frozen=True)
class Case:
    """One layout on S3 and its workloads."""
    name: str                       # "chunked" | "sharded"
    n: int
    chunk: int
    shard: int | None
    region: tuple = ()
    npoints: int = 1000
    ops: tuple = field(default=OPS)
    #: opens in a row per timed run of ``open``, reported per open: one open is a single
    #: request of ~3 ms, too short to time alone on a machine shared with the server
    opens: int = 20

    @property
    def layout(self):
        from workloads import Layout
        return Layout(self.name, (self.n, self.n), (self.chunk, self.chunk), "zstd",
                      shards=(self.shard, self.shard) if self.shard else None, store="s3")

    def describe(self) -> str:
        grid = (f"shards {self.shard}x{self.shard} of {self.chunk}x{self.chunk} chunks "
                f"(index bytes+crc32c at the end)" if self.shard
                else f"chunks {self.chunk}x{self.chunk}")
        return f"v3, {self.n}x{self.n} float32, {grid}, zstd(level=1)"


def make_cases(n: int, chunk: int, npoints: int) -> list[Case]:
    # a region of about n/4 x n/4 (1000 x 1000 at n = 4096) at an offset on no chunk boundary
    size = max(1, min(n - 2, round(n * 1000 / 4096)))
    r0, c0 = min(n - size, chunk * 2 + 37), min(n - size, chunk * 3 + 101)
    region = ((r0, r0 + size), (c0, c0 + size))
    shard = min(n, chunk * 8)
    return [Case("chunked", n, chunk, None, region, npoints),
            Case("sharded", n, chunk, shard, region, npoints)]


def points(case: Case) -> np.ndarray:
    rng = np.random.default_rng(1)
    return np.stack([rng.integers(0, case.n, case.npoints),
                     rng.integers(0, case.n, case.npoints)], axis=1)


def select(cases: list[Case], patterns: str | None) -> list[Case]:
    """Keep the workloads ``<layout>.<op>`` matching comma-separated names or globs."""
    if not patterns:
        return cases
    pats = [p.strip() for p in patterns.split(",") if p.strip()]
    names = [f"{c.name}.{op}" for c in cases for op in c.ops]
    bad = [p for p in pats if not any(fnmatch.fnmatchcase(x, p) for x in names)]
    if bad:
        raise SystemExit(f"unknown workload(s) {bad}; known: {', '.join(names)}")
    out = []
    for c in cases:
        ops = tuple(op for op in c.ops if any(fnmatch.fnmatchcase(f"{c.name}.{op}", p)
                                                for p in pats))
        if ops:
            out.append(replace(c, ops=ops))
    return out


# ----------------------------------------------------------------------------- worker

def per_op(run: dict, per: int) -> dict:
    """The figures of a timed run of ``per`` operations in a row, per operation (counts
    that divide evenly stay whole numbers)."""
    if per == 1:
        return run

    def each(v):
        if isinstance(v, dict):
            return {k: each(x) for k, x in v.items()}
        if isinstance(v, int) and not isinstance(v, bool) and v % per == 0:
            return v // per
        return v / per if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    return {**each(run), "per": per}


class WrongData(AssertionError):
    pass


def check(name, got, expected) -> None:
    got = np.asarray(got)
    if got.shape != expected.shape or got.dtype != expected.dtype:
        raise WrongData(f"{name}: {got.dtype}{got.shape}, expected "
                        f"{expected.dtype}{expected.shape}")
    if not np.array_equal(got, expected):
        bad = np.argwhere(got != expected)
        raise WrongData(f"{name}: {len(bad)} of {expected.size} elements differ, first at "
                        f"{tuple(int(i) for i in bad[0])}")


def warm_up(eng, case: Case, name: str) -> None:
    """A write and reads of a tiny array of ``case``'s layout (at ``<name>/warmup-...``):
    imports, JIT, thread pools and connections, untimed."""
    from workloads import make_data
    lay = case.layout
    c = lay.chunks
    small = replace(lay, shape=(2 * c[0], 2 * c[1]),
                    shards=(2 * c[0], 2 * c[1]) if lay.shards else None)
    sdata = make_data(small.shape)
    h = eng.create(small, f"{name}/warmup-{case.name}.zarr")
    eng.write_full(h, sdata)
    h = eng.open(small, f"{name}/warmup-{case.name}.zarr")
    check("warm-up read", eng.read_full(h), sdata)
    eng.read_region(h, ((1, c[0] + 1), (2, c[1] + 2)))
    eng.read_points(h, np.array([[1, 2], [c[0] + 1, 3]]))


def read_calls(eng, case: Case, loc: str, data: np.ndarray) -> dict:
    """``op -> (fn, verify, per)`` of the reading workloads of the array at ``loc``
    (``per``: operations per call of ``fn``, figures reported per operation)."""
    lay = case.layout
    (r0, r1), (c0, c1) = case.region
    pts = points(case)
    h = eng.open(lay, loc)
    return {
        "open": (lambda: [eng.open(lay, loc) for _ in range(case.opens)], None, case.opens),
        "read": (lambda: eng.read_full(h), lambda out: check("full read", out, data), 1),
        "region": (lambda: eng.read_region(h, case.region),
                   lambda out: check("region read", out, data[r0:r1, c0:c1]), 1),
        "points": (lambda: eng.read_points(h, pts),
                   lambda out: check("point reads", out, data[pts[:, 0], pts[:, 1]]), 1)}


def timed_run(proxy: str, fn, verify=None, per: int = 1) -> dict:
    """One timed call of ``fn``: wall time, the client's CPU (what it takes from the cores
    it shares with the server and the proxy) and the proxy's counts, per operation when
    ``per`` > 1; ``verify(result)`` afterwards, untimed."""
    from cloud_server import read_stats, reset_stats
    reset_stats(proxy)
    c0 = cpu_times()[0]
    t0 = time.perf_counter()
    out = fn()
    t = time.perf_counter() - t0
    run = per_op({"time": t, "cpu": cpu_times()[0] - c0, **read_stats(proxy)}, per)
    if verify is not None:
        verify(out)
    return run


def worker(job: dict) -> dict:
    """Run every selected workload of one (engine, layout) in this process."""
    from engines.base import Unavailable
    from engines.cloud_s3 import load_cloud

    proxy = job["proxy"]
    case = Case(**{**job["case"], "region": tuple(map(tuple, job["case"]["region"])),
                   "ops": tuple(job["case"]["ops"])})
    res = {"engine": job["engine"], "case": case.name, "status": "ok", "ops": {}}
    try:
        eng = load_cloud(job["engine"], job["threads"], proxy, BUCKET)
        res["versions"] = eng.versions()
    except Unavailable as e:
        return {**res, "status": "unavailable", "error": str(e)}
    lay = case.layout
    data = np.load(job["data"], mmap_mode="r")
    data = np.ascontiguousarray(data)
    loc = f"{job['engine']}/{case.name}.zarr"
    warm_up(eng, case, job["engine"])

    def step(op, fn, verify=None, per=1):
        """``fn`` timed ``repeat`` times or more (:func:`timing.runs`)."""
        if op not in case.ops:
            return
        try:
            runs: list[dict] = []
            times: list[float] = []
            for _ in timed_runs(job, times):
                runs.append(timed_run(proxy, fn, verify, per))
                times.append(runs[-1]["time"] * per)
            res["ops"][op] = {"status": "ok", "runs": runs}
        except Unavailable as e:
            res["ops"][op] = {"status": "unavailable", "error": str(e)}
        except WrongData as e:
            res["ops"][op] = {"status": "wrong", "error": str(e)}
        except Exception as e:  # noqa: BLE001  (reported per workload; others still run)
            res["ops"][op] = {"status": "error", "error": f"{type(e).__name__}: {e}",
                              "trace": traceback.format_exc()[-3000:]}

    h = eng.create(lay, loc)
    if "write" in case.ops:
        step("write", lambda: eng.write_full(h, data))
        if res["ops"]["write"]["status"] == "ok":
            try:
                check("write read-back", eng.read_full(eng.open(lay, loc)), data)
            except Exception as e:  # noqa: BLE001
                res["ops"]["write"] = {"status": "wrong", "error": f"read-back: {e}"}
    else:
        eng.write_full(h, data)   # untimed: the reads need the array
    for op, (fn, verify, per) in read_calls(eng, case, loc, data).items():
        step(op, fn, verify, per)
    return res


@contextlib.contextmanager
def servers(latency_ms: float = 0.0, jitter: bool = False, proxy_process: bool = False):
    """moto on 127.0.0.1 (a child process), the counting proxy in front of it (in this
    process, or with ``proxy_process`` in a child process of its own) and the benchmark's
    bucket: ``(moto, proxy)``, both stopped on every exit path."""
    from cloud_server import CountingProxy, MotoProcess, ProxyProcess
    moto = MotoProcess()
    proxy = None
    try:
        moto.start()
        proxy = (ProxyProcess if proxy_process else CountingProxy)(
            moto.address, moto.pid, latency=latency_ms / 1000, jitter=jitter).start()
        import s3fs
        s3fs.S3FileSystem(key="testing", secret="testing",
                          client_kwargs={"endpoint_url": f"http://127.0.0.1:{moto.port}"}
                          ).mkdir(BUCKET)
        yield moto, proxy
    finally:
        if proxy is not None:
            proxy.stop()
        moto.stop()


# ----------------------------------------------------------------------------- parent

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="small array (512x512), 100 point reads, best of 1")
    ap.add_argument("--n", type=int, default=None, help="array side (default 4096; --quick 512)")
    ap.add_argument("--chunk", type=int, default=128, help="chunk side (default 128); shards "
                    "are 8x8 chunks")
    ap.add_argument("--points", type=int, default=None,
                    help="single-element reads (default 1000; --quick 100)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="rounds per layout: each round runs every engine once, in a fresh "
                         "worker, in rotated order, so the engines share the machine's and the "
                         "server's state alike; the fastest run over all rounds is reported "
                         "(default 5, --quick 1)")
    ap.add_argument("--repeat", type=int, default=None,
                    help="timed runs per workload and worker (default 3, --quick 1): the "
                         "fastest of rounds x repeat runs is reported")
    ap.add_argument("--min-time", dest="min_time", type=float, default=None,
                    help="after --repeat runs, a worker times an operation again while its "
                         "runs took under this many seconds in all (default 1, --quick 0): "
                         "short operations get as many tries at a quiet moment as long ones")
    ap.add_argument("--max-repeat", dest="max_repeat", type=int, default=None,
                    help="the most timed runs per workload and worker (default 4x --repeat)")
    ap.add_argument("--engines", default=",".join(CLOUD_ENGINES),
                    help=f"comma-separated subset of {','.join(CLOUD_ENGINES)}")
    ap.add_argument("--workloads", default=None,
                    help="names or globs of <layout>.<op>, layouts chunked|sharded, ops "
                         f"{'|'.join(OPS)} (e.g. 'sharded.*,*.points'; default: all)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="CPU threads for every engine (default: cores)")
    ap.add_argument("--out", default=None, help="Markdown output (default: results/cloud.md "
                    "for a full run, results/cloud-last-run.md otherwise)")
    ap.add_argument("--latency", type=float, default=0.0,
                    help="milliseconds every request waits in the proxy before it goes on to "
                         "the server, like a network's round trip (default 0: loopback)")
    ap.add_argument("--jitter", action="store_true",
                    help="with --latency: each request's wait drawn from an exponential "
                         "distribution of that mean (capped at 10x), a long tail as on S3")
    ap.add_argument("--json", default=None, help="also write the raw results as JSON here")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per worker")
    ap.add_argument("--recheck", type=int, default=12,
                    help="after the rounds, run each row behind again with its best other "
                         "engine, taking turns in one process, this many runs each "
                         "(cloud_paired.py; default 12, 0: none): shown beside the verdict")
    ap.add_argument("--recheck-within", dest="recheck_within", type=float, default=0.02,
                    help="re-check the rows this close to behind too: those whose ratio is "
                         "above 1 minus this (default 0.02: above 0.98; 0: only rows behind)")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    a.engines = [e.strip() for e in a.engines.split(",") if e.strip()]
    bad = [e for e in a.engines if e not in CLOUD_ENGINES]
    if bad:
        ap.error(f"unknown engine(s) {bad}; known: {','.join(CLOUD_ENGINES)}")
    if a.jitter and not a.latency:
        ap.error("--jitter needs --latency (its mean)")
    a.n = a.n or (512 if a.quick else 4096)
    a.points = a.points or (100 if a.quick else 1000)
    a.rounds = a.rounds or (1 if a.quick else 5)
    a.repeat = a.repeat or (1 if a.quick else 3)
    if a.min_time is None:
        a.min_time = 0.0 if a.quick else 1.0
    if a.max_repeat is None:
        a.max_repeat = 4 * a.repeat
    return a


def merge_rounds(rounds: list[dict]) -> dict:
    """One result from the rounds of one engine on one layout: every timed run of every
    operation and its best run in each round (``round_best``); an engine or operation
    that failed in any round keeps its first failure."""
    bad = next((r for r in rounds if r.get("status") != "ok"), None)
    if bad is not None:
        return bad
    ops: dict = {}
    for r in rounds:
        for op, o in r.get("ops", {}).items():
            have = ops.get(op)
            best = [min(x["time"] for x in o["runs"])] if o.get("runs") else []
            if have is None:
                ops[op] = {**o, "runs": list(o.get("runs", [])), "round_best": best}
            elif have["status"] == "ok":
                ops[op] = o if o["status"] != "ok" else {
                    **have, "runs": have["runs"] + o["runs"],
                    "round_best": have["round_best"] + best}
    return {**rounds[0], "ops": ops, "rounds": len(rounds),
            "wall_s": sum(r.get("wall_s", 0.0) for r in rounds)}


def run_worker(job: dict, timeout: float) -> dict:
    env = {**os.environ, **ENV}
    use_numba_cache(env)  # the Makefile's folder, keyed by the kernels' sources
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(job)]
    ids = {"engine": job["engine"], "case": job["case"]["name"]}
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {**ids, "status": "error", "error": f"timed out after {timeout:.0f} s", "ops": {}}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {**ids, "status": "error", "ops": {},
            "error": f"worker exited {p.returncode} without a result: {p.stderr[-1500:]}"}


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main(argv=None) -> int:
    a = parse_args(argv)
    if a.worker:
        try:
            res = worker(json.loads(a.worker))
        except Exception as exc:  # noqa: BLE001
            res = {"status": "error", "error": f"{type(exc).__name__}: {exc}",
                   "trace": traceback.format_exc()[-3000:], "ops": {}}
        print("RESULT " + json.dumps(res), flush=True)
        return 0

    import report_cloud
    from rss import machine
    from workloads import make_data

    cases = select(make_cases(a.n, a.chunk, a.points), a.workloads)
    full = (not a.quick and a.n == 4096 and a.chunk == 128 and a.points == 1000
            and a.workloads is None and a.engines == list(CLOUD_ENGINES) and not a.latency)
    out = Path(a.out) if a.out else HERE / "results" / ("cloud.md" if full else "cloud-last-run.md")
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    started = dt.datetime.now(dt.timezone.utc)
    t_start = time.perf_counter()
    load0 = _loadavg()
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="exzarr-cloud-") as tmp, \
            servers(a.latency, a.jitter) as (moto, proxy):
        data_path = os.path.join(tmp, "data.npy")
        np.save(data_path, make_data((a.n, a.n)))
        log(f"moto on 127.0.0.1:{moto.port}, counting proxy on {proxy.url}")
        for case in cases:
            rounds: dict[str, list[dict]] = {e: [] for e in a.engines}
            for k in range(a.rounds):
                order = a.engines[k % len(a.engines):] + a.engines[:k % len(a.engines)]
                for e in order:
                    if rounds[e] and rounds[e][-1].get("status") != "ok":
                        continue  # unavailable or broken: said once
                    job = {"engine": e, "case": {**case.__dict__}, "proxy": proxy.url,
                           "data": data_path, "threads": a.threads, "repeat": a.repeat,
                           "min_time": a.min_time, "max_repeat": a.max_repeat}
                    t0 = time.perf_counter()
                    r = run_worker(job, a.timeout)
                    r["wall_s"] = time.perf_counter() - t0
                    rounds[e].append(r)
                    for line in report_cloud.progress_lines(case, e, r):
                        log(f"  [{k + 1}/{a.rounds}] " + line)
            results.extend(merge_rounds(rounds[e]) for e in a.engines)

    meta = {
        "command": " ".join(["python benchmarks/cloud.py", *map(
            shlex.quote, sys.argv[1:] if argv is None else argv)]),
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "elapsed_s": time.perf_counter() - t_start, "machine": machine(),
        "threads": a.threads, "repeat": a.repeat, "rounds": a.rounds, "engines": a.engines,
        "min_time": a.min_time, "max_repeat": a.max_repeat,
        "load": (load0, _loadavg()), "versions": _versions(), "latency_ms": a.latency,
        "jitter": a.jitter, "recheck_within": a.recheck_within,
    }
    rechecks = recheck(cases, results, a, log)
    meta["elapsed_s"] = time.perf_counter() - t_start
    md = report_cloud.render(cases, results, meta, rechecks)
    md = md.replace("## All measurements",
                    backends_section(cases, results) + "## All measurements", 1)
    print(md)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(md)
    log(f"wrote {out} ({meta['elapsed_s']:.0f} s)")
    if a.json:
        Path(a.json).write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    failed = [(r, op, o) for r in results for op, o in r.get("ops", {}).items()
              if o["status"] in ("wrong", "error")]
    failed += [(r, None, r) for r in results if r["status"] == "error"]
    for r, op, o in failed:
        log(f"FAILED {r.get('case')}.{op} on {r['engine']}: {o['status']}: {o.get('error')}")
        if o.get("trace"):
            log(o["trace"])
    unchecked = [rc for rc in rechecks if "error" in rc]  # (wrong data included)
    for rc in unchecked:
        log(f"FAILED re-check of {rc['workload']}: {rc['error']} ({rc['command']})")
    return 1 if failed or unchecked else 0


def recheck(cases, results, a, log) -> list[dict]:
    """Each headline row behind (or within ``a.recheck_within`` of it), run again with its
    best other engine taking turns in one process (``cloud_paired.py``, ``a.recheck`` runs each, against servers of its own):
    what :func:`report_cloud.render` shows beside the verdict."""
    import report_cloud

    if a.recheck <= 0 or "exzarr" not in a.engines:
        return []
    how = ([f"--latency={a.latency:g}", *(["--jitter"] if a.jitter else [])]
           if a.latency else [])
    with tempfile.TemporaryDirectory(prefix="exzarr-cloud-recheck-") as parent:
        return recheck_rows(
            report_cloud.behind(cases, results, a.engines, a.recheck_within),
            HERE / "cloud_paired.py",
            lambda name, anchor: [name, "--engines", f"exzarr,{anchor}", "--pairs",
                                  str(a.recheck), "--threads", str(a.threads), "--n", str(a.n),
                                  "--chunk", str(a.chunk), "--points", str(a.points), *how],
            CLOUD_LABELS, parent, a.timeout, log, pick=lambda found: found[0])


def backends_section(cases, results) -> str:
    """Markdown: exzarr's default back end (obstore for these options) vs exzarr on s3fs."""
    from report_cloud import best_run, primary
    by = {(r.get("case"), r["engine"]): r for r in results}

    def best(c, op, e):
        r = by.get((c.name, e))
        return best_run(r["ops"].get(op)) if r and r.get("status") == "ok" else None

    rows = []
    for c in cases:
        for op in c.ops:
            d, fs = best(c, op, "exzarr"), best(c, op, "exzarr-s3fs")
            if d is None or fs is None:
                continue
            rows.append(f"| {c.name}.{op} | {primary(c, op, d['time'])} | {d['requests']} | "
                        f"{primary(c, op, fs['time'])} | {fs['requests']} | "
                        f"{fs['time'] / d['time']:.2f} |")
    if not rows:
        return ""
    picked = sorted({r.get("versions", {}).get("store", "?") for r in results
                     if r["engine"] == "exzarr" and r.get("status") == "ok"})
    return ("## exzarr's back ends: the default vs s3fs\n\n"
            f"exzarr = the default back end (`\"auto\"`), which took these options (they name "
            f"the endpoint) to its {' / '.join(picked)}; exzarr (s3fs) = the same options with "
            "`\"backend\": \"fsspec\"` (its FsspecStore); speed-up = s3fs time / default "
            "time.\n\n"
            "| workload | exzarr | requests | exzarr (s3fs) | requests | speed-up |\n"
            "|---|---:|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n\n")


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version
    out = {}
    for p in ("exzarr", "zarr", "s3fs", "obstore", "tensorstore", "moto"):
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            pass
    return out


if __name__ == "__main__":
    sys.exit(main())
