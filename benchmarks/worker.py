"""One measurement in a fresh process: ``python worker.py '<json job>'``.

The runner starts one of these per (engine, workload), so every peak-memory figure comes
from a process that did nothing else heavy before it.  Peak memory is the peak resident
set size (which, unlike tracemalloc, sees C allocations) during the first timed operation,
minus the resident size just before it.  On Linux the high-water mark (``VmHWM``) is reset
right before the operation (``/proc/self/clear_refs``) so setup work in the same process
(warm-up, filling an in-memory store) cannot hide or inflate the operation's own peak;
elsewhere ``getrusage(RUSAGE_SELF).ru_maxrss`` is used.

Prints one line ``RESULT <json>`` on stdout.  Any failure, including a read that returns
the wrong data, exits non-zero with the reason on stderr.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import traceback
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads as W  # noqa: E402
from rss import maxrss, reset_peak, rss_now  # noqa: E402
from timing import runs  # noqa: E402
from engines import Unavailable, load  # noqa: E402


class WrongData(AssertionError):
    pass


# ----------------------------------------------------------------------------- memory


class PeakMeter:
    def __enter__(self):
        self.reset = reset_peak()
        now = rss_now()
        # without a reset, growth above the previous high-water mark is all we can see
        self.base = maxrss() if (not self.reset or now is None) else now
        return self

    def __exit__(self, *exc):
        self.peak = maxrss()
        self.delta = max(0, self.peak - self.base)
        return False


def _sync() -> None:
    """Flush dirty pages (earlier writes, store copies) before a timed run, untimed, so
    background writeback of someone else's data does not land in this measurement."""
    if hasattr(os, "sync"):
        os.sync()


# ----------------------------------------------------------------------------- checks

def check(name: str, got, expected: np.ndarray) -> None:
    got = np.asarray(got)
    if got.shape != expected.shape:
        raise WrongData(f"{name}: shape {got.shape}, expected {expected.shape}")
    if got.dtype != expected.dtype:
        raise WrongData(f"{name}: dtype {got.dtype}, expected {expected.dtype}")
    if not np.array_equal(got, expected):
        bad = np.argwhere(got != expected)
        at = tuple(int(i) for i in bad[0]) if len(bad) else ()
        raise WrongData(f"{name}: {len(bad)} of {expected.size} elements differ, first at "
                        f"{at}: got {got[at]}, expected {expected[at]}")


# ----------------------------------------------------------------------------- warm-up

def warm_up(eng, layout: W.Layout, op: str, scratch: str) -> None:
    """Exercise the code paths of ``op`` once on a tiny array of the same layout (imports,
    JIT, thread pools), so the timed runs measure steady state for every engine alike."""
    c = layout.chunks
    small = replace(layout, shape=(2 * c[0], 2 * c[1]),
                    shards=(2 * c[0], 2 * c[1]) if layout.shards else None)
    data = W.make_data(small.shape)
    h = eng.create(small, scratch)
    eng.write_full(h, data)
    h = eng.open(small, scratch)
    check("warm-up read", eng.read_full(h), data)
    if op == "read_points":
        eng.read_points(h, np.array([[1, 2], [c[0] + 1, 3]]))
    elif op == "read_strided":
        eng.read_strided(h, (7, 3))
    elif op == "read_region":
        eng.read_region(h, ((1, c[0] + 1), (2, c[1] + 2)))
    elif op == "write_blocks":
        eng.write_blocks(h, [(3, 5, data[:10, :10] + 1)])
    del h
    if layout.store == "local":
        shutil.rmtree(scratch, ignore_errors=True)


# ----------------------------------------------------------------------------- jobs

def prepare(eng, job, w: W.Workload) -> dict:
    """Write the layout's array at ``loc`` (for read workloads whose write did not run)."""
    data = np.load(job["data"])
    h = eng.create(w.layout, job["loc"])
    eng.write_full(h, data)
    check("prepare read-back", eng.read_full(eng.open(w.layout, job["loc"])), data)
    return {}


def reader(eng, w: W.Workload, h):
    """(the timed call, the expected result as a function of the data) of read workload
    ``w`` on the engine's open array ``h``."""
    p = w.params
    if w.op == "read_full":
        return (lambda: eng.read_full(h)), (lambda d: d)
    if w.op == "read_region":
        (r0, r1), (c0, c1) = p["region"]
        return (lambda: eng.read_region(h, p["region"])), (lambda d: d[r0:r1, c0:c1])
    if w.op == "read_strided":
        s0, s1 = p["steps"]
        return (lambda: eng.read_strided(h, p["steps"])), (lambda d: d[::s0, ::s1])
    if w.op == "read_points":
        pts = W.points(w)
        return (lambda: eng.read_points(h, pts)), (lambda d: np.asarray(d[pts[:, 0], pts[:, 1]]))
    raise ValueError(f"unknown op {w.op}")


