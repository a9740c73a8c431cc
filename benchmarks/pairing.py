"""Engines taking turns: the summary of paired runs, shared by ``paired.py`` (local) and
``cloud_paired.py`` (S3), and the re-check of a suite's rows behind that ``run.py`` and
``cloud.py`` make with them."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from numba_cache import use_numba_cache


def pair_summary(ta: list[float], tb: list[float]) -> dict:
    """The paired ratios run by run (A's time over B's, taking turns): their median and
    quartiles, and in how many pairs A was faster."""
    ratios = sorted(x / y for x, y in zip(ta, tb))
    q = len(ratios)
    return {"pairs": q, "median": statistics.median(ratios), "q1": ratios[q // 4],
            "q3": ratios[(3 * q) // 4], "wins": sum(x < 1 for x in ratios)}


def run_recheck(script: Path, args: list[str], parent: str, timeout: float,
                store_dir: bool = False, pick: Callable[[Any], dict] | None = None) -> dict:
    """Run ``script`` (a paired tool) with ``args`` and ``--json`` into a temporary folder
    under ``parent`` (also its stores' folder, ``--dir``, with ``store_dir``), as a child
    process: ``{"summary": what it wrote}`` (``pick(what it wrote)`` with ``pick``), or
    ``{"error": why not}`` (a timeout, or a non-zero exit, e.g. wrong data, with its last
    line)."""
    with tempfile.TemporaryDirectory(dir=parent) as tmp:
        summary = Path(tmp) / "summary.json"
        env = dict(os.environ)
        use_numba_cache(env)
        extra = ["--dir", tmp] if store_dir else []
        try:
            p = subprocess.run([sys.executable, str(script), *args, *extra,
                                "--json", str(summary)], capture_output=True, text=True,
                               timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:.0f} s"}
        if p.returncode == 0 and summary.exists():
            found = json.loads(summary.read_text())
            return {"summary": pick(found) if pick else found}
        last = (p.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit status {p.returncode}: {last}"}


def recheck_rows(rows: list[tuple[str, str, float]], script: Path,
                 make_args: Callable[[str, str], list[str]], labels: dict[str, str],
                 parent: str, timeout: float, log: Callable[[str], object],
                 store_dir: bool = False,
                 pick: Callable[[Any], dict] | None = None) -> list[dict]:
    """Each row behind, ``(workload, anchor, ratio)``, run again by ``script`` with
    ``make_args(workload, anchor)``, taking turns with that anchor: per row its
    ``workload``, ``anchor``, ``ratio``, ``command`` and the tool's ``summary`` or an
    ``error`` (what ``report.render_rechecks`` shows); ``store_dir`` and ``pick`` as
    :func:`run_recheck`'s."""
    out: list[dict] = []
    for name, anchor, ratio in rows:
        args = make_args(name, anchor)
        rc: dict = {"workload": name, "anchor": anchor, "ratio": ratio,
                    "command": f"python benchmarks/{script.name} " + " ".join(args)}
        log(f"  re-checking {name} against {labels[anchor]}, taking turns: {rc['command']}")
        rc.update(run_recheck(script, args, parent, timeout, store_dir, pick))
        if "summary" in rc:
            pr = rc["summary"]["paired"][anchor]
            log(f"    median {pr['median']:.3f}, exzarr faster in {pr['wins']} of {pr['pairs']}")
        else:
            log(f"    {rc['error']}")
        out.append(rc)
    return out
