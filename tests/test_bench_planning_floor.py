"""benchmarks/planning_floor.py: the jobs one sharded region read makes, replayed, redo
the whole read (the replay is checked against a fresh read inside the script), both are
timed, and a read's serial parts too.  Never timings: only that the diagnostic runs and
measures them."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from exzarr.kernels import jit  # noqa: E402

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="compiled kernels off")


def test_replays_the_reads_jobs_and_times_both(tmp_path, capsys):
    import planning_floor

    times = planning_floor.main(["--quick", "--runs", "2", "--dir", str(tmp_path)])
    assert sorted(times) == ["after", "before", "first jobs", "kernel", "read"]
    assert all(len(v) == 2 and min(v) > 0 for v in times.values())
    out = capsys.readouterr().out
    assert "planning in Python" in out and "serial parts" in out and "2048x2048" in out
