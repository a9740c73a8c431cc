"""Compute benchmark: exzarr's lazy engine vs dask.array, xarray + dask, cubed and NumPy.

    python benchmarks/compute.py                 # full run: 16384x16384 float64 (2 GiB) x 2
    python benchmarks/compute.py --quick         # 4096x4096 (128 MiB) x 2
    python benchmarks/compute.py --n 8192 --engines exzarr,dask --workloads sum,anomaly

Two float64 arrays ``z`` and ``w`` (N x N, 1024x1024 chunks, zstd level 1, Zarr v3) are
written once by exzarr, block by block from a smooth formula, into a temporary directory.
Every (engine, workload) then runs in its own fresh subprocess (this file with
``--worker``), so its peak RSS is that operation's alone. Every result is checked against
a reference computed from the formula (never from any engine's reads); a mismatch shows
as WRONG and makes the exit status 1. No timing is asserted: this is a measurement.

Engines: ``exzarr`` (lazy engine), ``dask`` (dask.array.from_zarr on zarr-python, threads
scheduler), ``xarray`` (xr.open_zarr with dask chunks = the zarr chunks), ``cubed``
(threads executor), ``numpy`` (exzarr reads every input into memory, NumPy computes, exzarr
writes stored results: the in-memory limit) and ``floor`` (exzarr's full read of every
input array, time only; for stored results plus exzarr's write of exzarr's own result
from memory, its computation untimed: the bytes exzarr must read, encode and write).
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Protocol

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from rss import machine, maxrss, reset_peak, rss_now  # noqa: E402  (shared with worker/run)
from numba_cache import use_numba_cache  # noqa: E402

CHUNK = 1024
ZSTD_LEVEL = 1
# Warm-up arrays (imports, thread pools, first-call costs): small, with small chunks, so
# the buffers that the warm-up leaves in malloc's free lists cannot hide the measured
# operation's own memory.
WARM_N, WARM_CHUNK = 512, 128

ENGINES = ["exzarr", "dask", "xarray", "cubed", "numpy", "floor"]
LABELS = {"exzarr": "exzarr (lazy)", "dask": "dask.array", "xarray": "xarray + dask",
          "cubed": "cubed", "numpy": "NumPy in memory", "floor": "floor: exzarr full read (+ write)"}
# name -> (title, inputs, stores a result)
WORKLOADS = {
    "sum": ("sum(z)", ("z",), False),
    "mean0": ("mean(z, axis=0)", ("z",), False),
    "axpy": ("z * 2 + w → new zarr array", ("z", "w"), True),
    "anomaly": ("z - mean(z, axis=0) → new zarr array", ("z",), True),
    "maxnorm": ("max(sqrt(z**2 + w**2))", ("z", "w"), False),
    "strided": ("sum(z[::2, 100:-100])", ("z",), False),
}


# ============================================================================ the data

def _axes(r0: int, r1: int, n: int):
    i = np.arange(r0, r1, dtype="float64")[:, None]
    j = np.arange(n, dtype="float64")[None, :]
    return i, j


def gen_z(r0: int, r1: int, n: int) -> np.ndarray:
    i, j = _axes(r0, r1, n)
    return np.round(np.sin(i / 100) + np.cos(j / 77), 3)


def gen_w(r0: int, r1: int, n: int) -> np.ndarray:
    i, j = _axes(r0, r1, n)
    return np.round(np.cos(i / 53) * np.sin(j / 91) + 2, 3)


GEN = {"z": gen_z, "w": gen_w}


def row_blocks(n: int, rows: int = CHUNK):
    for r0 in range(0, n, rows):
        yield r0, min(n, r0 + rows)


def zstd_v3() -> dict:
    return {"name": "zstd", "configuration": {"level": ZSTD_LEVEL, "checksum": False}}


def write_inputs(root: str, n: int, chunk: int = CHUNK) -> None:
    """A v3 group ``root`` holding ``z`` and ``w`` (dimension names y, x for xarray),
    written by exzarr one row of chunks at a time: the whole array is never in memory."""
    import exzarr as ez
    ez.group(root, overwrite=True)
    for name, gen in GEN.items():
        a = ez.create(root, path=name, shape=(n, n), chunks=(chunk, chunk), dtype="float64",
                      fill_value=float("nan"), compressor=zstd_v3(), dimension_names=["y", "x"],
                      overwrite=True)
        for r0, r1 in row_blocks(n, chunk):
            a[r0:r1, :] = gen(r0, r1, n)


def references(n: int) -> dict:
    """The reduction results, from the formula, block by block (float64, exact-ish:
    math.fsum over per-block pairwise sums)."""
    import math
    sums, strided, col, mx = [], [], np.zeros(n), -np.inf
    for r0, r1 in row_blocks(n):
        z, w = gen_z(r0, r1, n), gen_w(r0, r1, n)
        sums.append(z.sum())
        col += z.sum(axis=0)
        mx = max(mx, float(np.sqrt(z ** 2 + w ** 2).max()))
        assert r0 % 2 == 0
        strided.append(z[::2, 100:n - 100].sum())
    return {"sum": np.float64(math.fsum(sums)), "mean0": col / n, "maxnorm": np.float64(mx),
            "strided": np.float64(math.fsum(strided))}


# ============================================================================ engines

def chunk_of(job, root):
    """Chunk side of the inputs at ``root`` (stored results use the same)."""
    return WARM_CHUNK if root == job["warm_root"] else CHUNK


# Each engine: setup(job, root) -> ctx; run(ctx, workload, out_path) -> result (a NumPy
# value for reductions; None for stored results, which are written to out_path).

class ComputeEngine(Protocol):
    """What ``worker`` calls on an engine (the classes of ``ENGINE_CLASSES``)."""

    def setup(self, job: dict, root: str) -> Any: ...

    def run(self, a: Any, wl: str, out: str) -> Any: ...

    def versions(self) -> dict[str, str]: ...


class ExzarrEngine:
    def setup(self, job, root):
        self.chunk = chunk_of(job, root)
        import exzarr as ez
        ez.config.set_global(threads=job["threads"])
        self.ez, self.xp = ez, ez.array_api
        return {k: ez.open_array(root, path=k, mode="r") for k in ("z", "w")}

    def versions(self):
        src = self.ez.__file__
        if src is None:
            raise RuntimeError("exzarr was not imported from a file")
        return {"exzarr": self.ez.__version__,
                "exzarr_src": os.path.dirname(os.path.dirname(src))}

    def run(self, a, wl, out):
        xp, z, w = self.xp, a["z"], a["w"]
        kw = dict(chunks=(self.chunk, self.chunk), compressor=zstd_v3(), overwrite=True)
        if wl == "sum":
            return float(xp.sum(z))
        if wl == "mean0":
            return np.asarray(xp.mean(z, axis=0).read())
        if wl == "axpy":
            (z * 2 + w).to_zarr(out, **kw)
            return None
        if wl == "anomaly":
            (z - xp.mean(z, axis=0)).to_zarr(out, **kw)
            return None
        if wl == "maxnorm":
            return float(xp.max(xp.sqrt(z ** 2 + w ** 2)))
        if wl == "strided":
            return float(xp.sum(z[::2, 100:-100]))
        raise ValueError(wl)


class NumpyEngine(ExzarrEngine):
    """exzarr reads the inputs into memory, NumPy computes, exzarr writes."""

    def run(self, a, wl, out):
        ez = self.ez
        ins = WORKLOADS[wl][1]
        v = {k: a[k].read() for k in ins}
        if wl == "sum":
            return float(v["z"].sum())
        if wl == "mean0":
            return v["z"].mean(axis=0)
        if wl in ("axpy", "anomaly"):
            z = v["z"]
            r = z * 2 + v["w"] if wl == "axpy" else z - z.mean(axis=0)
            del v, z
            ez.array(r, out, chunks=(self.chunk, self.chunk), compressor=zstd_v3(), overwrite=True)
            return None
        if wl == "maxnorm":
            return float(np.sqrt(v["z"] ** 2 + v["w"] ** 2).max())
        if wl == "strided":
            return float(v["z"][::2, 100:-100].sum())
        raise ValueError(wl)


class FloorEngine(ExzarrEngine):
    """exzarr's full read of every input of the workload (into memory); for a stored
    result also exzarr's write of that result from memory: what any engine must at least
    spend, reading and writing the same bytes.  The values written are exzarr's own
    result, computed untimed by exzarr into memory: NumPy's ``z - z.mean(axis=0)``
    differs from it in the last bits (its mean sums in another order), and zstd takes
    1.5-2x as long on exzarr's bytes as on NumPy's (benchmarks/results/compute.md), so
    NumPy's values would make the floor cheaper than writing the same result."""

    untimed = 0.0

    def run(self, a, wl, out):
        ins = WORKLOADS[wl][1]
        v = {k: a[k].read() for k in ins}
        self.untimed = 0.0
        if WORKLOADS[wl][2]:
            t0 = time.perf_counter()
            del v
            za, wa = a["z"], a["w"]
            r = ((za * 2 + wa) if wl == "axpy" else (za - self.xp.mean(za, axis=0))).read()
            self.untimed = time.perf_counter() - t0
            self.ez.array(r, out, chunks=(self.chunk, self.chunk), compressor=zstd_v3(),
                          overwrite=True)
        return "floor"


