"""Import and fresh-process ``open()`` cost: exzarr vs NumPy alone, zarr-python and tensorstore.

Each measurement is one fresh ``python -c`` process that times itself from just before its
first import to the end of the snippet (interpreter start-up is not counted); the median of
``--runs`` processes is reported.  Bytecode caching is switched on for the children (one
untimed warm-up process per row writes the ``.pyc`` files), as in an installed package.

The ``open + read`` rows open a local v3 zstd array (1024x1024 float32, 256x256 chunks,
written once by this script) and read its first chunk.  A measurement, not a test: nothing
asserts on timings.

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15, help="fresh processes per row (median)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="exzarr-import-")
    try:
        path = os.path.join(tmp, "a.zarr")
        _write_array(path)
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
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
