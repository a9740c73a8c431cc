"""ML batch loading: ``ez.loader`` epochs vs the PyTorch-style per-sample pattern.

::

    .venv/bin/python benchmarks/loader.py            # 100k samples of 64x64 float32
    .venv/bin/python benchmarks/loader.py --quick    # 20k samples (~1 min)

One array of N samples of 64x64 float32 in chunks of 256 samples (v3, zstd level 1,
the same deterministic data recipe as ``workloads.make_data``), on local disk, written
once.  Then, each in a fresh subprocess (so peak memory is the measurement's own):

* ``limit``: the chunks read in order with no shuffling, ``z.chunk_stream(parallel=T)``
  (what any loader over this array can at best approach);
* ``sequential`` / ``chunks`` / ``global``: one full epoch of ``ez.loader(z, 256,
  shuffle=False / "chunks" / True, seed=0)``; every sample is checked to arrive once;
* ``per-sample``: the common PyTorch ``Dataset`` pattern, ``arr[i]`` on a zarr-python
  array for each index of a random permutation (no torch needed); it decodes a whole
  chunk per sample, so it is timed on a prefix of the permutation (``--per-sample``).

Reported: samples/s, peak RSS above the process's size before the epoch (VmHWM after a
reset, as in ``worker.py``), and ratios to the limit and to the per-sample pattern.
Writes ``results/loader.md`` (``--out``).  Measurements, not tests: nothing asserts on
speed; a sample missing or repeated fails the run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SAMPLE = (64, 64)
CHUNK = 256
BATCH = 256
MODES = ["limit", "sequential", "chunks", "global", "per-sample"]


def make_samples(n: int, start: int = 0) -> np.ndarray:
    """Samples ``start .. start + n`` (deterministic; sample i's first value encodes i)."""
    rows = np.arange(start, start + n, dtype=np.float32)[:, None, None]
    y = np.linspace(0, 2 * np.pi, SAMPLE[0], dtype=np.float32)[None, :, None]
    x = np.linspace(0, 2 * np.pi, SAMPLE[1], dtype=np.float32)[None, None, :]
    out = 100 * np.sin(y + 0.01 * rows) * np.cos(x)
    rng = np.random.default_rng(12345 + start)
    out += rng.standard_normal(out.shape, dtype=np.float32)
    out = np.round(out * 64) / 64
    out[:, 0, 0] = rows[:, 0, 0]         # the sample's own index, to check delivery
    return out.astype(np.float32)


def write_array(path: str, n: int, threads: int) -> None:
    import exzarr as ez
    ez.config.set_global(threads=threads)
    z = ez.create(path, shape=(n, *SAMPLE), chunks=(CHUNK, *SAMPLE), dtype="float32",
                  compressor={"name": "zstd", "configuration": {"level": 1, "checksum": False}},
                  zarr_format=3, overwrite=True)
    step = CHUNK * 16
    for a in range(0, n, step):
        z[a:a + step] = make_samples(min(step, n - a), a)


# ------------------------------------------------------------------ one measurement

def measure(mode: str, path: str, threads: int, per_sample: int) -> dict:
    from worker import PeakMeter
    import exzarr as ez
    ez.config.set_global(threads=threads)
    z = ez.open_array(path, mode="r")
    n = z.shape[0]
    seen = np.zeros(n, dtype=np.int64)

    def note(batch: np.ndarray) -> None:
        np.add.at(seen, batch[:, 0, 0].astype(np.int64), 1)

    # warm up (imports, thread pools, JIT) on a few batches, untimed
    for i, b in enumerate(ez.loader(z[:4 * CHUNK], BATCH, shuffle=True, seed=1)):
        pass
    if mode == "per-sample":
        import zarr
        zarr.config.set({"threading.max_workers": threads})
        arr = zarr.open_array(path, mode="r")
        order = np.random.default_rng(0).permutation(n)[:per_sample]
        arr[int(order[-1])]
        with PeakMeter() as pm:
            t0 = time.perf_counter()
            for i in order.tolist():
                note(np.asarray(arr[i])[None])
            dt = time.perf_counter() - t0
        if not np.array_equal(np.flatnonzero(seen), np.sort(order)):
            raise AssertionError("per-sample: wrong samples")
        count = len(order)
    else:
        with PeakMeter() as pm:
            t0 = time.perf_counter()
            if mode == "limit":
                for _, chunk in z.chunk_stream(parallel=threads):
                    note(chunk)
            else:
                shuffle = {"sequential": False, "chunks": "chunks", "global": True}[mode]
                for batch in ez.loader(z, BATCH, shuffle=shuffle, seed=0):
                    note(batch)
            dt = time.perf_counter() - t0
        if not (seen == 1).all():
            raise AssertionError(f"{mode}: {int((seen != 1).sum())} samples missing or repeated")
        count = n
    return {"mode": mode, "samples": count, "seconds": dt, "samples_per_s": count / dt,
            "peak_rss": pm.delta}


# ------------------------------------------------------------------ runner and report

def run(args: argparse.Namespace) -> list[dict]:
    parent = args.dir or tempfile.gettempdir()
    tmp = tempfile.mkdtemp(prefix="exzarr-loader-bench-", dir=parent)
    path = os.path.join(tmp, "samples.zarr")
    try:
        t0 = time.perf_counter()
        write_array(path, args.samples, args.threads)
        print(f"wrote {args.samples} samples in {time.perf_counter() - t0:.1f} s", flush=True)
        results = []
        for mode in args.modes:
            best = None
            for _ in range(args.repeat):
                out = subprocess.run(
                    [sys.executable, __file__, "--one", mode, "--path", path,
                     "--threads", str(args.threads), "--per-sample", str(args.per_sample)],
                    capture_output=True, text=True)
                if out.returncode != 0:
                    sys.stderr.write(out.stderr)
                    raise SystemExit(f"{mode} failed")
                r = json.loads(out.stdout.strip().splitlines()[-1])
                if best is None or r["samples_per_s"] > best["samples_per_s"]:
                    best = r
            assert best is not None
            print(f"{mode:>11}: {best['samples_per_s']:>10.0f} samples/s, peak RSS "
                  f"{best['peak_rss'] / 2**20:.0f} MiB", flush=True)
            results.append(best)
        return results
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(results: list[dict], args: argparse.Namespace, command: str, total: float) -> str:
    import exzarr
    import zarr
    by = {r["mode"]: r for r in results}
    limit = by.get("limit", {}).get("samples_per_s")
    per = by.get("per-sample", {}).get("samples_per_s")
    what = {"limit": "chunks in order, no shuffle (`z.chunk_stream`)",
            "sequential": "`ez.loader(z, 256)`",
            "chunks": "`ez.loader(z, 256, shuffle=\"chunks\", seed=0)`",
            "global": "`ez.loader(z, 256, shuffle=True, seed=0)`",
            "per-sample": f"zarr-python `arr[i]`, random order ({args.per_sample} samples)"}
    lines = [
        "# Batch loader benchmark", "",
        f"{args.samples} samples of 64x64 float32, chunks of {CHUNK} samples (v3, zstd 1), "
        f"local disk; batch size {BATCH}; {args.threads} threads; best of {args.repeat}.", "",
        "```bash no-run", command, "```", "",
        f"- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}; total run time {total:.0f} s",
        f"- Machine: {os.cpu_count()} cores, {platform.platform()}; Python "
        f"{platform.python_version()}, NumPy {np.__version__}",
        f"- Versions: exzarr {exzarr.__version__}; zarr {zarr.__version__}", "",
        "| mode | what | samples/s | peak RSS | limit / mode | mode / per-sample |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        s = r["samples_per_s"]
        lim = f"{limit / s:.2f}" if limit else "n/a"
        ps = f"{s / per:.1f}x" if per else "n/a"
        lines.append(f"| {r['mode']} | {what[r['mode']]} | {s:,.0f} | "
                     f"{r['peak_rss'] / 2**20:,.0f} MiB | {lim} | {ps} |")
    lines += ["", "Targets (issue 14): sequential and chunk-buffer shuffle within 1.25x of the "
              "limit (limit / mode <= 1.25); global shuffle at least 10x the per-sample "
              "pattern.", ""]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="20k samples, 1 repeat")
    p.add_argument("--samples", type=int, default=None)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--repeat", type=int, default=None)
    p.add_argument("--per-sample", type=int, default=None,
                   help="samples timed for the per-sample pattern")
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--dir", default=None, help="parent of the temporary array directory")
    p.add_argument("--out", default=str(HERE / "results" / "loader.md"))
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)
    p.add_argument("--path", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.path, args.threads, args.per_sample)))
        return
    args.samples = args.samples or (20_000 if args.quick else 100_000)
    args.repeat = args.repeat or (1 if args.quick else 2)
    args.per_sample = args.per_sample or (300 if args.quick else 1000)
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    command = ".venv/bin/python benchmarks/loader.py " + " ".join(sys.argv[1:])
    t0 = time.perf_counter()
    results = run(args)
    text = report(results, args, command.strip(), time.perf_counter() - t0)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