def _zarr_target(out, shape, chunk):
    import zarr
    from zarr.codecs import ZstdCodec
    return zarr.create_array(out, shape=shape, chunks=(chunk, chunk), dtype="float64",
                             compressors=[ZstdCodec(level=ZSTD_LEVEL, checksum=False)],
                             fill_value=float("nan"), overwrite=True)


class DaskEngine:
    def setup(self, job, root):
        self.chunk = chunk_of(job, root)
        import dask
        import dask.array as da
        import zarr
        zarr.config.set({"threading.max_workers": job["threads"]})
        dask.config.set(scheduler="threads", num_workers=job["threads"])
        self.da, self.dask, self.zarr = da, dask, zarr
        return {k: da.from_zarr(zarr.open_array(root, path=k, mode="r")) for k in ("z", "w")}

    def versions(self):
        return {"dask": self.dask.__version__, "zarr": self.zarr.__version__}

    def run(self, a, wl, out):
        da, z, w = self.da, a["z"], a["w"]
        if wl == "sum":
            return float(z.sum().compute())
        if wl == "mean0":
            return z.mean(axis=0).compute()
        if wl in ("axpy", "anomaly"):
            e = z * 2 + w if wl == "axpy" else z - z.mean(axis=0)
            da.store(e, _zarr_target(out, e.shape, self.chunk), lock=False)
            return None
        if wl == "maxnorm":
            return float(da.sqrt(z ** 2 + w ** 2).max().compute())
        if wl == "strided":
            return float(z[::2, 100:-100].sum().compute())
        raise ValueError(wl)


