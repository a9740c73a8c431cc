"""benchmarks/report_cloud.py: the cloud headline's ratio is of the fastest runs, its
per-round spread pairs rounds, and its medians column is exzarr's median run over the
fastest other engine's, as in the local report."""

import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import report_cloud  # noqa: E402


def _op(times, rounds):
    return {"status": "ok", "round_best": rounds,
            "runs": [{"time": t, "requests": 10, "bytes_down": 4 << 20, "bytes_up": 1000,
                      "by_kind": {"GET": 10}} for t in times]}


def _meta():
    return {"command": "python benchmarks/cloud.py", "date": "2026-12-06 22:00 UTC",
            "elapsed_s": 10.0, "load": ("0.1", "0.2"), "versions": {"exzarr": "0.1"},
            "machine": {"cores": 2, "cpu": "test", "os": "Linux", "python": "3.11",
                        "numpy": "2.4", "mem_bytes": 1 << 34},
            "rounds": 2, "repeat": 2, "threads": 2, "engines": ["exzarr", "zarr-obstore"]}


def test_cloud_headline_ratio_spread_and_medians():
    case = SimpleNamespace(name="chunked", n=4096, chunk=128, shard=None, ops=("read",),
                           region=(), npoints=1000, opens=20, describe=lambda: "layout")
    results = [{"case": "chunked", "engine": "exzarr", "status": "ok",
                "ops": {"read": _op([0.11, 0.10, 0.12, 0.13], [0.10, 0.12])}},
               {"case": "chunked", "engine": "zarr-obstore", "status": "ok",
                "ops": {"read": _op([0.09, 0.20, 0.21, 0.22], [0.09, 0.21])}}]
    md = report_cloud.render([case], results, _meta())
    row = next(line for line in md.splitlines() if line.startswith("| chunked.read |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # fastest runs: 0.10 / 0.09; per round: 0.10/0.09 and 0.12/0.21; medians 0.115/0.205
    assert cells[5] == "**1.11**"
    assert cells[6] == "0.57-1.11, 1 of 2"
    assert cells[7] == "0.56"
    assert cells[8] == "exzarr 1.11x slower"
    assert "medians: exzarr's median timed run" in md


def test_cloud_medians_need_runs_of_both():
    assert report_cloud.run_times(None) is None
    assert report_cloud.run_times({"status": "error"}) == {"status": "error", "times": []}
