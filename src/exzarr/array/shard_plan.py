"""A sharded read's shards planned by compiled code (:mod:`exzarr.kernels.shard_plan`),
for :mod:`exzarr.array.shard_files`: each shard's index read and checked, its inner
chunks coalesced into ranges and made into the read's jobs without the GIL, where the
checked route spends ~0.3 ms of Python per shard.

The shards are planned in batches of 1, 1, 2, 4, ... shards (each batch one kernel call
and one :class:`~exzarr.array.file_scatter.Jobs`, handed to the threads as soon as it
is made), so that the threads start on the first shard while the caller plans the next
ones.  Where the kernel stops at a shard (its file cannot be read, its index is damaged:
:data:`~exzarr.kernels.shard_plan.CHECKED`), that shard and the rest are planned the
checked way, which says what is wrong.  Inner chunks that read as fill_value and those
the threads did not do are handed back by :meth:`CompiledShards.late`.
"""

from __future__ import annotations

import itertools
import math
import sys
from typing import Callable, Iterator

import numpy as np

from ..codecs.byte_ranges import DEFAULT_MAX_GAP, CoalescedRange
from ..codecs.sharding import inner_chunk_label
from ..kernels.job_status import DONE
from .file_scatter import Jobs
from .gather import c_order_strides
from .sharded import _checked, _local

__all__ = ["CompiledShards"]

_I64 = np.dtype(np.int64)