class XarrayEngine:
    """xr.open_zarr with dask chunks = the zarr chunks; skipna=False so the reductions do
    the same work as the other engines (xarray's default for floats is the NaN-skipping
    variant)."""

    def setup(self, job, root):
        self.chunk = chunk_of(job, root)
        import dask
        import xarray as xr
        import zarr
        zarr.config.set({"threading.max_workers": job["threads"]})
        dask.config.set(scheduler="threads", num_workers=job["threads"])
        self.xr, self.dask, self.zarr = xr, dask, zarr
        ds = xr.open_zarr(root, chunks={"y": self.chunk, "x": self.chunk}, consolidated=False,
                          mask_and_scale=False, zarr_format=3)
        return ds

    def versions(self):
        return {"xarray": self.xr.__version__}

    def run(self, ds, wl, out):
        from zarr.codecs import ZstdCodec
        z, w = ds["z"], ds["w"]
        if wl == "sum":
            return float(z.sum(skipna=False).compute())
        if wl == "mean0":
            return z.mean("y", skipna=False).values
        if wl in ("axpy", "anomaly"):
            e = z * 2 + w if wl == "axpy" else z - z.mean("y", skipna=False)
            enc = {"out": {"compressors": [ZstdCodec(level=ZSTD_LEVEL, checksum=False)],
                           "chunks": (self.chunk, self.chunk)}}
            e.to_dataset(name="out").to_zarr(out, mode="w", zarr_format=3, consolidated=False,
                                             encoding=enc)
            return None
        if wl == "maxnorm":
            import numpy as _np
            return float(_np.sqrt(z ** 2 + w ** 2).max(skipna=False).compute())
        if wl == "strided":
            return float(z.isel(y=slice(None, None, 2), x=slice(100, -100))
                         .sum(skipna=False).compute())
        raise ValueError(wl)


