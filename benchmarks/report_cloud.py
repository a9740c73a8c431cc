"""Markdown report of the cloud benchmark (``cloud.py``): time, requests and bytes per
workload and engine, and speed ratios engine / exzarr (as ``report.py`` does locally)."""

from __future__ import annotations

import numpy as np

from engines.cloud_s3 import CLOUD_LABELS
from report import (MEDIAN_TEXT, SPREAD_TEXT, fmt_time, median_ratio, render_rechecks,
                    round_spread)

OP_TEXT = {"write": "full write", "open": "open (metadata)", "read": "full read",
           "region": "region read", "points": "single-element reads"}


def best_run(o: dict | None) -> dict | None:
    if not o or o.get("status") != "ok" or not o.get("runs"):
        return None
    return min(o["runs"], key=lambda r: r["time"])


def run_times(o: dict | None) -> dict | None:
    """An operation's result as :func:`report.median_ratio` reads one: its status and the
    times of all its runs."""
    if not o:
        return None
    return {"status": o.get("status"), "times": [r["time"] for r in o.get("runs") or []]}


def cpu_text(run: dict, name: str = "cpu") -> str:
    """A CPU time of one run: the client's (``cpu``), the S3 server's (``server_cpu``) or
    the proxy's (``proxy_cpu``); older results have none."""
    return fmt_time(run[name]) if name in run else "–"


def describe(case, op) -> str:
    if op == "region":
        (r0, r1), (c0, c1) = case.region
        return f"region read [{r0}:{r1}, {c0}:{c1}]"
    if op == "points":
        return f"{case.npoints} single-element reads at random positions (seed 1), one call each"
    if op == "open" and getattr(case, "opens", 1) > 1:
        return f"{OP_TEXT[op]}, per open: {case.opens} opens in a row per timed run"
    return OP_TEXT[op]


def nbytes(case, op) -> int | None:
    if op in ("write", "read"):
        return case.n * case.n * 4
    if op == "region":
        (r0, r1), (c0, c1) = case.region
        return (r1 - r0) * (c1 - c0) * 4
    return None


def primary(case, op, t) -> str:
    if op == "points":
        return f"{fmt_time(t / case.npoints)}/op"
    nb = nbytes(case, op)
    return f"{fmt_time(t)} ({nb / t / 1e6:.0f} MB/s)" if nb else fmt_time(t)


def fmt_mb(b: int) -> str:
    return f"{b / 1e6:.2f}" if b < 10e6 else f"{b / 1e6:.1f}"


def fmt_count(v) -> str:
    """A request count: whole, or per operation (``cloud.per_op``) with two decimals."""
    return str(v) if isinstance(v, int) else f"{v:.2f}"


def kinds(run) -> str:
    return ", ".join(f"{k} {fmt_count(v)}" for k, v in sorted(run.get("by_kind", {}).items()))


def runs_text(o) -> str:
    """Every run's time, or for more than :data:`RUNS_LISTED` of them their count, the
    fastest, the median and the slowest."""
    t = [x["time"] for x in o["runs"]]
    if len(t) <= RUNS_LISTED:
        return ", ".join(f"{x:.3g}" for x in t)
    return (f"{len(t)} runs: fastest {min(t):.3g}, median {float(np.median(t)):.3g}, "
            f"slowest {max(t):.3g}")


#: the most runs listed one by one in the table of all measurements
RUNS_LISTED = 9


def status_text(o) -> str:
    return {"unavailable": "n/a", "wrong": "**WRONG DATA**", "error": "**ERROR**"}.get(
        (o or {}).get("status", ""), "–")