def measure(eng, job, w: W.Workload) -> dict:
    lay, loc = w.layout, job["loc"]
    data_path = job["data"]
    warm_up(eng, lay, w.op, job["scratch"])
    times, peak = [], None

    def timed(fn, first):
        nonlocal peak
        _sync()
        if first:
            with PeakMeter() as m:
                t0 = time.perf_counter()
                out = fn()
                t = time.perf_counter() - t0
            peak = {"delta": m.delta, "base": m.base, "peak": m.peak, "reset": m.reset}
        else:
            t0 = time.perf_counter()
            out = fn()
            t = time.perf_counter() - t0
        times.append(t)
        return out

    if w.op == "write_full":
        data = np.load(data_path)            # in memory before the baseline: it is the input
        for k in runs(job, times):
            h = eng.create(lay, loc)
            timed(lambda: eng.write_full(h, data), k == 0)
            del h
            if lay.store == "memory":  # (a memory store lives until the next create)
                check("read-back after write", eng.read_full(eng.open(lay, loc)), data)
        if lay.store != "memory":  # the last run's files
            check("read-back after write", eng.read_full(eng.open(lay, loc)), data)
        return {"times": times, "mem": peak}

    if w.op == "write_blocks":
        src = np.load(data_path, mmap_mode="r")
        blocks = W.block_writes(src, w)
        target = job["scratch"] + "-blocks"
        for k in runs(job, times):
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(loc, target)       # the engine's own stored zstd array
            h = eng.open(lay, target)
            timed(lambda: eng.write_blocks(h, blocks), k == 0)
            del h
        expected = W.expected_after_blocks(np.load(data_path), w)
        check("read-back after block writes", eng.read_full(eng.open(lay, target)), expected)
        shutil.rmtree(target, ignore_errors=True)
        return {"times": times, "mem": peak}

    # reads
    if lay.store == "memory":                  # the store lives in this process: fill it first
        data = np.load(data_path)
        h = eng.create(lay, loc)
        eng.write_full(h, data)
        del data, h
    fn, expect = reader(eng, w, eng.open(lay, loc))
    ref = None
    for k in runs(job, times):
        out = timed(fn, k == 0)
        if ref is None:
            ref = np.asarray(expect(np.load(data_path, mmap_mode="r")))
        check(w.op, out, ref)
        del out
    return {"times": times, "mem": peak}


CODEC_CEILINGS = {          # name -> (numcodecs config, chunk shape)
    "zstd(1), 512x512": ({"id": "zstd", "level": W.ZSTD_LEVEL}, (512, 512)),
    "blosc(lz4, shuffle), 512x512": ({"id": "blosc", "cname": "lz4", "clevel": 5,
                                      "shuffle": 1, "blocksize": 0}, (512, 512)),
    "zstd(1), 256x256 (sharded inner)": ({"id": "zstd", "level": W.ZSTD_LEVEL}, (256, 256)),
}


def codec_ceiling(job) -> dict:
    """The codec alone: numcodecs encode/decode of every chunk of the data in a thread
    pool of the benchmark's size, in memory, no store and no array assembly.  The upper
    bound a full write/read can approach."""
    from concurrent.futures import ThreadPoolExecutor

    import numcodecs
    cfg, (c0, c1) = CODEC_CEILINGS[job["codec"]]
    codec = numcodecs.get_codec(dict(cfg))
    data = np.load(job["data"])
    n0, n1 = data.shape
    chunks = [np.ascontiguousarray(data[i:i + c0, j:j + c1])
              for i in range(0, n0, c0) for j in range(0, n1, c1)]
    outs = [np.empty_like(c) for c in chunks]
    enc_t, dec_t = [], []
    with ThreadPoolExecutor(job["threads"]) as pool:
        encoded = list(pool.map(codec.encode, chunks[:4]))    # warm-up
        for _ in range(job["repeat"]):
            t0 = time.perf_counter()
            encoded = list(pool.map(codec.encode, chunks))
            enc_t.append(time.perf_counter() - t0)
        for _ in range(job["repeat"]):
            t0 = time.perf_counter()
            list(pool.map(lambda k: codec.decode(encoded[k], out=outs[k]), range(len(chunks))))
            dec_t.append(time.perf_counter() - t0)
    one = []                  # one chunk, on this thread: the floor of a single-element read
    for _ in range(30):
        t0 = time.perf_counter()
        codec.decode(encoded[0], out=outs[0])
        one.append(time.perf_counter() - t0)
    for a, b in zip(outs, chunks):
        check("codec round trip", a, b)
    return {"encode": enc_t, "decode": dec_t, "one_decode": min(one), "nbytes": data.nbytes,
            "stored": sum(len(e) for e in encoded)}


def main() -> int:
    job = json.loads(sys.argv[1])
    res = {"engine": job["engine"], "workload": job.get("workload"), "phase": job["phase"]}
    if job["phase"] == "data":               # generated here so the runner stays small
        np.save(job["data"], W.make_data(tuple(job["shape"])))
        sys.stdout.write("\nRESULT " + json.dumps({**res, "status": "ok"}) + "\n")
        return 0
    try:
        if job["phase"] == "codec":
            res.update(codec_ceiling(job), status="ok")
            return _emit(res)
        eng = load(job["engine"], job["threads"])
        res["versions"] = eng.versions()
        if job["phase"] == "probe":
            res["status"] = "ok"
        else:
            w = {x.name: x for x in W.make_workloads(job["quick"])}[job["workload"]]
            res.update((prepare if job["phase"] == "prepare" else measure)(eng, job, w))
            res["status"] = "ok"
    except Unavailable as e:
        res.update(status="unavailable", error=str(e))
    except WrongData as e:
        res.update(status="wrong", error=str(e))
    except Exception as e:  # noqa: BLE001
        res.update(status="error", error=f"{type(e).__name__}: {e}",
                   trace=traceback.format_exc(limit=8))
    return _emit(res)


def _emit(res) -> int:
    sys.stdout.write("\nRESULT " + json.dumps(res) + "\n")
    sys.stdout.flush()
    return 0 if res["status"] in ("ok", "unavailable") else 1


if __name__ == "__main__":
    sys.exit(main())
