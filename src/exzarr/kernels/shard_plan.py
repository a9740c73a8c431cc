"""Plan a sharded read's inner chunks in compiled code: read each shard's index, check
it, and turn the inner chunks the read needs into the jobs of
:func:`~exzarr.kernels.read_scatter.read_scatter` (coalesced ranges of a shard's file
and the frames in them), without the GIL.

Done from Python (:mod:`exzarr.array.shard_files`' checked route), each shard cost
the caller ~0.3 ms on this machine (grouping its tasks, reading and checking its index,
coalescing, building the job arrays) while the threads waited for the first shard and
then shared a core with it: ~1 ms of a 13 ms read of 144 inner chunks in 4 shards.

:func:`plan_shards` plans the shards of a basic selection (one unit per dimension, each
unit's chunks in order) from the plan's chunk coordinates along each unit, split into
runs of one shard each: a shard is one run per unit, its tasks the product of the runs'
chunks, numbered as :meth:`~exzarr.indexing.plan.ChunkPlan.by_block` numbers them (the
task's place in the plan).  It follows the checked route rule for rule:

- the index is read from the file's start or end and its crc32c checked (at most one
  crc32c after little-endian ``bytes``: the caller only hands such indexes here);
- an inner chunk whose entry is empty, and every inner chunk of a shard whose file does
  not exist, is a *fill* (fill_value);
- the others are sorted by their byte range (start, then stop, then plan order) and
  coalesced as :func:`~exzarr.codecs.byte_ranges.coalesce` does (``max_gap``,
  ``max_size``); the ranges of the read's last shard end in its last ``tail`` inner
  chunks one per range (:func:`~exzarr.array.sharded._split_tail`).

Anything else (a file it cannot open or read, an index shorter than its size, a checksum
that does not match, an entry with only one half empty or past the end of its file, a
range longer than ``most`` bytes: the threads' buffers are that long) stops the planning
with :data:`CHECKED`: the caller plans the rest the checked way,
which reads the index again and says what is wrong.

This module imports Numba: import it only where the kernel is about to run.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from .crc32c import crc32c
from .file_read import MISSING as _GONE
from .file_read import close_file, file_size, open_file, pread_all
from .jit import lazy_njit

__all__ = ["CHECKED", "plan_shards"]

#: :func:`plan_shards`' answer when a shard must be planned the checked way
CHECKED = -1

_EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)
#: entries (and ranges) this far into a shard go the checked way (see ``shard_files``)
_FAR = np.uint64(1 << 62)

# rows of the ``work`` argument: one inner chunk per column
_START, _STOP, _BOX, _ORDER, _RSTART, _RSTOP, _RFIRST = range(7)


@lazy_njit
def plan_shards(fs, names, shard_paths, s0, s1, cps, entry_strides, coords_at, runs_at,
                coords, runs, index_nbytes, at_end, has_crc, max_gap, max_size, most, tail,
                last, ibuf, work, out):
    """Plan shards ``s0 .. s1 - 1`` (C order over the runs of every unit of the plan).

    ``coords[coords_at[d]:coords_at[d + 1]]``: the plan's chunk coordinates along unit
    ``d``'s dimension, of ``cps[d]`` inner chunks per shard, whose index entries are
    ``entry_strides[d]`` apart; ``runs[runs_at[d]:runs_at[d + 1]]``: where its runs of
    one shard start there, and its end.  Shard ``s``'s file is the NUL-terminated path at
    ``names[shard_paths[s - s0]:]``; its index, ``index_nbytes`` at its end (``at_end``)
    or start, ends in a crc32c when ``has_crc``.  ``ibuf``: uint8 room for the index;
    ``work``: int64 (7, n + 1) room for ``n`` inner chunks of a shard.  No job is longer
    than ``most`` bytes.

    Writes into ``out``, int64 (8, n + 1) for the ``n`` inner chunks of the shards: the
    jobs (rows 0-2: path offset, start, length; ``out[6, k]:out[6, k + 1]``: job ``k``'s
    frames), the frames (rows 3-5: start and stop in the job's bytes, task) and the fills
    (row 7: task numbers).  Returns ``(0, jobs, frames, fills)``, or ``(CHECKED, ...)``
    (what it wrote is then to be ignored)."""
    ndim = cps.shape[0]
    n_entries = (index_nbytes - 4 * has_crc) // 16
    words = ibuf[:16 * n_entries].view(np.uint64)
    n_runs = np.empty(ndim, dtype=np.int64)
    stride = np.empty(ndim, dtype=np.int64)
    lo = np.empty(ndim, dtype=np.int64)
    hi = np.empty(ndim, dtype=np.int64)
    base = np.empty(ndim, dtype=np.int64)
    k = np.empty(ndim, dtype=np.int64)
    step = 1
    for d in range(ndim - 1, -1, -1):
        n_runs[d] = runs_at[d + 1] - runs_at[d] - 1
        stride[d] = step
        step *= coords_at[d + 1] - coords_at[d]
    nj = nf = n_fill = 0
    out[6, 0] = 0
    for s in range(s0, s1):
        rest = s
        for d in range(ndim - 1, -1, -1):
            r = runs_at[d] + rest % n_runs[d]
            rest //= n_runs[d]
            lo[d], hi[d] = runs[r], runs[r + 1]
            base[d] = (coords[coords_at[d] + lo[d]] // cps[d]) * cps[d]
        path = shard_paths[s - s0]
        nbytes = 0
        fd = open_file(fs, names.ctypes.data + path)
        gone = fd == _GONE
        if fd < 0 and not gone:
            return CHECKED, 0, 0, 0
        if not gone:
            nbytes = file_size(fs, fd)
            at = nbytes - index_nbytes if at_end else 0
            got = -1
            if nbytes >= index_nbytes:  # (then ``at`` is in the file)
                got = pread_all(fs, fd, at, index_nbytes, ibuf.ctypes.data)
            close_file(fs, fd)
            if got != index_nbytes:
                return CHECKED, 0, 0, 0
            if has_crc:
                b = index_nbytes - 4
                stored = (np.uint32(ibuf[b]) | (np.uint32(ibuf[b + 1]) << np.uint32(8))
                          | (np.uint32(ibuf[b + 2]) << np.uint32(16))
                          | (np.uint32(ibuf[b + 3]) << np.uint32(24)))
                if crc32c(ibuf, b) != stored:
                    return CHECKED, 0, 0, 0
            for e in range(n_entries):
                if (words[2 * e] == _EMPTY) != (words[2 * e + 1] == _EMPTY):
                    return CHECKED, 0, 0, 0
        # the shard's inner chunks, in plan order
        m = 0
        for d in range(ndim):
            k[d] = lo[d]
        while True:
            flat = 0
            task = 0
            for d in range(ndim):
                flat += (coords[coords_at[d] + k[d]] - base[d]) * entry_strides[d]
                task += k[d] * stride[d]
            if gone:
                out[7, n_fill] = task
                n_fill += 1
            else:
                if flat < 0 or flat >= n_entries:
                    return CHECKED, 0, 0, 0
                off, size = words[2 * flat], words[2 * flat + 1]
                if off == _EMPTY:
                    out[7, n_fill] = task
                    n_fill += 1
                else:
                    if off >= _FAR or size >= _FAR or np.int64(off + size) > nbytes:
                        return CHECKED, 0, 0, 0
                    work[_START, m] = np.int64(off)
                    work[_STOP, m] = np.int64(off + size)
                    work[_BOX, m] = task
                    m += 1
            d = ndim - 1
            while d >= 0:
                k[d] += 1
                if k[d] < hi[d]:
                    break
                k[d] = lo[d]
                d -= 1
            if d < 0:
                break
        if m == 0:
            continue
        _sort(work, m)
        n_ranges = _coalesce(work, m, max_gap, max_size)
        cut = m - min(tail, m) if s == last else m
        for r in range(n_ranges):
            a, b = work[_RFIRST, r], work[_RFIRST, r + 1]
            start = work[_RSTART, r]
            if a < cut:  # the range, or its parts before the cut
                out[0, nj], out[1, nj] = path, start
                top = 0
                for p in range(a, min(b, cut)):
                    i = work[_ORDER, p]
                    out[3, nf] = work[_START, i] - start
                    out[4, nf] = work[_STOP, i] - start
                    out[5, nf] = work[_BOX, i]
                    top = max(top, out[4, nf])
                    nf += 1
                if top > most:
                    return CHECKED, 0, 0, 0
                out[2, nj] = top
                nj += 1
                out[6, nj] = nf
            for p in range(max(a, cut), b):  # one inner chunk per range
                i = work[_ORDER, p]
                out[0, nj], out[1, nj] = path, work[_START, i]
                out[2, nj] = work[_STOP, i] - work[_START, i]
                if out[2, nj] > most:
                    return CHECKED, 0, 0, 0
                out[3, nf], out[4, nf] = 0, out[2, nj]
                out[5, nf] = work[_BOX, i]
                nf += 1
                nj += 1
                out[6, nj] = nf
    return 0, nj, nf, n_fill


@register_jitable
def _sort(work, m):
    """``work[_ORDER, :m]``: the inner chunks by (start, stop), ties in plan order."""
    ordered = True
    for i in range(1, m):
        if (work[_START, i] < work[_START, i - 1]
                or (work[_START, i] == work[_START, i - 1]
                    and work[_STOP, i] < work[_STOP, i - 1])):
            ordered = False
            break
    if ordered:
        for i in range(m):
            work[_ORDER, i] = i
        return
    by_stop = np.argsort(work[_STOP, :m], kind="mergesort")
    then = np.argsort(work[_START, :m][by_stop], kind="mergesort")
    for i in range(m):
        work[_ORDER, i] = by_stop[then[i]]


@register_jitable
def _coalesce(work, m, max_gap, max_size):
    """Coalesce the sorted inner chunks into ranges (``work``'s range rows; range ``r``
    holds sorted places ``_RFIRST[r]:_RFIRST[r + 1]``); their number."""
    n = 0
    work[_RFIRST, 0] = 0
    g_start = g_stop = 0
    for p in range(m):
        i = work[_ORDER, p]
        a, b = work[_START, i], work[_STOP, i]
        if p:
            grown = max(b, g_stop)
            if a - g_stop <= max_gap and (grown - g_start <= max_size or a < g_stop):
                g_stop = grown
                continue
            work[_RSTART, n], work[_RSTOP, n] = g_start, g_stop
            n += 1
            work[_RFIRST, n] = p
        g_start, g_stop = a, b
    work[_RSTART, n], work[_RSTOP, n] = g_start, g_stop
    n += 1
    work[_RFIRST, n] = m
    return n
