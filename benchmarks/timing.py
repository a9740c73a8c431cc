"""How many timed runs a benchmark worker makes of one operation (the local suite's
``worker.py`` and the cloud benchmark's worker share the rule)."""

from __future__ import annotations

from typing import Iterator


def runs(job: dict, times: list[float]) -> Iterator[int]:
    """Timed-run numbers for one worker: ``repeat`` runs, then more while the runs so far
    (``times``, which the caller appends to) took less than ``min_time`` seconds in all,
    ``max_repeat`` at most (short operations get more tries at a quiet moment of the
    machine; every engine by the same rule)."""
    k = 0
    while k < job["repeat"] or (sum(times) < job.get("min_time", 0.0)
                                and k < job.get("max_repeat", job["repeat"])):
        yield k
        k += 1
