"""benchmarks/run.py: the order of the workers.  Each round is a sweep over every
workload (every engine once per workload, the engines' order rotated from round to
round), so one engine's workers of one workload are a whole sweep apart and a slow spell
of the machine lasting seconds falls on at most one of them.  Never timings."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from run import sweeps  # noqa: E402


def test_each_round_is_a_sweep_over_every_workload_with_the_engines_rotated():
    order = list(sweeps([("a", ["x", "y", "z"]), ("b", ["x", "y", "z"])], 3))
    assert order == [
        (0, "a", "x"), (0, "a", "y"), (0, "a", "z"), (0, "b", "x"), (0, "b", "y"), (0, "b", "z"),
        (1, "a", "y"), (1, "a", "z"), (1, "a", "x"), (1, "b", "y"), (1, "b", "z"), (1, "b", "x"),
        (2, "a", "z"), (2, "a", "x"), (2, "a", "y"), (2, "b", "z"), (2, "b", "x"), (2, "b", "y")]


def test_one_engines_workers_of_a_workload_are_a_sweep_apart():
    work = [(f"w{i}", ["x", "y"]) for i in range(5)]
    order = list(sweeps(work, 4))
    assert len(order) == 5 * 2 * 4
    for name, engines in work:
        for e in engines:
            at = [i for i, (_, n, x) in enumerate(order) if (n, x) == (name, e)]
            assert len(at) == 4  # one worker per round
            # at least every other workload's workers run between two of them
            assert all(b - a >= 2 * (len(work) - 1) for a, b in zip(at, at[1:]))


def test_a_workload_without_engines_runs_nothing_and_others_still_run():
    assert list(sweeps([("a", []), ("b", ["x"])], 2)) == [(0, "b", "x"), (1, "b", "x")]
