"""Markdown report: headline (exzarr vs best anchor), all engines, ratios, stored sizes."""

from __future__ import annotations

import math
import statistics

from engines import LABELS
from workloads import Workload, fmt_shape

LATENCY_OPS = {"read_points", "write_blocks", "read_strided"}   # reported as time per op


def nbytes(w: Workload) -> int:
    """Uncompressed bytes moved by one timed run of ``w``."""
    n0, n1 = w.layout.shape
    p = w.params
    if w.op in ("write_full", "read_full"):
        return n0 * n1 * 4
    if w.op == "read_region":
        (r0, r1), (c0, c1) = p["region"]
        return (r1 - r0) * (c1 - c0) * 4
    if w.op == "read_strided":
        return math.ceil(n0 / p["steps"][0]) * math.ceil(n1 / p["steps"][1]) * 4
    if w.op == "read_points":
        return w.n_ops * 4
    if w.op == "write_blocks":
        return w.n_ops * p["block"] ** 2 * 4
    raise ValueError(w.op)


def best(r) -> float | None:
    return min(r["times"]) if r.get("status") == "ok" and r.get("times") else None


def median_ratio(x: dict | None, a: dict | None) -> str:
    """exzarr's median timed run / the anchor's (every run of every round), or ``–``."""
    xs, ys = (x or {}).get("times") or [], (a or {}).get("times") or []
    if not xs or not ys or (x or {}).get("status") != "ok" or (a or {}).get("status") != "ok":
        return "–"
    return f"{statistics.median(xs) / statistics.median(ys):.2f}"


def round_spread(x: dict | None, a: dict | None) -> str:
    """``lo-hi, k of n`` of exzarr time / anchor time over the rounds (``round_best`` of
    each, round k of one against round k of the other: they ran one after the other; k:
    the rounds where exzarr's was the faster), or ``–`` when there are fewer than two
    rounds of both."""
    xs, ys = (x or {}).get("round_best") or [], (a or {}).get("round_best") or []
    if min(len(xs), len(ys)) < 2:
        return "–"
    ratios = [p / q for p, q in zip(xs, ys)]
    won = sum(r < 1 for r in ratios)
    return f"{min(ratios):.2f}-{max(ratios):.2f}, {won} of {len(ratios)}"


SPREAD_TEXT = ("per round: the lowest and highest of that ratio taken round by round (each "
               "round runs every engine once, one after the other; its best run per engine): "
               "how far one round moves it on this machine, and in how many rounds exzarr's "
               "best run was the faster of the two.")
MEDIAN_TEXT = ("medians: exzarr's median timed run / that anchor's, over every run of every "
               "round (the middle of each engine's runs, where the ratio takes the fastest: "
               "an engine whose runs spread more draws a lower fastest run; shown for "
               "context, the verdict is the ratio's).")


