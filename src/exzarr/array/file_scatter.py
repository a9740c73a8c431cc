"""Reads of several chunks from local files, done by compiled code on every thread at
once: each thread runs :func:`~exzarr.kernels.read_scatter.read_scatter`, which takes the
next job (a chunk's file, or a range of a shard holding several inner chunks), reads its
bytes, decodes its chunks and places their boxes in the output, without the GIL, until
none is left.  Read from Python instead (in groups, :mod:`exzarr.array.group_read`, or a
shard's ranges one by one, :mod:`exzarr.array.sharded`), the interpreter's share was
~5 % of a one-thread read of 25 zstd chunks of 1 MiB and ~10 % of one of 144 inner chunks
of 256 KiB, under the GIL the threads queue for.

It takes the chunks whose frames compiled code decodes whole (zstd, or blosc where its
streams' decompressors are missing: the decoder's ``frame_functions``) when every chunk's
box can be placed (:func:`usable`).  A chunk the read takes only the start of
(``alone(task)``: decoded only up to what is needed), a missing chunk (fill_value) and
any chunk the kernel did not do (a file it could not read, larger than the thread's
buffer, a frame it refused) go through ``on_chunk`` afterwards, the checked way, which
says what is wrong.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import executor
from ..kernels.job_status import DONE, MISSING
from .group_read import slot_bytes
from .scratch import byte_scratch, scratch

__all__ = ["usable", "Jobs", "read_files", "read_late"]

_BYTE = np.dtype(np.uint8)
_I64 = np.dtype(np.int64)


def usable(state, scatter) -> bool:
    """Whether reads of this array's chunks (``scatter``: the read's ``_Scatter``, or
    None) can go this way: a store whose files compiled code reads, a decoder that
    decodes frames whole, every box placeable.  Loads Numba."""
    return (scatter is not None and state.store.reads_into and scatter.ready()
            and scatter.native.frame_functions() is not None
            and bool(scatter.boxes.ok.all()))


class Jobs:
    """Jobs for :func:`~exzarr.kernels.read_scatter.read_scatter` (its arrays; ``files``:
    the store's :class:`~exzarr.storage.direct_reads.DirectReads`; ``room``: the bytes
    of each thread's buffer), with their shared counter and each frame's ``status``.
    Every thread that calls :meth:`work` takes jobs until none is left."""

    __slots__ = ("files", "scatter", "args", "room", "counter", "status")

    def __init__(self, files, scatter, paths: np.ndarray, starts: np.ndarray,
                 lengths: np.ndarray, first: np.ndarray, frame_starts: np.ndarray,
                 frame_stops: np.ndarray, boxes: np.ndarray, room: int) -> None:
        self.files, self.scatter, self.room = files, scatter, room
        self.args = (paths, starts, lengths, first, frame_starts, frame_stops, boxes)
        self.counter = np.zeros(1, dtype=_I64)
        self.status = np.zeros(len(boxes), dtype=np.int8)

    def work(self, _: object = None) -> None:
        """Take jobs on this thread until none is left."""
        from ..kernels.read_scatter import read_scatter  # (Numba: loaded by ready())

        sc, files = self.scatter, self.files
        b, nbytes = sc.boxes, sc.nbytes
        content_size, decompress, ctx, copy = sc.native.frame_functions()
        read_scatter(files.fs, files.names, *self.args, self.counter, self.status,
                     content_size, decompress, ctx, copy,
                     np.frombuffer(byte_scratch(self.room), dtype=_BYTE), nbytes,
                     scratch((nbytes,), _BYTE), sc.flat, b.bases, b.skips, b.extents,
                     b.out_strides, b.chunk_strides, sc.item)

    def run(self, store) -> np.ndarray:
        """Do every job on as many threads as the read has; each frame's status."""
        executor.run(self.work, range(min(executor.threads(), len(self.args[0]))),
                     store=store)
        return self.status


def read_files(state, tasks: list, scatter, on_chunk: Callable,
               alone: Callable[[Any], bool]) -> bool:
    """Read ``tasks`` (every task of a basic read of two or more unsharded chunks) this
    way; False when it cannot apply (nothing done: read them the usual way)."""
    store = state.store
    if not usable(state, scatter):
        return False
    rest: list = []
    lone: list = []
    for task in tasks:
        (lone if alone(task) else rest).append(task)
    keys = [state.chunk_key(t.coords) for t in rest]
    files = store.direct_reads(keys) if rest else None
    if files is None:
        return False
    n = len(rest)
    whole = np.full(n, -1, dtype=_I64)  # (lengths and frame stops: the whole file)
    zeros = np.zeros(n, dtype=_I64)
    status = Jobs(files, scatter, files.paths, zeros, whole,
                  np.arange(n + 1, dtype=_I64),  # (one frame per file)
                  zeros, whole, np.fromiter((t.index for t in rest), dtype=_I64, count=n),
                  slot_bytes(scatter.nbytes)).run(store)
    late = [(t, state.chunk_key(t.coords), False) for t in lone]
    late.extend((rest[j], keys[j], s == MISSING)
                for j, s in enumerate(status.tolist()) if s != DONE)
    read_late(store, on_chunk, late)
    return True


def read_late(store, on_chunk: Callable, late: list[tuple[Any, str, bool]]) -> None:
    """``on_chunk(task, bytes, key)`` for each ``(task, key, missing)`` the compiled calls
    did not do (or were not given), the chunk read through the store (None where it is
    known to be missing: fill_value), on the read's threads."""
    if late:
        executor.run(lambda job: on_chunk(job[0], None if job[2] else store.get(job[1]),
                                          job[1]), late, store=store)
