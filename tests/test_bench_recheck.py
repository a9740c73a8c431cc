"""benchmarks/run.py --recheck: the headline's rows behind (report.behind) are run again
with their best anchor taking turns in one process (benchmarks/paired.py --json), and the
report shows each re-check beside the verdict.  Never timings: only that the rows behind
are found, re-run and reported, and that a failed re-check says so."""

import sys
from argparse import Namespace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import report  # noqa: E402
import workloads as W  # noqa: E402

from exzarr.kernels import jit  # noqa: E402
from test_bench_report import _meta  # noqa: E402  (the report's test metadata)


def _result(engine, workload, t):
    return {"engine": engine, "workload": workload, "phase": "measure", "status": "ok",
            "times": [t, t * 1.1], "round_best": [t], "rounds": 1, "wall_s": 1.0,
            "versions": {engine: "1"}}


def _quick(*names):
    return [w for w in W.make_workloads(True) if w.name in names]


def test_behind_names_each_row_behind_its_best_anchor():
    wls = _quick("zstd.read", "zstd.points", "zstd.region")
    results = [_result("exzarr", "zstd.read", 0.10), _result("zarr", "zstd.read", 0.20),
               _result("zarrs", "zstd.read", 0.08),          # behind zarrs: 1.25
               _result("exzarr", "zstd.points", 0.10), _result("zarrs", "zstd.points", 0.12),
               _result("exzarr", "zstd.region", 0.10)]        # no anchor ran it
    rows = report.behind(wls, results, ["exzarr", "zarr", "zarrs"])
    assert [(n, a) for n, a, _ in rows] == [("zstd.read", "zarrs")]
    assert rows[0][2] == pytest.approx(1.25)
    assert report.best_anchor({(r["workload"], r["engine"]): r for r in results},
                              "zstd.read", ["zarr", "zarrs"]) == (0.08, "zarrs")
    # within 20 %, zstd.points (0.10 against zarrs' 0.12: 0.83, above 0.80) joins; not
    # within 10 %
    close = report.behind(wls, results, ["exzarr", "zarr", "zarrs"], within=0.2)
    assert [(n, a) for n, a, _ in close] == [("zstd.read", "zarrs"), ("zstd.points", "zarrs")]
    assert report.behind(wls, results, ["exzarr", "zarr", "zarrs"], within=0.1) == rows


def test_render_rechecks_shows_the_paired_figures_and_failures():
    summary = {"workload": "zstd.read", "runs": 4, "threads": 2,
               "best": {"exzarr": 0.101, "zarrs": 0.099},
               "median": {"exzarr": 0.11, "zarrs": 0.12}, "cpu_median": {},
               "paired": {"zarrs": {"pairs": 4, "median": 0.917, "q1": 0.9, "q3": 0.95,
                                    "wins": 3}}}
    lines = report.render_rechecks([
        {"workload": "zstd.read", "anchor": "zarrs", "ratio": 1.02, "summary": summary,
         "command": "python benchmarks/paired.py zstd.read --engines exzarr,zarrs"},
        {"workload": "raw.write", "anchor": "zarrs", "ratio": 1.09, "error": "exit status 1: x",
         "command": "python benchmarks/paired.py raw.write --engines exzarr,zarrs"}])
    assert lines[0].startswith("## Rows behind or close, taking turns")
    rows = [line for line in lines if line.startswith("| zstd.read") or line.startswith("| raw")]
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert cells[:6] == ["zstd.read", "zarr-python+zarrs", "1.02", "0.917 (0.900-0.950)",
                         "3 of 4", "101 ms / 99 ms"]
    assert "failed: exit status 1: x" in rows[1]


@pytest.mark.skipif(not jit.enabled(), reason="compiled kernels off")
def test_recheck_runs_paired_for_each_row_behind(tmp_path):
    import run

    wls = _quick("zstd.points")
    results = [_result("exzarr", "zstd.points", 9.0), _result("zarr", "zstd.points", 1.0)]
    args = Namespace(recheck=2, recheck_within=0.0, engines=["exzarr", "zarr"], threads=2,
                     quick=True, timeout=300)
    said = []
    rechecks = run.recheck(wls, results, args, str(tmp_path), said.append)
    assert len(rechecks) == 1
    rc = rechecks[0]
    assert (rc["workload"], rc["anchor"], rc["ratio"]) == ("zstd.points", "zarr", 9.0)
    assert "error" not in rc, rc
    paired = rc["summary"]["paired"]["zarr"]
    assert paired["pairs"] == 2 and 0 <= paired["wins"] <= 2 and paired["median"] > 0
    assert rc["command"].startswith("python benchmarks/paired.py zstd.points --engines exzarr,zarr")
    assert any("re-checking zstd.points" in s for s in said)
    meta = {**_meta(), "engines": ["exzarr", "zarr"], "quick": True,
            "versions": {"exzarr": {"exzarr": "0.1"}, "zarr": {"zarr": "3"}}}
    md = report.render(wls, results, meta, {}, rechecks=rechecks)
    assert "## Rows behind or close, taking turns" in md and "| zstd.points | zarr-python | 9.00 |" in md
    assert list(tmp_path.iterdir()) == []  # paired.py's stores removed


def test_recheck_off_or_nothing_behind_runs_nothing(tmp_path):
    import run

    wls = _quick("zstd.points")
    ahead = [_result("exzarr", "zstd.points", 1.0), _result("zarr", "zstd.points", 2.0)]
    args = Namespace(recheck=2, recheck_within=0.0, engines=["exzarr", "zarr"], threads=2,
                     quick=True, timeout=5)
    assert run.recheck(wls, ahead, args, str(tmp_path), print) == []
    behind = [_result("exzarr", "zstd.points", 2.0), _result("zarr", "zstd.points", 1.0)]
    assert run.recheck(wls, behind, Namespace(**{**vars(args), "recheck": 0}),
                       str(tmp_path), print) == []

