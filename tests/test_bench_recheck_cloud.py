"""benchmarks/cloud.py --recheck: the cloud headline's rows behind
(report_cloud.behind) are run again with their best other engine taking turns in one
process, against a server of their own (benchmarks/cloud_paired.py --json), and cloud.md
shows each re-check beside the verdict.  Never timings: only that the rows behind are
found, re-run (every read checked) and reported, and that a failed re-check says so."""

import sys
from argparse import Namespace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import report_cloud  # noqa: E402
from test_bench_report_cloud import _meta, _op  # noqa: E402  (the report test's figures)


def _cases(*names):
    import cloud
    return cloud.select(cloud.make_cases(512, 128, 50), ",".join(names))


def _result(engine, case, **ops):
    return {"case": case, "engine": engine, "status": "ok",
            "ops": {op: _op([t, t * 1.1], [t]) for op, t in ops.items()}}


def test_behind_names_each_row_behind_its_best_other_engine():
    cases = _cases("chunked.read", "chunked.open", "sharded.read")
    results = [_result("exzarr", "chunked", read=0.10, open=0.010),
               _result("exzarr-s3fs", "chunked", read=0.05, open=0.005),  # not an anchor
               _result("zarr-obstore", "chunked", read=0.08, open=0.020),
               _result("tensorstore", "chunked", read=0.09, open=0.009),
               _result("exzarr", "sharded", read=0.10)]                    # no other ran it
    engines = ["exzarr", "exzarr-s3fs", "zarr-obstore", "tensorstore"]
    rows = report_cloud.behind(cases, results, engines)
    assert [(n, a) for n, a, _ in rows] == [("chunked.open", "tensorstore"),
                                            ("chunked.read", "zarr-obstore")]
    assert [r for _, _, r in rows] == pytest.approx([10 / 9, 1.25])


def test_render_shows_the_rechecks_after_the_headline():
    cases = _cases("chunked.read")
    results = [_result("exzarr", "chunked", read=0.10),
               _result("zarr-obstore", "chunked", read=0.08)]
    summary = {"workload": "chunked.read", "runs": 4, "threads": 2,
               "best": {"exzarr": 0.101, "zarr-obstore": 0.099},
               "paired": {"zarr-obstore": {"pairs": 4, "median": 0.917, "q1": 0.9,
                                           "q3": 0.95, "wins": 3}}}
    rechecks = [{"workload": "chunked.read", "anchor": "zarr-obstore", "ratio": 1.25,
                 "summary": summary, "command": "python benchmarks/cloud_paired.py x"}]
    md = report_cloud.render(cases, results, _meta(), rechecks)
    assert md.index("## Headline") < md.index("## Rows behind or close, taking turns") \
        < md.index("## Speed relative to exzarr")
    assert "| chunked.read | zarr-python (obstore) | 1.25 | 0.917 (0.900-0.950) | 3 of 4 | " \
           "101 ms / 99 ms |" in md
    assert "## Rows behind" not in report_cloud.render(cases, results, _meta())


def test_recheck_runs_cloud_paired_for_each_row_behind():
    pytest.importorskip("moto")
    pytest.importorskip("s3fs")
    import cloud

    cases = _cases("sharded.read")
    results = [_result("exzarr", "sharded", read=9.0), _result("zarr-fsspec", "sharded", read=1.0)]
    args = Namespace(recheck=2, recheck_within=0.0, engines=["exzarr", "zarr-fsspec"], threads=2, n=512, chunk=128,
                     points=50, latency=0.0, jitter=False, timeout=300)
    said = []
    rechecks = cloud.recheck(cases, results, args, said.append)
    assert len(rechecks) == 1
    rc = rechecks[0]
    assert (rc["workload"], rc["anchor"], rc["ratio"]) == ("sharded.read", "zarr-fsspec", 9.0)
    assert "error" not in rc, rc
    assert rc["summary"]["workload"] == "sharded.read"
    paired = rc["summary"]["paired"]["zarr-fsspec"]
    assert paired["pairs"] == 2 and 0 <= paired["wins"] <= 2 and paired["median"] > 0
    assert rc["command"].startswith(
        "python benchmarks/cloud_paired.py sharded.read --engines exzarr,zarr-fsspec --pairs 2")
    assert any("re-checking sharded.read" in s for s in said)
    md = report_cloud.render(cases, results, {**_meta(), "engines": args.engines}, rechecks)
    assert "| sharded.read | zarr-python (fsspec/s3fs) | 9.00 |" in md


def test_recheck_off_or_nothing_behind_runs_nothing():
    import cloud

    cases = _cases("sharded.read")
    args = Namespace(recheck=2, recheck_within=0.0, engines=["exzarr", "zarr-fsspec"], threads=2, n=512, chunk=128,
                     points=50, latency=0.0, jitter=False, timeout=5)
    ahead = [_result("exzarr", "sharded", read=1.0), _result("zarr-fsspec", "sharded", read=2.0)]
    assert cloud.recheck(cases, ahead, args, print) == []
    behind = [_result("exzarr", "sharded", read=2.0), _result("zarr-fsspec", "sharded", read=1.0)]
    assert cloud.recheck(cases, behind, Namespace(**{**vars(args), "recheck": 0}), print) == []


def test_a_failed_recheck_says_why(monkeypatch):
    import cloud

    cases = _cases("sharded.read")
    behind = [_result("exzarr", "sharded", read=2.0), _result("zarr-fsspec", "sharded", read=1.0)]
    args = Namespace(recheck=2, recheck_within=0.0, engines=["exzarr", "zarr-fsspec"], threads=2, n=512, chunk=128,
                     points=50, latency=0.0, jitter=False, timeout=300)
    # a workload cloud_paired does not know: it exits with an error, which the re-check keeps
    monkeypatch.setattr(report_cloud, "behind", lambda *a: [("sharded.nothing", "zarr-fsspec", 2.0)])
    (rc,) = cloud.recheck(cases, behind, args, print)
    assert "summary" not in rc and rc["error"].startswith("exit status ")
    assert "unknown workload" in rc["error"]
    md = report_cloud.render(cases, behind, {**_meta(), "engines": args.engines}, [rc])
    assert "failed: exit status" in md


def test_close_rows_are_rechecked_too_and_the_section_says_how_close():
    cases = _cases("chunked.read", "chunked.open")
    results = [_result("exzarr", "chunked", read=0.099, open=0.010),
               _result("tensorstore", "chunked", read=0.100, open=0.020)]
    engines = ["exzarr", "tensorstore"]
    assert report_cloud.behind(cases, results, engines) == []
    (row,) = report_cloud.behind(cases, results, engines, within=0.02)   # 0.99 > 0.98
    assert row[:2] == ("chunked.read", "tensorstore")
    summary = {"best": {"exzarr": 0.1, "tensorstore": 0.1},
               "paired": {"tensorstore": {"pairs": 2, "median": 1.0, "q1": 1.0, "q3": 1.0,
                                          "wins": 1}}}
    md = report_cloud.render(cases, results, {**_meta(), "engines": engines, "recheck_within": 0.02},
                             [{"workload": "chunked.read", "anchor": "tensorstore",
                               "ratio": row[2], "summary": summary, "command": "x"}])
    assert "or within 2 % of it (ratio above 0.98" in md
