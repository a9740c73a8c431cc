"""Reads of a sharded array's inner chunks from local files, done by compiled code
(:mod:`exzarr.array.file_scatter`).  The caller reads each shard's index and plans its
coalesced ranges (:data:`~exzarr.array.sharded.RANGE_TASK_BYTES` at most, the last
shard's last inner chunks one per range so that the threads finish together) and hands
the shards over as soon as they are planned, once per thread
(:func:`~exzarr.executor.run_fed`): every thread that takes them joins their jobs
(range after range: read it, decode its inner chunks, place their boxes) and then takes
the next ones, while the caller plans the rest and then joins too.  The planning is
compiled code too (:mod:`exzarr.array.shard_plan`) where the selection and the index's
codecs allow; from a shard it cannot plan on (or where it does not apply), Python plans
the shards the checked way.
Empty inner chunks and missing shards read as fill_value; any inner chunk the kernel did
not do is read again the checked way (its range through the store, then ``on_chunk``),
which says what is wrong (a truncated shard, a damaged frame).
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Callable, Iterator

import numpy as np

from .. import executor
from ..codecs.sharding import inner_chunk_label
from ..kernels.job_status import DONE
from .file_scatter import Jobs, usable
from . import sharded
from .shard_plan import CompiledShards
from .sharded import _checked, _local, _read_index, _split_tail

__all__ = ["read_shard_files", "MIN_INNER_BYTES"]

_I64 = np.dtype(np.int64)

#: where the shards cannot be planned by compiled code (:mod:`exzarr.array.shard_plan`),
#: inner chunks smaller than this keep the Python route (:mod:`exzarr.array.sharded`),
#: where a shard's few small ranges cost no more Python than the jobs planned in Python
#: cost to set up (a 96x96 region of 4 KiB inner chunks, 1 thread: 1.06 of the time; 64
#: of them: 1.01; 2048x2048 of 256 KiB inner chunks, 2 threads: 0.94).  Planned by
#: compiled code, every size goes this way: 0.89 of the Python route's time for the 96x96
#: region of 4 KiB inner chunks, 0.56 for 2048x2048 of them, 0.14 for 512x512 of 256-byte
#: ones (1 thread)
MIN_INNER_BYTES = 64 << 10


def read_shard_files(state, plan, scatter, on_chunk: Callable) -> bool:
    """Read every inner-chunk task of ``plan`` this way; False when it cannot apply
    (nothing done: read them the usual way)."""
    store = state.store
    p = state.pipeline
    if not usable(state, scatter) or store.direct_reads([]) is None:
        return False
    threads = executor.threads()
    # (the route of :mod:`~exzarr.array.sharded`'s settings, as that module has them now)
    tail = sharded.TAIL_CHUNKS * threads if p.inner_spec.nbytes >= sharded.TAIL_MIN_BYTES else 0
    most = sharded.longest_job(p.inner_spec.nbytes)
    compiled = CompiledShards.make(state, plan, scatter, tail, sharded.RANGE_TASK_BYTES, most)
    if compiled is None and p.inner_spec.nbytes < MIN_INNER_BYTES:
        return False
    checked = _CheckedShards(state, plan, scatter, tail, most)
    if compiled is None:
        feed = checked.feed(threads, 0)
    else:
        feed = compiled.feed(threads, functools.partial(checked.feed, threads))
    executor.run_fed(Jobs.work, feed, store=store)
    late = checked.late() + (compiled.late() if compiled is not None else [])
    if late:
        executor.run(lambda job: on_chunk(*job), late, store=store)
    return True


class _CheckedShards:
    """The shards of a read planned by Python, the checked way: each shard's index read
    through the store (which says what is wrong with it) and its ranges coalesced by
    :meth:`~exzarr.codecs.v3.V3CodecPipeline.plan_inner_reads`."""

    __slots__ = ("state", "plan", "scatter", "tail", "most", "shards", "empty")

    def __init__(self, state, plan, scatter, tail: int, most: int) -> None:
        self.state, self.plan, self.scatter, self.tail = state, plan, scatter, tail
        self.most = most
        self.shards: list[_Shard] = []
        self.empty: list[tuple] = []  # (task, None, label): fill_value

    def feed(self, threads: int, skip: int) -> Iterator[Jobs]:
        """The jobs of each shard of the read after the first ``skip``, ``threads`` times
        (each thread that takes them joins them), planned as they are taken."""
        state, plan = self.state, self.plan
        p = state.pipeline
        cps = p.chunks_per_shard
        # shards in the read (a basic plan: one unit per dimension), so that the last one
        # is known before it is planned, while each shard's tasks are made when it is reached
        n_shards = math.prod(len({piece.chunk[0] // cps[u.dims[0]] for piece in u.pieces})
                             for u in plan.units)
        for b, (shard, group) in enumerate(plan.by_block(cps)):
            if b < skip:
                continue
            key = state.chunk_key(shard)
            tasks_at = {_local(t.coords, shard, cps): t for t in group}
            index, _ = _read_index(state, key)
            if index is None:
                self.empty.extend((t, None, inner_chunk_label(key, lc))
                                  for lc, t in tasks_at.items())
                continue
            found, missing = p.plan_inner_reads(index, list(tasks_at),
                                                max_size=sharded.RANGE_TASK_BYTES)
            self.empty.extend((tasks_at[lc], None, inner_chunk_label(key, lc)) for lc in missing)
            if b == n_shards - 1:
                found = _split_tail(found, self.tail)
            if found:
                one = _Shard(state.store, key, found, tasks_at, self.scatter, self.most)
                self.shards.append(one)
                if one.jobs is not None:
                    yield from itertools.repeat(one.jobs, threads)

    def late(self) -> list[tuple]:
        """``(task, bytes or None, label)`` of every inner chunk the threads did not do."""
        return self.empty + [job for one in self.shards for job in one.not_done(self.state)]


#: a range that ends this far into its shard or further goes the checked way (an index
#: pointing there is damaged or hostile; its offsets do not fit the kernel's integers)
_FAR = 1 << 62


class _Shard:
    """One shard's coalesced ranges as :class:`~exzarr.array.file_scatter.Jobs` (None
    when there are none the kernel can take: ranges longer than ``most`` bytes or
    reaching :data:`_FAR` go the checked way)."""

    __slots__ = ("key", "ranges", "tasks_at", "jobs")

    def __init__(self, store, key: str, ranges: list, tasks_at: dict, scatter,
                 most: int) -> None:
        near: list = []
        checked: list = []
        for r in ranges:
            (near if r.byte_range[1] < _FAR and r.nbytes <= most else checked).append(r)
        self.key, self.tasks_at = key, tasks_at
        self.ranges = near + checked
        self.jobs: Jobs | None = None
        n = len(near)
        if not n:
            return
        first = np.array([0, *itertools.accumulate(len(r.parts) for r in near)], dtype=_I64)
        spans = np.array([r.byte_range for r in near], dtype=_I64)
        frames = np.array([(a, b, tasks_at[lc].index) for r in near for lc, a, b in r.parts],
                          dtype=_I64)
        lengths = spans[:, 1] - spans[:, 0]
        self.jobs = Jobs(store.direct_reads([key]), scatter, np.zeros(n, dtype=_I64),
                         spans[:, 0], lengths, first, frames[:, 0], frames[:, 1],
                         frames[:, 2], int(lengths.max()))

    def not_done(self, state) -> list[tuple]:
        """``(task, bytes, label)`` of every inner chunk the kernel did not do, its range
        read again through the store (a short or vanished range raises here, as it does
        read from Python)."""
        flags = [] if self.jobs is None else (self.jobs.status != DONE).tolist()
        flags += [True] * (sum(len(r.parts) for r in self.ranges) - len(flags))
        if not any(flags):
            return []
        redo: list[tuple] = []
        j = 0
        key = self.key
        for r in self.ranges:
            todo = [part for part, f in zip(r.parts, flags[j:j + len(r.parts)]) if f]
            j += len(r.parts)
            if todo:
                buf = _checked(state, key, r, state.store.get(key, r.byte_range))
                redo.extend((self.tasks_at[lc], buf[a:b], inner_chunk_label(key, lc))
                            for lc, a, b in todo)
        return redo