def progress_lines(case, engine, r) -> list[str]:
    head = f"{case.name:8s} {CLOUD_LABELS[engine]:26s}"
    if r.get("status") != "ok":
        return [f"{head} {r.get('status', '?').upper()}: {r.get('error', '')}"]
    lines = []
    for op, o in r["ops"].items():
        b = best_run(o)
        if b is None:
            lines.append(f"{head} {op:7s} {o['status'].upper()}: {o.get('error', '')}")
        else:
            lines.append(f"{head} {op:7s} {primary(case, op, b['time']):>22s}  "
                         f"{fmt_count(b['requests']):>5} req  down {fmt_mb(b['bytes_down'])} MB  "
                         f"up {fmt_mb(b['bytes_up'])} MB  [{kinds(b)}]")
    return lines


def anchors_of(engines: list[str]) -> list[str]:
    """The other libraries: exzarr's own variants (e.g. exzarr-s3fs) are not anchors."""
    return [e for e in engines if not e.startswith("exzarr")]


def op_finder(results: list[dict]):
    """``op_of(case, op, engine)``: that engine's result for that operation (its failure
    where the whole worker failed; None where it did not run)."""
    by = {(r.get("case"), r["engine"]): r for r in results}

    def op_of(c, op, e):
        r = by.get((c.name, e))
        if r is None:
            return None
        if r.get("status") != "ok":
            return {"status": r.get("status"), "error": r.get("error")}
        return r["ops"].get(op)
    return op_of


def best_other(op_of, c, op, anchors: list[str]) -> tuple[dict, str] | None:
    """(fastest run, engine) of the anchor that ran ``c.op`` fastest; None if none did."""
    cand = [(b, e) for b, e in ((best_run(op_of(c, op, e)), e) for e in anchors)
            if b is not None]
    return min(cand, key=lambda x: x[0]["time"]) if cand else None


def behind(cases, results, engines: list[str],
           within: float = 0.0) -> list[tuple[str, str, float]]:
    """The headline's rows behind, and with ``within`` those that close to it:
    (``<layout>.<op>``, its best other engine, exzarr time / that engine's) for every row
    where that ratio is above 1 - ``within``."""
    op_of, anchors, out = op_finder(results), anchors_of(engines), []
    for c in cases:
        for op in c.ops:
            bx = best_run(op_of(c, op, "exzarr"))
            top = best_other(op_of, c, op, anchors)
            if bx is not None and top is not None and bx["time"] / top[0]["time"] > 1.0 - within:
                out.append((f"{c.name}.{op}", top[1], bx["time"] / top[0]["time"]))
    return out


RECHECK_TEXT = ("Each row behind in the headline{close}, run again right after the rounds "
                "with its best other engine taking turns in one process, against a server of its own "
                "(`benchmarks/cloud_paired.py`: A B, B A, ...; every read checked and every "
                "first write read back): the median over runs of exzarr's time / the other's, "
                "its quartiles, and in how many pairs exzarr was faster; the fastest runs are "
                "per open for `open`, and all the reads of a run for `points`. For context "
                "beside the verdict, which stays the headline's: the fresh-worker rounds are "
                "the reference.")


