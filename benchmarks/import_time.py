"""Import and fresh-process ``open()`` cost: exzarr vs NumPy alone, zarr-python and tensorstore.

Each measurement is one fresh ``python -c`` process that times itself from just before its
first import to the end of the snippet (interpreter start-up is not counted); the median of
``--runs`` processes is reported.  Bytecode caching is switched on for the children (one
untimed warm-up process per row writes the ``.pyc`` files), as in an installed package.

The ``open + read`` rows open a local v3 zstd array (1024x1024 float32, 256x256 chunks,
written once by this script) and read its first chunk.  The ``warm open`` rows time
``open()`` alone in a process that has imported the library and opened the array once
(what opening many arrays costs: a group's members, a dataset's variables): the median of
``--opens`` opens per process, then the median over ``--warm-runs`` processes (the rows
taking turns, one process each), for that
array and for a sharded one (4096x4096 float32, shards 1024x1024 of 128x128 zstd chunks,
the cloud benchmark's layout).  A measurement, not a test: nothing asserts on timings.

    python benchmarks/import_time.py              # 15 processes per row
    python benchmarks/import_time.py --runs 31
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

import numpy as np

_TIMED = ("import time; _t = time.perf_counter()\n{body}\n"
          "print(time.perf_counter() - _t)")

_IMPORTS = {
    "numpy": "import numpy",
    "exzarr": "import exzarr",
    "zarr": "import zarr",
    "tensorstore": "import tensorstore",
}


def _open_snippets(path: str) -> dict[str, str]:
    spec = json.dumps({"driver": "zarr3", "kvstore": {"driver": "file", "path": path + "/"}})
    return {
        "exzarr open + read": (f"import exzarr as ez\nz = ez.open({path!r}, mode='r')\n"
                               f"assert z[:256, :256].shape == (256, 256)"),
        "tensorstore open + read": (f"import tensorstore as ts\n"
                                    f"t = ts.open({spec}, open=True).result()\n"
                                    f"assert t[:256, :256].read().result().shape == (256, 256)"),
    }


_WARM = ("import time, statistics\n{setup}\n{open}\n_ts = []\n"
         "for _ in range({n}):\n    _t = time.perf_counter()\n    {open}\n"
         "    _ts.append(time.perf_counter() - _t)\nprint(statistics.median(_ts))")


def _warm_snippets(paths: dict[str, str]) -> dict[str, tuple[str, str]]:
    """(setup, one open) per row: exzarr, zarr-python and tensorstore opening each array."""
    rows = {}
    for label, path in paths.items():
        spec = json.dumps({"driver": "zarr3", "kvstore": {"driver": "file", "path": path + "/"}})
        rows[f"exzarr warm open, {label}"] = ("import exzarr as ez",
                                              f"ez.open({path!r}, mode='r')")
        rows[f"zarr warm open, {label}"] = ("import zarr", f"zarr.open_array({path!r}, mode='r')")
        rows[f"tensorstore warm open, {label}"] = ("import tensorstore as ts",
                                                   f"ts.open({spec}, open=True).result()")
    return rows


def _warm_medians_us(rows: dict[str, tuple[str, str]], opens: int,
                     runs: int) -> dict[str, float | None]:
    """Per row, the median over ``runs`` fresh processes of each one's median time of its
    open (after its setup and one untimed open), in microseconds; the rows take turns,
    one process each, so a machine that drifts moves them alike."""
    medians: dict[str, list[float] | None] = {name: [] for name in rows}
    for _ in range(runs):
        for name, (setup, one) in rows.items():
            got = medians[name]
            if got is None:
                continue
            p = subprocess.run([sys.executable, "-c", _WARM.format(setup=setup, open=one,
                                                                   n=opens)],
                               env=_env(), capture_output=True, text=True)
            if p.returncode != 0:
                print(f"  failed: {one}: {p.stderr.strip().splitlines()[-1:]}",
                      file=sys.stderr)
                medians[name] = None
                continue
            got.append(float(p.stdout.strip().splitlines()[-1]) * 1e6)
    return {name: None if m is None else statistics.median(m) for name, m in medians.items()}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env


def _median_ms(body: str, runs: int) -> float | None:
    code = _TIMED.format(body=body)
    env = _env()
    times = []
    for i in range(runs + 1):  # the first run writes the bytecode caches: not counted
        p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        if p.returncode != 0:
            print(f"  failed: {body.splitlines()[0]}: {p.stderr.strip().splitlines()[-1:]}",
                  file=sys.stderr)
            return None
        if i:
            times.append(float(p.stdout.strip().splitlines()[-1]) * 1000)
    return statistics.median(times)


def _write_array(path: str) -> None:
    import exzarr as ez
    z = ez.create(path, shape=(1024, 1024), chunks=(256, 256), dtype="float32",
                  codecs=[{"name": "bytes", "configuration": {"endian": "little"}},
                          {"name": "zstd", "configuration": {"level": 1, "checksum": False}}])
    z[...] = np.arange(1024 * 1024, dtype="float32").reshape(1024, 1024)


def _write_sharded(path: str) -> None:
    import exzarr as ez
    z = ez.create(path, shape=(4096, 4096), chunks=(128, 128), shards=(1024, 1024),
                  dtype="float32",
                  compressor={"name": "zstd", "configuration": {"level": 1, "checksum": False}})
    z[:1024, :1024] = np.arange(1024 * 1024, dtype="float32").reshape(1024, 1024)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15, help="fresh processes per row (median)")
    ap.add_argument("--warm-runs", dest="warm_runs", type=int, default=5,
                    help="processes per warm open row (median of their medians)")
    ap.add_argument("--opens", type=int, default=300, help="timed opens per warm process")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="exzarr-import-")
    try:
        path = os.path.join(tmp, "a.zarr")
        _write_array(path)
        sharded = os.path.join(tmp, "s.zarr")
        _write_sharded(sharded)
        rows = {**_IMPORTS, **_open_snippets(path)}
        print(f"Python {platform.python_version()}, {os.cpu_count()} cores, "
              f"median of {args.runs} fresh processes (bytecode cached)\n")
        print("| what | median ms |\n|---|---:|")
        results: dict[str, float | None] = {}
        for name, body in rows.items():
            results[name] = ms = _median_ms(body, args.runs)
            print(f"| `{name}` | {'failed' if ms is None else f'{ms:.1f}'} |", flush=True)
        ez_open, ts_open = results["exzarr open + read"], results["tensorstore open + read"]
        if ez_open and ts_open:
            print(f"\nexzarr open + read / tensorstore open + read: {ez_open / ts_open:.2f}x")
        print(f"\nWarm open: median of {args.opens} opens per process, median of "
              f"{args.warm_runs} processes\n\n| what | median µs |\n|---|---:|")
        warm = _warm_medians_us(_warm_snippets({"chunked": path, "sharded": sharded}),
                                args.opens, args.warm_runs)
        for name, us in warm.items():
            results[name] = None if us is None else us / 1000
            print(f"| `{name}` | {'failed' if us is None else f'{us:.0f}'} |", flush=True)
        for label in ("chunked", "sharded"):
            ez_w = results[f"exzarr warm open, {label}"]
            ts_w = results[f"tensorstore warm open, {label}"]
            if ez_w and ts_w:
                print(f"\nexzarr / tensorstore warm open, {label}: {ez_w / ts_w:.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