class CubedEngine:
    def setup(self, job, root):
        self.chunk = chunk_of(job, root)
        import cubed
        import cubed.array_api as cxp
        import zarr
        zarr.config.set({"threading.max_workers": job["threads"]})
        self.cubed, self.cxp, self.zarr = cubed, cxp, zarr
        work = os.path.join(job["tmp"], f"cubed-work-{os.getpid()}")
        self.spec = cubed.Spec(work_dir=work, allowed_mem="2GB", executor_name="threads",
                               executor_options={"max_workers": job["threads"]})
        return {k: cubed.from_zarr(root, path=k, spec=self.spec) for k in ("z", "w")}

    def versions(self):
        return {"cubed": self.cubed.__version__}

    def run(self, a, wl, out):
        cxp, z, w = self.cxp, a["z"], a["w"]
        if wl == "sum":
            return float(cxp.sum(z).compute())
        if wl == "mean0":
            return np.asarray(cxp.mean(z, axis=0).compute())
        if wl in ("axpy", "anomaly"):
            e = z * 2 + w if wl == "axpy" else z - cxp.mean(z, axis=0)
            self.cubed.store(e, _zarr_target(out, e.shape, self.chunk))
            return None
        if wl == "maxnorm":
            return float(cxp.max(cxp.sqrt(z ** 2 + w ** 2)).compute())
        if wl == "strided":
            return float(cxp.sum(z[::2, 100:-100]).compute())
        raise ValueError(wl)


ENGINE_CLASSES: dict[str, type[ComputeEngine]] = {
    "exzarr": ExzarrEngine, "dask": DaskEngine, "xarray": XarrayEngine,
    "cubed": CubedEngine, "numpy": NumpyEngine, "floor": FloorEngine}


# ============================================================================ checks

class WrongData(AssertionError):
    pass


def _close(name, got, exp, atol):
    got = np.asarray(got, dtype="float64")
    if got.shape != exp.shape:
        raise WrongData(f"{name}: shape {got.shape}, expected {exp.shape}")
    if not np.allclose(got, exp, rtol=1e-9, atol=atol):
        d = np.abs(got - exp)
        at = np.unravel_index(int(np.nanargmax(d)), d.shape) if d.ndim else ()
        raise WrongData(f"{name}: max abs diff {np.nanmax(d):.3g} at {at}: got "
                        f"{got[at]!r}, expected {exp[at]!r}")


def check_result(wl, got, n, ref_file, out):
    """Reductions against the formula references; stored arrays row block by row block
    (read with zarr-python) against the formula."""
    refs = np.load(ref_file)
    if wl in ("sum", "strided"):
        _close(wl, got, refs[wl], atol=1e-11 * n * n)
    elif wl in ("mean0", "maxnorm"):
        _close(wl, got, refs[wl], atol=1e-9)
    elif wl in ("axpy", "anomaly"):
        import zarr
        sub = os.path.join(out, "out")        # xarray writes a group holding "out"
        arr = zarr.open_array(sub if os.path.isdir(sub) else out, mode="r")
        if arr.shape != (n, n) or arr.dtype != np.float64:
            raise WrongData(f"{wl}: stored {arr.shape} {arr.dtype}, expected ({n}, {n}) float64")
        for r0, r1 in row_blocks(n):
            z = gen_z(r0, r1, n)
            exp = z * 2 + gen_w(r0, r1, n) if wl == "axpy" else z - refs["mean0"]
            _close(f"{wl} rows {r0}:{r1}", arr[r0:r1, :], exp, atol=1e-9)