def _runs(chunks: list[int], per_shard: int) -> list[int]:
    """Where the runs of one shard start in ``chunks`` (in order), and its end."""
    return [0, *(i for i in range(1, len(chunks))
                 if chunks[i] // per_shard != chunks[i - 1] // per_shard), len(chunks)]


class CompiledShards:
    """The planning of one read's shards (:meth:`make`), fed to the threads by
    :meth:`feed`."""

    __slots__ = ("state", "plan", "scatter", "cps", "dims", "args", "shard_ids", "n_shards",
                 "task_ends", "tail", "fills", "batches")

    @classmethod
    def make(cls, state, plan, scatter, tail: int, max_size: int,
             most: int) -> CompiledShards | None:
        """The planning of ``plan``'s shards (inner chunk tasks of a basic read; ranges of
        at most ``max_size`` bytes where they hold several inner chunks, ``tail``: see
        :func:`~exzarr.kernels.shard_plan.plan_shards`, no job longer than ``most``), or
        None where it does not apply (an index of other codecs, a big-endian machine)."""
        form = state.pipeline.plain_index
        if (not plan.chunks or form is None or form[1] > 1 or sys.byteorder != "little"
                or sorted(u.dims for u in plan.units) != [(d,) for d in range(len(plan.chunks))]):
            return None
        return cls(state, plan, scatter, tail, max_size, most, form)

    def __init__(self, state, plan, scatter, tail: int, max_size: int, most: int,
                 form: tuple[bool, int]) -> None:
        p = state.pipeline
        self.state, self.plan, self.scatter, self.tail = state, plan, scatter, tail
        self.cps = tuple(p.chunks_per_shard)
        # the kernel's dimensions are the plan's units (one per dimension, ints first)
        self.dims = dims = [u.dims[0] for u in plan.units]
        cps = [self.cps[d] for d in dims]
        entry_strides = c_order_strides(self.cps, 1)
        chunks = [[piece.chunk[0] for piece in u.pieces] for u in plan.units]
        runs = [_runs(c, q) for c, q in zip(chunks, cps)]
        # per dimension, each run's shard coordinate and length; per shard (C order over
        # the runs), where its tasks end
        self.shard_ids = [[c[r[i]] // q for i in range(len(r) - 1)]
                          for c, r, q in zip(chunks, runs, cps)]
        lengths = [[b - a for a, b in zip(r, r[1:])] for r in runs]
        self.task_ends = list(itertools.accumulate(
            map(math.prod, itertools.product(*lengths))))
        self.n_shards = len(self.task_ends)
        # the kernel's arrays, made as one: cps, entry strides, coords_at, runs_at,
        # coords, runs
        ndim = len(cps)
        offsets = [[0, *itertools.accumulate(map(len, x))] for x in (chunks, runs)]
        flat = np.array([*cps, *(entry_strides[d] for d in dims), *offsets[0], *offsets[1],
                         *itertools.chain(*chunks), *itertools.chain(*runs)], dtype=_I64)
        cut = list(itertools.accumulate((ndim, ndim, ndim + 1, ndim + 1, offsets[0][-1])))
        at_end, n_crc = form
        self.args = (*np.split(flat, cut), p.index_nbytes, int(at_end), n_crc,
                     DEFAULT_MAX_GAP, max_size, most, tail, self.n_shards - 1,
                     np.empty(p.index_nbytes, dtype=np.uint8),  # (the index; 8-byte aligned)
                     np.empty((7, math.prod(map(max, lengths)) + 1), dtype=_I64))
        self.fills: list[np.ndarray] = []
        self.batches: list[tuple[dict[int, str], Jobs]] = []

    def _key(self, s: int) -> str:
        """The key of shard ``s`` (its place in the read's C order over the runs)."""
        at = [0] * len(self.dims)
        for d, ids in zip(reversed(self.dims), reversed(self.shard_ids)):
            s, r = divmod(s, len(ids))
            at[d] = ids[r]
        return self.state.chunk_key(tuple(at))

    def feed(self, threads: int, checked: Callable[[int], Iterator[Jobs]]) -> Iterator[Jobs]:
        """Each batch's jobs, ``threads`` times (each thread that takes them joins them),
        and from the first shard the kernel cannot plan, ``checked(that shard)``'s."""
        s0 = 0
        while s0 < self.n_shards:
            s1 = min(self.n_shards, s0 + max(1, s0))
            planned = self._plan(s0, s1)
            if planned is False:
                yield from checked(s0)
                return
            if planned is not None:
                yield from itertools.repeat(planned, threads)
            s0 = s1

    def _plan(self, s0: int, s1: int) -> Jobs | None | bool:
        """Shards ``s0 .. s1 - 1`` planned: their jobs (None: none), or False where the
        kernel stopped (nothing of them is kept)."""
        from ..kernels.shard_plan import CHECKED, plan_shards

        keys = [self._key(s) for s in range(s0, s1)]
        files = self.state.store.direct_reads(keys)
        if files is None:
            return False
        n = self.task_ends[s1 - 1] - (self.task_ends[s0 - 1] if s0 else 0)
        out = np.empty((8, n + 1), dtype=_I64)  # (its rows: each one contiguous)
        rc, nj, nf, n_fill = plan_shards(files.fs, files.names, files.paths, s0, s1,
                                         *self.args, out)
        if rc == CHECKED:
            return False
        self.fills.append(out[7, :n_fill])
        if not nj:
            return None
        planned = Jobs(files, self.scatter, out[0, :nj], out[1, :nj], out[2, :nj],
                       out[6, :nj + 1], out[3, :nf], out[4, :nf], out[5, :nf],
                       int(out[2, :nj].max()))
        self.batches.append((dict(zip(files.paths.tolist(), keys)), planned))
        return planned

    def late(self) -> list[tuple]:
        """``(task, bytes or None, label)`` of every inner chunk the threads did not do:
        None for those that read as fill_value, else its range read again through the
        store (a short or vanished range raises here, as it does on the checked way)."""
        state, cps = self.state, self.cps
        out: list[tuple] = []

        def where(i: int, key: str | None = None) -> tuple:
            task = self.plan.task_at(i)
            shard = tuple(c // q for c, q in zip(task.coords, cps))
            key = key or state.chunk_key(shard)
            return task, inner_chunk_label(key, _local(task.coords, shard, cps))

        for fills in self.fills:
            out.extend((task, None, label) for task, label in map(where, fills.tolist()))
        for keys, jobs in self.batches:
            not_done = np.flatnonzero(jobs.status != DONE)
            if not not_done.size:
                continue
            paths, starts, lengths, first, frame_starts, frame_stops, boxes = jobs.args
            for k in np.unique(np.searchsorted(first, not_done, side="right") - 1).tolist():
                key = keys[int(paths[k])]
                rng = CoalescedRange((int(starts[k]), int(starts[k] + lengths[k])), ())
                buf = _checked(state, key, rng, state.store.get(key, rng.byte_range))
                for j in range(int(first[k]), int(first[k + 1])):
                    if jobs.status[j] != DONE:
                        task, label = where(int(boxes[j]), key)
                        out.append((task, buf[int(frame_starts[j]):int(frame_stops[j])], label))
        return out
