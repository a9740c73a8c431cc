"""benchmarks/timing.py (how many timed runs a benchmark worker makes) and
benchmarks/cloud_paired.py's summary of paired runs."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import timing  # noqa: E402


def _count(job, took):
    times: list[float] = []
    n = 0
    for _ in timing.runs(job, times):
        times.append(took)
        n += 1
    return n


def test_runs_repeat_then_more_while_short_up_to_the_cap():
    job = {"repeat": 3, "min_time": 1.0, "max_repeat": 12}
    assert _count(job, 2.5) == 3          # long: --repeat runs only
    assert _count(job, 0.125) == 8        # short: until 1 s in all
    assert _count(job, 0.01) == 12        # very short: the cap
    assert _count({"repeat": 2}, 0.01) == 2   # no min_time: --repeat runs


def test_paired_summary_ratios_and_wins():
    import cloud_paired
    runs = {"exzarr": [{"time": t, "cpu": 0.1, "server_cpu": 0.2, "requests": 4}
                       for t in (1.0, 2.0, 3.0, 4.0)],
            "tensorstore": [{"time": t, "cpu": 0.1, "requests": 4}
                            for t in (2.0, 2.0, 2.0, 2.0)]}
    lines = cloud_paired.compare(runs, ["exzarr", "tensorstore"])
    assert "best   1000.00 ms" in lines[0] and "median   2500.00 ms" in lines[0]
    assert "server CPU    200.0 ms" in lines[0]
    assert "server CPU      0.0 ms" in lines[1]         # not measured: 0
    assert lines[2] == ("  exzarr time / tensorstore time: median 1.250 (quartiles "
                        "1.000-2.000); exzarr faster in 1 of 4 pairs")