# ============================================================================ worker

def worker(job: dict) -> dict:
    res = {"engine": job["engine"], "workload": job["workload"]}
    eng = ENGINE_CLASSES[job["engine"]]()
    wl = job["workload"]
    out_root = os.path.join(job["tmp"], f"out-{job['engine']}-{wl}")
    try:
        # warm-up on the small arrays of the same layout: imports, thread pools, JIT
        ctx = eng.setup(job, job["warm_root"])
        eng.run(ctx, wl, out_root + "-warm")
        shutil.rmtree(out_root + "-warm", ignore_errors=True)
        ctx = eng.setup(job, job["root"])
        res["versions"] = eng.versions()
    except ImportError as e:
        return {**res, "status": "unavailable", "error": f"{type(e).__name__}: {e}"}
    except Exception as e:
        return {**res, "status": "error", "error": f"warm-up: {type(e).__name__}: {e}",
                "trace": traceback.format_exc()[-3000:]}
    times, got = [], None
    try:
        for k in range(job["repeat"]):
            shutil.rmtree(out_root, ignore_errors=True)
            if hasattr(os, "sync"):
                os.sync()
            reset = reset_peak()
            base = rss_now() if reset else maxrss()
            if base is None:
                raise RuntimeError("no resident size (/proc/self/statm) to measure from")
            t0 = time.perf_counter()
            got = eng.run(ctx, wl, out_root)
            times.append(time.perf_counter() - t0 - getattr(eng, "untimed", 0.0))
            if k == 0:
                peak = maxrss()
                res.update(rss_base=base, rss_peak=peak, rss_delta=max(0, peak - base),
                           rss_method="VmHWM after clear_refs" if reset else "ru_maxrss")
    except Exception as e:
        shutil.rmtree(out_root, ignore_errors=True)
        return {**res, "status": "error", "times": times,
                "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-3000:]}
    res["times"] = times
    res["status"] = "ok"
    if job["engine"] != "floor":
        try:
            check_result(wl, got, job["n"], job["refs"], out_root)
            res["check"] = "ok"
        except WrongData as e:
            res["status"], res["error"] = "wrong", str(e)
        except Exception as e:
            res["status"], res["error"] = "wrong", f"check failed: {type(e).__name__}: {e}"
    if WORKLOADS[wl][2] and os.path.exists(out_root):
        res["stored_bytes"] = du(out_root)
    shutil.rmtree(out_root, ignore_errors=True)
    shutil.rmtree(os.path.join(job["tmp"], f"cubed-work-{os.getpid()}"), ignore_errors=True)
    return res


def run_worker(job: dict, timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(job)]
    env = dict(os.environ)
    use_numba_cache(env)  # the Makefile's folder, keyed by the kernels' sources
    ids = {"engine": job["engine"], "workload": job["workload"]}
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {**ids, "status": "error", "error": f"timed out after {timeout:.0f} s"}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    err = p.stderr.strip().splitlines()
    why = f"killed by signal {-p.returncode}" if p.returncode < 0 else f"exit {p.returncode}"
    return {**ids, "status": "error",
            "error": f"worker {why} without a result: {' | '.join(err[-3:])}"}


# ============================================================================ report

def _fmt_default(name: str) -> str:
    """exzarr's default for a config setting, as the report prints it."""
    from exzarr.compute.plan import fmt_bytes
    from exzarr.config import Config
    return fmt_bytes(getattr(Config(), name))


def du(path: str) -> int:
    total = 0
    for r, _d, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(r, f))
            except OSError:
                pass
    return total


