"""benchmarks/report.py: the headline's ratio is of the fastest runs, its per-round spread
pairs rounds, and its medians column is exzarr's median run over the same anchor's."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import report  # noqa: E402
import workloads as W  # noqa: E402


def _result(engine, times, rounds):
    return {"engine": engine, "workload": "zstd.read", "phase": "measure", "status": "ok",
            "times": times, "round_best": rounds, "rounds": len(rounds), "wall_s": 1.0,
            "versions": {engine: "1"}, "mem": {"delta": 1 << 20, "base": 0, "peak": 1 << 20,
                                              "reset": True}}


def _meta():
    return {"command": "python benchmarks/run.py", "date": "2026-12-06 19:00 UTC",
            "machine": {"cores": 2, "cpu": "test", "os": "Linux", "python": "3.11",
                        "numpy": "2.4", "mem_bytes": 1 << 34},
            "threads": 2, "repeat": 3, "rounds": 2, "min_time": 0.5, "max_repeat": 12,
            "quick": False, "versions": {"exzarr": {"exzarr": "0.1"}, "zarrs": {"zarrs": "1"}},
            "unavailable": {}, "engines": ["exzarr", "zarrs"], "elapsed_s": 10.0,
            "store_dir": "/tmp (ext4)", "load": ("0.1", "0.2")}


def test_headline_ratio_spread_and_medians():
    w = next(x for x in W.make_workloads(False) if x.name == "zstd.read")
    results = [_result("exzarr", [0.11, 0.10, 0.12, 0.13], [0.10, 0.12]),
               _result("zarrs", [0.09, 0.20, 0.21, 0.22], [0.09, 0.21])]
    md = report.render([w], results, _meta(), {})
    row = next(line for line in md.splitlines() if line.startswith("| zstd.read |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # fastest runs: 0.10 / 0.09; per round: 0.10/0.09 and 0.12/0.21; medians 0.115/0.205
    assert cells[3] == "**1.11**"
    assert cells[4] == "0.57-1.11, 1 of 2"
    assert cells[5] == "0.56"
    assert cells[6] == "exzarr 1.11x slower"
    assert "medians: exzarr's median timed run" in md


def test_medians_column_says_nothing_without_runs():
    assert report.median_ratio({"status": "ok", "times": [0.1]}, None) == "–"
    assert report.median_ratio({"status": "error", "times": [0.1]},
                               {"status": "ok", "times": [0.1]}) == "–"