def render(cases, results, meta, rechecks: list[dict] | None = None) -> str:
    """The report; ``rechecks``: the rows behind (or close: ``meta["recheck_within"]``) run
    again (:func:`pairing.recheck_rows`), shown after the headline when given."""
    engines = meta["engines"]
    anchors = anchors_of(engines)
    rows = [(c, op) for c in cases for op in c.ops]
    op_of = op_finder(results)

    m = meta["machine"]
    L = ["# exzarr cloud benchmark: S3 (moto) behind a counting proxy\n"]
    L.append(f"- Command: `{meta['command']}`")
    L.append(f"- Date: {meta['date']}; total run time {meta['elapsed_s']:.0f} s")
    mem = f", {m['mem_bytes'] / 2**30:.0f} GiB RAM" if m.get("mem_bytes") else ""
    L.append(f"- Machine: {m['cores']} cores ({m['cpu']}){mem}, {m['os']}; Python "
             f"{m['python']}, NumPy {m['numpy']}; load average (1/5/15 min) at start "
             f"{meta['load'][0]}, at end {meta['load'][1]}")
    L.append("- Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))
    rounds = meta.get("rounds", 1)
    per_worker = f"{meta['repeat']} timed run(s) per worker"
    if meta.get("min_time"):
        per_worker += (f", more while they took under {meta['min_time']:g} s in all, up to "
                       f"{meta['max_repeat']}")
    L.append(f"- Threads: {meta['threads']} CPU threads for every engine; each engine's own "
             f"default I/O concurrency; the fastest of all timed runs ({rounds} round(s), "
             f"each running every engine once in a fresh worker, in rotated order; "
             f"{per_worker}), requests and bytes of that run")
    if meta.get("latency_ms"):
        how = (f"on average {meta['latency_ms']:g} ms (drawn from an exponential "
               f"distribution, capped at 10x: `--jitter`)" if meta.get("jitter")
               else f"{meta['latency_ms']:g} ms")
        L.append(f"- Latency: every request waited {how} in the proxy before it went on to "
                 f"the server (`--latency`), like a network's round trip; requests in "
                 f"flight wait side by side")
    for r in results:
        if r.get("status") == "unavailable":
            L.append(f"- {CLOUD_LABELS[r['engine']]} ({r.get('case')}): not run ({r.get('error')})")
    L.append("")

    if "exzarr" in engines and anchors:
        L.append("## Headline: exzarr vs the best of the others\n")
        L.append("ratio = exzarr time / best other time: **> 1 means exzarr is behind**; "
                 "<= 1 means the target (exzarr at or above the best of them) is met; "
                 + SPREAD_TEXT + " " + MEDIAN_TEXT + "\n")
        L.append("| workload | exzarr | requests | best other | requests | other / exzarr | "
                 "per round | medians | |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for c, op in rows:
            bx = best_run(op_of(c, op, "exzarr"))
            top = best_other(op_of, c, op, anchors)
            if top is None:
                continue
            ba, ea = top
            other = f"{primary(c, op, ba['time'])} ({CLOUD_LABELS[ea]})"
            if bx is None:
                L.append(f"| {c.name}.{op} | {status_text(op_of(c, op, 'exzarr'))} | | "
                         f"{other} | {fmt_count(ba['requests'])} | – | – | – | |")
                continue
            ratio = bx["time"] / ba["time"]
            verdict = (f"exzarr {ratio:.2f}x slower" if ratio > 1
                       else f"met (exzarr {1 / ratio:.2f}x faster)")
            star = "**" if ratio > 1 else ""
            L.append(f"| {c.name}.{op} | {primary(c, op, bx['time'])} | {fmt_count(bx['requests'])} | "
                     f"{other} | {fmt_count(ba['requests'])} | {star}{ratio:.2f}{star} | "
                     f"{round_spread(op_of(c, op, 'exzarr'), op_of(c, op, ea))} | "
                     f"{median_ratio(run_times(op_of(c, op, 'exzarr')), run_times(op_of(c, op, ea)))} | "
                     f"{verdict} |")
        L.append("")
        if rechecks:
            L.extend(render_rechecks(rechecks, CLOUD_LABELS, RECHECK_TEXT,
                                     meta.get("recheck_within", 0.0)))

        L.append("## Speed relative to exzarr (engine / exzarr = exzarr time / engine time; "
                 "> 1 = engine faster)\n")
        L.append("| workload | " + " | ".join(CLOUD_LABELS[e] for e in anchors) + " |")
        L.append("|---|" + "---:|" * len(anchors))
        for c, op in rows:
            bx = best_run(op_of(c, op, "exzarr"))
            cells = []
            for e in anchors:
                o = op_of(c, op, e)
                b = best_run(o)
                cells.append(f"{bx['time'] / b['time']:.2f}" if (b and bx) else status_text(o))
            L.append(f"| {c.name}.{op} | " + " | ".join(cells) + " |")
        L.append("")

    L.append("## All measurements\n")
    L.append("Requests and bytes are counted by the proxy on the client side of the wire: "
             "request line + headers + body up, status line + headers + body down (1 MB = "
             "10^6 bytes). `GET range` = GET with a `Range` header, `LIST` = bucket listing. "
             "Client CPU = CPU time (user + system, all threads) of the engine's process "
             "during that run: what it took from the cores it shares with the server and "
             "the proxy. Server CPU = the same of moto's process (counted in clock ticks "
             "of 10 ms), proxy CPU of the benchmark's own process (the proxy). Where the "
             "server's CPU is close to the time, the run waited on the server, whichever "
             "engine made the requests. Opens are per open (see Workloads).\n")
    L.append("| workload | engine | time | requests | MB down | MB up | request kinds | "
             "client CPU | server CPU | proxy CPU | vs exzarr | runs (s) |")
    L.append("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|")
    for c, op in rows:
        bx = best_run(op_of(c, op, "exzarr"))
        for e in engines:
            o = op_of(c, op, e)
            if o is None:
                continue
            b = best_run(o)
            if b is None:
                why = (o.get("error") or "").replace("|", "/").replace("\n", " ")[:200]
                L.append(f"| {c.name}.{op} | {CLOUD_LABELS[e]} | {status_text(o)} | | | | | | | "
                         f"| | {why} |")
                continue
            rel = f"{bx['time'] / b['time']:.2f}" if bx else "–"
            L.append(f"| {c.name}.{op} | {CLOUD_LABELS[e]} | {primary(c, op, b['time'])} | "
                     f"{fmt_count(b['requests'])} | {fmt_mb(b['bytes_down'])} | {fmt_mb(b['bytes_up'])} | "
                     f"{kinds(b)} | {cpu_text(b)} | {cpu_text(b, 'server_cpu')} | "
                     f"{cpu_text(b, 'proxy_cpu')} | {rel} | "
                     f"{runs_text(o)} |")
    L.append("")

    L.append("## Workloads\n")
    L.append("| workload | operation | layout |")
    L.append("|---|---|---|")
    for c, op in rows:
        L.append(f"| {c.name}.{op} | {describe(c, op)} | {c.describe()} |")
    L.append("")
    L.append("## Notes\n")
    L.append(
        "- Server: moto's `ThreadedMotoServer` (in-memory S3) on 127.0.0.1 in a child process; "
        "in front of it a threaded counting proxy (keep-alive both sides) in the benchmark "
        "process. Both are Python, share the machine with the engines, and add latency of "
        "their own: absolute figures say little about real S3, the request counts and the "
        "ratios between engines (same server, same proxy, one run) are the point.\n"
        "- Engines: exzarr (`exzarr.open(\"s3://...\", storage_options=...)` with s3fs's "
        "option names and the default back end: its ObstoreStore, as the options name the "
        "endpoint), exzarr (s3fs) (the same with `\"backend\": \"fsspec\"`: its "
        "FsspecStore); zarr-python 3 on `zarr.storage.FsspecStore` (s3fs) and on "
        "`zarr.storage.ObjectStore` (obstore `S3Store`, `allow_http`); tensorstore `zarr3` on "
        "the `s3` kvstore driver (`endpoint`, `aws_region`, credentials from the environment), "
        "context `cache_pool` 0 bytes (no chunk cache) and `data_copy_concurrency` = threads.\n"
        "- Each (engine, layout) runs in a fresh subprocess: a warm-up on a tiny array of the "
        "same layout on the same server (imports, JIT, connection pools), then the write "
        "(array created untimed), open, full read, region read and point reads of that "
        "engine's own array. Every read is compared with the data, every write read back.\n"
        "- Open = opening the stored array by URL/spec (the metadata requests), on an engine "
        "whose libraries and connections are already warm.\n"
        "- Numbers move with the load of this shared machine; compare engines only within one "
        "run.")
    return "\n".join(L) + "\n"