def fmt_time(s):
    return "—" if s is None else (f"{s:.2f} s" if s >= 1 else f"{s * 1e3:.0f} ms")


def fmt_bytes(b):
    if b is None:
        return "—"
    for unit, k in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= k:
            return f"{b / k:.2f} {unit}" if unit == "GiB" else f"{b / k:.0f} {unit}"
    return f"{b} B"


def best(r):
    return min(r["times"]) if r.get("status") in ("ok", "wrong") and r.get("times") else None


def cell_status(r):
    s = r.get("status")
    if s == "ok":
        return "ok" if r.get("check") == "ok" else ("—" if r["engine"] == "floor" else "?")
    if s == "wrong":
        return "**WRONG**"
    if s == "unavailable":
        return "n/a"
    return "**error**"


def loadavg():
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def ratio(a, b):
    return None if a is None or b is None or b <= 0 else a / b


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}x"


def report(a, results, info) -> str:
    n = a.n
    L = []
    L.append("# exzarr compute benchmark: lazy out-of-core engine vs dask, xarray, cubed, NumPy\n")
    m = info["machine"]
    L.append(f"- Command: `{info['command']}`")
    L.append(f"- Date: {info['date']}; total run time {info['total_s']:.0f} s "
             f"(data generation {info['gen_s']:.0f} s)")
    L.append(f"- Machine: {m['cores']} cores ({m['cpu']}), "
             f"{m['mem_bytes'] / (1 << 30):.0f} GiB RAM, {m['os']}; Python {m['python']}")
    L.append(f"- Load average (1/5/15 min) at start {info['load0']}, at end {info['load1']}")
    vers = dict(info["versions"])
    src = vers.pop("exzarr_src", None)
    L.append("- Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(vers.items())))
    if src:
        L.append(f"- exzarr imported from `{src}`{source_state(src)}")
    L.append(f"- Data: `z`, `w`: {n}x{n} float64 ({fmt_bytes(n * n * 8)} logical each), "
             f"{CHUNK}x{CHUNK} chunks, zstd level {ZSTD_LEVEL}, Zarr v3, written by exzarr "
             f"(stored: z {fmt_bytes(info['stored']['z'])}, w {fmt_bytes(info['stored']['w'])}); "
             f"`z = round(sin(i/100) + cos(j/77), 3)`, `w = round(cos(i/53) sin(j/91) + 2, 3)`; "
             f"store on {info['fs']} (inputs in the page cache: read from memory, not disk)")
    L.append(f"- Threads: {a.threads} for every engine (exzarr `config.threads`, dask threads "
             f"scheduler `num_workers`, cubed threads executor `max_workers`, zarr-python "
             f"`threading.max_workers`); exzarr defaults otherwise (memory_limit "
             f"{_fmt_default('memory_limit')}, block_bytes {_fmt_default('block_bytes')}). Best of {a.repeat} timed run(s), after a warm-up (same "
             f"operation on {WARM_N}x{WARM_N} arrays, {WARM_CHUNK}x{WARM_CHUNK} chunks) in "
             f"the same process.")
    L.append("- Stored results: zstd level 1, 1024x1024 chunks; exzarr and NumPy write with "
             "exzarr, dask and cubed into a zarr-python array, xarray with `Dataset.to_zarr`.")
    L.append("- Peak RSS: the worker's peak resident set during the first timed run minus its "
             "resident size right before it (after imports, opening, warm-up; Linux: VmHWM "
             "reset through `/proc/self/clear_refs` after `malloc_trim`).")
    L.append("- Check: every result against a reference computed from the formula "
             "(allclose, rtol 1e-9); stored arrays are read back with zarr-python.\n")

    L.append("## Summary\n")
    L.append("*ratio* = exzarr time / other time: **> 1 means exzarr is slower**.\n")
    L.append("| workload | exzarr | exzarr peak RSS | fastest other | exzarr / fastest other "
             "| fastest out-of-core other | exzarr / it | floor | exzarr / floor |")
    L.append("|---|---:|---:|---|---:|---|---:|---:|---:|")
    for wl in a.workloads:
        R = {r["engine"]: r for r in results if r["workload"] == wl}
        ex = R.get("exzarr", {})
        te = best(ex)
        others = [(best(r), e) for e, r in R.items()
                  if e not in ("exzarr", "floor") and r.get("status") == "ok" and best(r)]
        ooc = [(t, e) for t, e in others if e != "numpy"]
        fo = min(others) if others else (None, "")
        fc = min(ooc) if ooc else (None, "")
        tf = best(R.get("floor", {}))
        L.append(f"| {WORKLOADS[wl][0]} | {fmt_time(te)} | {fmt_bytes(ex.get('rss_delta'))} | "
                 f"{fmt_time(fo[0])} ({LABELS.get(fo[1], '—')}) | "
                 f"{fmt_ratio(ratio(te, fo[0]))} | {fmt_time(fc[0])} ({LABELS.get(fc[1], '—')}) | "
                 f"{fmt_ratio(ratio(te, fc[0]))} | {fmt_time(tf)} | {fmt_ratio(ratio(te, tf))} |")
    L.append("")
    for wl in a.workloads:
        title, ins, stores = WORKLOADS[wl]
        R = {r["engine"]: r for r in results if r["workload"] == wl}
        te = best(R.get("exzarr", {}))
        L.append(f"## `{title}`\n")
        L.append(f"Inputs: {', '.join(ins)}; floor = exzarr reading "
                 f"{' and '.join(ins)} into memory"
                 + (", then exzarr writing exzarr's own result (computed untimed into "
                    "memory) from memory: read + encode + write of the same bytes, no "
                    "compute." if stores else " (no compute)."))
        L.append("")
        L.append("| engine | time | peak RSS increase | exzarr / engine | check |")
        L.append("|---|---:|---:|---:|---|")
        for e in a.engines:
            r = R.get(e)
            if r is None:
                continue
            t = best(r)
            mem = "—" if e == "floor" else fmt_bytes(r.get("rss_delta"))
            rr = "—" if e == "exzarr" else fmt_ratio(ratio(te, t))
            L.append(f"| {LABELS[e]} | {fmt_time(t)} | {mem} | {rr} | {cell_status(r)} |")
        notes = [f"{LABELS[e]}: {r['status']}: {r.get('error')}" for e, r in R.items()
                 if r.get("status") not in ("ok",)]
        if notes:
            L.append("")
            L.extend(f"- {x}" for x in notes)
        L.append("")
    return "\n".join(L) + "\n"


# ============================================================================ main

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="N=4096 (default N=16384)")
    ap.add_argument("--n", type=int, default=None, help="array side (overrides --quick)")
    ap.add_argument("--engines", default=",".join(ENGINES),
                    help=f"comma-separated subset of {','.join(ENGINES)}")
    ap.add_argument("--workloads", default=",".join(WORKLOADS),
                    help=f"comma-separated names or globs of {','.join(WORKLOADS)}")
    ap.add_argument("--repeat", type=int, default=1, help="timed runs, best reported (1)")
    ap.add_argument("--threads", type=int, default=2, help="threads for every engine (2)")
    ap.add_argument("--dir", default=None, help="parent of the temporary directory")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--out", default=None, help="Markdown output (default: "
                    "results/compute.md, --quick: results/compute-quick.md)")
    ap.add_argument("--json", default=None, help="also write the raw results here")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per subprocess")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        return a
    a.n = a.n or (4096 if a.quick else 16384)
    a.engines = [e.strip() for e in a.engines.split(",") if e.strip()]
    bad = [e for e in a.engines if e not in ENGINES]
    if bad:
        ap.error(f"unknown engine(s) {bad}")
    pats = [p.strip() for p in a.workloads.split(",") if p.strip()]
    a.workloads = [w for w in WORKLOADS if any(fnmatch.fnmatch(w, p) for p in pats)]
    if not a.workloads:
        ap.error("no workload matches")
    if a.out is None:
        a.out = str(HERE / "results" / ("compute-quick.md" if a.quick and a.n == 4096
                                        else "compute.md"))
    return a


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    a = parse_args(argv)
    if a.worker:
        res = worker(json.loads(a.worker))
        print("RESULT " + json.dumps(res, default=float), flush=True)
        return 0 if res["status"] in ("ok", "unavailable") else 1
    t_start = time.perf_counter()
    load0 = loadavg()
    tmp = tempfile.mkdtemp(prefix="exzarr-compute-", dir=a.dir)
    pp = os.environ.get("PYTHONPATH")
    info = {"command": (f"PYTHONPATH={shlex.quote(pp)} " if pp else "")
            + shlex.join(["python", "benchmarks/compute.py", *argv]),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(), "load0": load0}
    results = []
    try:
        root, warm = os.path.join(tmp, "data.zarr"), os.path.join(tmp, "warm.zarr")
        print(f"writing inputs {a.n}x{a.n} float64 x 2 into {tmp} ...", flush=True)
        t0 = time.perf_counter()
        write_inputs(root, a.n)
        write_inputs(warm, WARM_N, WARM_CHUNK)
        info["gen_s"] = time.perf_counter() - t0
        info["stored"] = {k: du(os.path.join(root, k)) for k in ("z", "w")}
        print(f"  {info['gen_s']:.1f} s; stored z {fmt_bytes(info['stored']['z'])}, "
              f"w {fmt_bytes(info['stored']['w'])}; computing references ...", flush=True)
        refs = os.path.join(tmp, "refs.npz")
        np.savez(refs, **references(a.n))
        info["fs"] = fs_type(tmp)
        versions = {"numpy": np.__version__}
        for wl in a.workloads:
            for e in a.engines:
                job = {"engine": e, "workload": wl, "n": a.n, "root": root, "warm_root": warm,
                       "refs": refs, "tmp": tmp, "threads": a.threads, "repeat": a.repeat}
                r = run_worker(job, a.timeout)
                results.append(r)
                versions.update(r.get("versions", {}))
                t = best(r)
                msg = (f"{fmt_time(t):>9}  peak RSS +{fmt_bytes(r.get('rss_delta'))}"
                       if t is not None else "")
                if r["status"] != "ok":
                    msg += f"  {r['status'].upper()}: {r.get('error')}"
                print(f"  {wl:8} {e:7} {msg}", flush=True)
                if r.get("trace") and r["status"] == "error":
                    print("    " + r["trace"].strip().replace("\n", "\n    "), flush=True)
        info["versions"] = versions
    finally:
        if a.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    info["total_s"] = time.perf_counter() - t_start
    info["load1"] = loadavg()
    text = report(a, results, info)
    print()
    print(text)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(text)
    print(f"written to {a.out}")
    if a.json:
        Path(a.json).write_text(json.dumps({"info": info, "results": results}, indent=1,
                                           default=float))
    bad = [r for r in results if r["status"] == "wrong"
           or (r["engine"] in ("exzarr", "numpy", "floor") and r["status"] != "ok")]
    return 1 if bad else 0


def source_state(src: str) -> str:
    """Which commit the exzarr source is (when it is this repository's src/)."""
    repo = HERE.parent
    if Path(src).resolve() != (repo / "src").resolve():
        return ""
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "src"],
                               capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""
    return f" (git {head}{', with uncommitted changes under src/' if dirty else ''})"


def fs_type(path: str) -> str:
    best_m, kind = "", "?"
    try:
        for line in open("/proc/mounts"):
            parts = line.split()
            mnt, typ = parts[1], parts[2]
            if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) > len(best_m):
                best_m, kind = mnt, typ
    except OSError:
        pass
    return f"{best_m or '/'} ({kind})"


if __name__ == "__main__":
    sys.exit(main())