def fmt_time(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms" if s < 0.1 else f"{s * 1e3:.0f} ms"
    return f"{s * 1e6:.0f} µs"


def fmt_mbps(w, t) -> str:
    v = nbytes(w) / t / 1e6
    return f"{v:.0f}" if v >= 10 else f"{v:.2g}"


def primary(w, t) -> str:
    """The headline figure: MB/s for bulk work, time per operation for latency work."""
    if w.op in LATENCY_OPS:
        return fmt_time(t / w.n_ops) + ("/op" if w.n_ops > 1 else "")
    return f"{fmt_mbps(w, t)} MB/s"


def status_text(r) -> str:
    return {"unavailable": "n/a", "wrong": "**WRONG DATA**", "error": "**ERROR**"}.get(
        r.get("status"), "?")


def progress_line(w, e, r) -> str:
    t = best(r)
    head = f"{w.name:15s} {LABELS[e]:18s}"
    if t is None:
        return f"{head} {r['status'].upper()}: {r.get('error', '')}"
    mem = r.get("mem") or {}
    return (f"{head} {primary(w, t):>14s}  best {fmt_time(t):>9s}  "
            f"peak +{mem.get('delta', 0) / 1e6:.0f} MB  ({r.get('wall_s', 0):.1f} s wall)")


CEILING_FOR = {"zstd": "zstd(1), 512x512", "mem": "zstd(1), 512x512",
               "blosc": "blosc(lz4, shuffle), 512x512", "memblosc": "blosc(lz4, shuffle), 512x512",
               "v2blosc": "blosc(lz4, shuffle), 512x512",
               "sharded": "zstd(1), 256x256 (sharded inner)"}


def _ceiling_mbps(r, kind):
    return r["nbytes"] / min(r[kind]) / 1e6


def ceiling_line(name, r) -> str:
    if r.get("status") != "ok":
        return f"codec {name}: {r.get('status')}: {r.get('error')}"
    return (f"codec {name:34s} encode {_ceiling_mbps(r, 'encode'):6.0f} MB/s  "
            f"decode {_ceiling_mbps(r, 'decode'):6.0f} MB/s")


def best_anchor(by: dict, name: str, anchors: list[str]) -> tuple[float, str] | None:
    """(fastest time, engine) of the anchor that ran workload ``name`` fastest (None: none
    ran it); ``by`` maps (workload, engine) to its merged result."""
    cand = [(t, e) for t, e in ((best(by.get((name, e), {})), e) for e in anchors)
            if t is not None]
    return min(cand) if cand else None


def behind(wls, results, engines: list[str],
           within: float = 0.0) -> list[tuple[str, str, float]]:
    """The headline's rows behind, and with ``within`` those that close to it: (workload,
    its best anchor, exzarr time / anchor time) for every workload where that ratio is
    above 1 - ``within``."""
    by = {(r["workload"], r["engine"]): r for r in results}
    anchors = [e for e in engines if e != "exzarr"]
    out = []
    for w in wls:
        tx = best(by.get((w.name, "exzarr"), {}))
        top = best_anchor(by, w.name, anchors)
        if tx is not None and top is not None and tx / top[0] > 1.0 - within:
            out.append((w.name, top[1], tx / top[0]))
    return out


RECHECK_TEXT = ("Each row behind in the headline{close}, run again right after the rounds "
                "with its best anchor taking turns in one process (`benchmarks/paired.py`: A B, B A, "
                "...; every result checked): the median over runs of exzarr's time / the "
                "anchor's, its quartiles, and in how many pairs exzarr was faster. For "
                "context beside the verdict, which stays the headline's: the fresh-worker "
                "rounds are the reference.")


def render_rechecks(rechecks: list[dict], labels: dict[str, str] | None = None,
                    text: str = RECHECK_TEXT, within: float = 0.0) -> list[str]:
    """The section of ``text`` (:data:`RECHECK_TEXT`); ``rechecks``: per row, what
    :func:`pairing.recheck_rows` recorded (``workload``, ``anchor``, ``ratio``,
    ``command`` and the paired tool's summary or an ``error``); ``labels``: the engines'
    names (:data:`engines.LABELS`); ``within``: how close to behind a row was re-checked
    too (``--recheck-within``)."""
    labels = LABELS if labels is None else labels
    close = (f", or within {within * 100:g} % of it (ratio above {1 - within:.2f}: "
             f"`--recheck-within`)" if within else "")
    L = ["## Rows behind or close, taking turns\n", text.format(close=close) + "\n",
         "| workload | anchor | headline ratio | paired median (quartiles) | exzarr faster in "
         "| fastest runs, exzarr / anchor | command |",
         "|---|---|---:|---:|---:|---:|---|"]
    for rc in rechecks:
        head = (f"| {rc['workload']} | {labels[rc['anchor']]} | {rc['ratio']:.2f} | ")
        if rc.get("error"):
            L.append(head + f"failed: {rc['error']} | – | – | `{rc['command']}` |")
            continue
        s, a = rc["summary"], rc["anchor"]
        p = s["paired"][a]
        L.append(head + f"{p['median']:.3f} ({p['q1']:.3f}-{p['q3']:.3f}) | "
                 f"{p['wins']} of {p['pairs']} | {fmt_time(s['best']['exzarr'])} / "
                 f"{fmt_time(s['best'][a])} | `{rc['command']}` |")
    L.append("")
    return L


def render(wls, results, meta, sizes, ceilings=None, rechecks=None) -> str:
    by = {(r["workload"], r["engine"]): r for r in results}
    engines = [e for e in meta["engines"]]
    anchors = [e for e in engines if e != "exzarr"]
    m = meta["machine"]
    L = []
    L.append("# exzarr benchmark: exzarr vs zarr-python, tensorstore, zarr-python + zarrs\n")
    L.append(f"- Command: `{meta['command']}`")
    L.append(f"- Date: {meta['date']}; total run time {meta['elapsed_s']:.0f} s")
    ram = f", {m['mem_bytes'] / 2**30:.0f} GiB RAM" if m.get("mem_bytes") else ""
    L.append(f"- Machine: {m['cores']} cores ({m['cpu']}){ram}, {m['os']}; "
             f"Python {m['python']}, NumPy {m['numpy']}")
    L.append(f"- Stores: {meta['store_dir']} (temporary directory, removed afterwards) and "
             f"in-process memory; load average (1/5/15 min) at start {meta['load'][0]}, "
             f"at end {meta['load'][1]}")
    vers = "; ".join(", ".join(f"{k} {v}" for k, v in vs.items())
                     for _e, vs in meta["versions"].items())
    L.append(f"- Versions: {vers}")
    for e, why in meta["unavailable"].items():
        L.append(f"- {LABELS[e]}: not run ({why})")
    rounds = meta.get("rounds", 1)
    per_worker = f"{meta['repeat']} timed run(s) per worker after its warm-up"
    if meta.get("min_time"):
        per_worker += (f", more while they took under {meta['min_time']:g} s in all, up to "
                       f"{meta['max_repeat']}")
    how = (f"best of all timed runs per measurement: {rounds} round(s), each a sweep over "
           f"every workload running every engine once in a fresh worker, in rotated order "
           f"({per_worker})" if rounds > 1
           else f"best of the timed runs per measurement ({per_worker})")
    L.append(f"- Threads: {meta['threads']} for every engine; {how}"
             f"{'; --quick (2048x2048) variant' if meta['quick'] else ''}")
    L.append("")

    # ---------------------------------------------------------------- headline
    if "exzarr" in engines and anchors:
        L.append("## Headline: exzarr vs the best anchor\n")
        L.append("ratio = best anchor speed / exzarr speed (= exzarr time / anchor time): "
                 "**> 1 means the anchor is faster and exzarr is behind**; <= 1 means the "
                 "target (exzarr at or above the best anchor) is met; " + SPREAD_TEXT + " "
                 + MEDIAN_TEXT + "\n")
        L.append("| workload | exzarr | best anchor | anchor / exzarr | per round | medians | |")
        L.append("|---|---:|---:|---:|---:|---:|---|")
        for w in wls:
            rx = by.get((w.name, "exzarr"), {})
            tx = best(rx)
            top = best_anchor(by, w.name, anchors)
            if top is None:
                continue
            ta, ea = top
            ex = primary(w, tx) if tx else status_text(rx)
            if tx is None:
                L.append(f"| {w.name} | {ex} | {primary(w, ta)} ({LABELS[ea]}) | – | – | – | |")
                continue
            ratio = tx / ta
            verdict = (f"exzarr {ratio:.2f}x slower" if ratio > 1.0
                       else f"met (exzarr {1 / ratio:.2f}x faster)")
            L.append(f"| {w.name} | {ex} | {primary(w, ta)} ({LABELS[ea]}) | "
                     f"{'**' if ratio > 1 else ''}{ratio:.2f}{'**' if ratio > 1 else ''} | "
                     f"{round_spread(rx, by.get((w.name, ea)))} | "
                     f"{median_ratio(rx, by.get((w.name, ea)))} | {verdict} |")
        L.append("")

    if rechecks:
        L.extend(render_rechecks(rechecks, within=meta.get("recheck_within", 0.0)))

    # ---------------------------------------------------------------- ratio matrix
    if "exzarr" in engines and anchors:
        L.append("## Speed relative to exzarr (engine / exzarr; > 1 = engine faster)\n")
        L.append("| workload | " + " | ".join(LABELS[e] for e in anchors) + " |")
        L.append("|---|" + "---:|" * len(anchors))
        for w in wls:
            tx = best(by.get((w.name, "exzarr"), {}))
            cells = []
            for e in anchors:
                r = by.get((w.name, e), {})
                t = best(r)
                cells.append(f"{tx / t:.2f}" if (t and tx) else status_text(r))
            L.append(f"| {w.name} | " + " | ".join(cells) + " |")
        L.append("")

    # ---------------------------------------------------------------- region memory
    regions = [w for w in wls if w.op == "read_region"]
    if regions:
        L.append("## Peak memory of region reads / output size\n")
        L.append("Peak RSS increase of the worker during the read divided by the bytes of "
                 "the region read (the output array): 1.00 = nothing beyond the output.\n")
        L.append("| workload | output | " + " | ".join(LABELS[e] for e in engines) + " |")
        L.append("|---|---:|" + "---:|" * len(engines))
        for w in regions:
            (a0, a1), (b0, b1) = w.params["region"]
            out_bytes = (a1 - a0) * (b1 - b0) * 4
            cells = []
            for e in engines:
                mem = (by.get((w.name, e)) or {}).get("mem") or {}
                cells.append(f"{mem['delta'] / out_bytes:.2f}" if "delta" in mem else "–")
            L.append(f"| {w.name} | {out_bytes / 2**20:.0f} MiB | " + " | ".join(cells) + " |")
        L.append("")

    # ---------------------------------------------------------------- all numbers
    L.append("## All measurements\n")
    L.append("MB/s = 10^6 bytes of uncompressed array data per second (for point reads: "
             "4 bytes per element). Peak RSS = peak resident memory of the worker process "
             "during the first timed run minus its resident memory just before (includes the "
             "output array for reads; the input array is already resident for writes). RSS "
             "before = that resident memory: imports, warm-up, and for writes the input "
             "array, for the memory store its contents.\n")
    L.append("| workload | engine | MB/s | time / op | best run | peak RSS | RSS before | "
             "speed vs exzarr | runs (s) |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for w in wls:
        tx = best(by.get((w.name, "exzarr"), {}))
        for e in engines:
            r = by.get((w.name, e))
            if r is None:
                continue
            t = best(r)
            if t is None:
                why = (r.get("error") or "").replace("|", "/").replace("\n", " ")[:160]
                L.append(f"| {w.name} | {LABELS[e]} | {status_text(r)} | | | | | | {why} |")
                continue
            mem = r.get("mem") or {}
            rel = f"{tx / t:.2f}" if tx else "–"
            L.append(f"| {w.name} | {LABELS[e]} | {fmt_mbps(w, t)} | {fmt_time(t / w.n_ops)} | "
                     f"{fmt_time(t)} | {mem.get('delta', 0) / 1e6:.0f} MB | "
                     f"{mem.get('base', 0) / 1e6:.0f} MB | {rel} | "
                     f"{', '.join(f'{x:.3g}' for x in r['times'])} |")
    L.append("")

    # ---------------------------------------------------------------- codec ceiling
    ok = {k: r for k, r in (ceilings or {}).items() if r.get("status") == "ok"}
    if ok:
        L.append("## Codec ceiling: the codec alone, no store, no array assembly\n")
        L.append(f"numcodecs encode/decode of every chunk of the same data in a "
                 f"{meta['threads']}-thread pool, in memory (decode into preallocated "
                 f"chunk buffers). exzarr's full write/read as a share of it (the issue's "
                 f"target: within 10%, i.e. >= 90%).\n")
        L.append("| codec, chunk | ratio | encode MB/s | decode MB/s | one-chunk decode | "
                 "exzarr write / encode | exzarr read / decode |")
        L.append("|---|---:|---:|---:|---:|---|---|")
        for name, r in ok.items():
            enc, dec = _ceiling_mbps(r, "encode"), _ceiling_mbps(r, "decode")
            shares: dict[str, list[str]] = {"write": [], "read": []}
            for w in wls:
                if CEILING_FOR.get(w.layout.name) != name or w.op not in ("write_full",
                                                                            "read_full"):
                    continue
                t = best(by.get((w.name, "exzarr"), {}))
                if t:
                    kind = "write" if w.op == "write_full" else "read"
                    shares[kind].append(f"{w.name} {nbytes(w) / t / 1e6 / (enc if kind == 'write' else dec):.0%}")
            L.append(f"| {name} | {r['nbytes'] / r['stored']:.2f}x | {enc:.0f} | {dec:.0f} | "
                     f"{fmt_time(r['one_decode'])} | "
                     f"{', '.join(shares['write']) or '–'} | {', '.join(shares['read']) or '–'} |")
        pts = []
        for w in wls:
            r = ok.get(CEILING_FOR.get(w.layout.name, ""))
            t = best(by.get((w.name, "exzarr"), {}))
            if w.op == "read_points" and r and t:
                goal = r["one_decode"] + 100e-6
                pts.append(f"{w.name} {fmt_time(t / w.n_ops)} vs {fmt_time(goal)} "
                           f"({'met' if t / w.n_ops <= goal else 'not met'})")
        if pts:
            L.append("\nSingle-element reads, exzarr vs the target \"one chunk decode + 100 µs\": "
                     + "; ".join(pts) + ".")
        L.append("")

    # ---------------------------------------------------------------- workloads
    L.append("## Workloads\n")
    L.append("| workload | operation | layout |")
    L.append("|---|---|---|")
    for w in wls:
        L.append(f"| {w.name} | {w.describe()} | {w.layout.describe()} |")
    L.append("")

    # ---------------------------------------------------------------- stored sizes
    lays = sorted({(w.layout.name, w.layout.shape) for w in wls if w.layout.store == "local"})
    if sizes:
        L.append("## Stored size per layout (same codecs => about the same bytes)\n")
        L.append("| layout | " + " | ".join(LABELS[e] for e in engines) + " |")
        L.append("|---|" + "---:|" * len(engines))
        for name, shape in lays:
            raw = shape[0] * shape[1] * 4
            cells = []
            for e in engines:
                s = sizes.get((e, name))
                cells.append(f"{s / 1e6:.1f} MB ({raw / s:.2f}x)" if s else "–")
            L.append(f"| {name} | " + " | ".join(cells) + " |")
        L.append("")

    L.append("## Notes\n")
    L.append(
        "- Same work for every engine: same data (smooth field + Gaussian noise, quantised "
        "to 1/64, generated once from a fixed seed), same codecs and levels, same chunk and "
        "shard shapes, same thread count, same regions/points/blocks (fixed seeds). Every read "
        "result and every written array (read back) is compared with NumPy; a mismatch fails "
        "the run and is shown as WRONG DATA.\n"
        "- Each (engine, workload) runs in a fresh subprocess after a warm-up on a small "
        "array of the same layout (imports, JIT compilation, thread pools), so the first "
        "timed run is steady state. Full writes create the array untimed, then time the "
        "write; reads time only the read of an array that engine wrote.\n"
        "- Block writes: each timed run writes the blocks into a fresh copy of the engine's "
        "own stored zstd array (partial-chunk read-modify-write), each write completing "
        "before the next.\n"
        "- tensorstore: context `file_io_sync: false` (no fsync per chunk; exzarr, zarr-python "
        "and zarrs do not fsync either), `cache_pool` 0 bytes (no chunk cache), "
        "`data_copy_concurrency` and `file_io_concurrency` limits = threads.\n"
        "- zarr-python: `threading.max_workers` = threads. zarr-python + zarrs: the "
        "`zarrs.ZarrsCodecPipeline` with `strict: true` (anything zarrs cannot do raises "
        "instead of silently falling back to zarr-python's pipeline, so its numbers are "
        "zarrs' own) and `chunk_concurrent_maximum` = threads; zarrs supports no in-memory "
        "store.\n"
        "- Peak memory uses `getrusage(RUSAGE_SELF).ru_maxrss` of the worker process "
        "(sees C allocations that tracemalloc misses); on Linux the high-water mark is reset "
        "via `/proc/self/clear_refs` (after `malloc_trim`) right before the measured run.\n"
        "- Numbers move with the machine and its load; compare engines only within one run.")
    return "\n".join(L) + "\n"
