"""Reads of two or more uncompressed chunks stored in C order from local files: a chunk
the read takes whole goes from its file into its box of the output in one copy
(:mod:`exzarr.kernels.read_rows`: one ``iovec`` per row of the box).  Where the store
names its files for compiled code (:meth:`~exzarr.storage.LocalStore.direct_reads`),
every thread of the read runs :func:`~exzarr.kernels.read_rows.read_rows_files` at once,
taking chunk after chunk (open, read into its rows, check that the file ends there)
without the GIL; read one by one from Python instead, each chunk cost the interpreter
its open, size check and kernel call.  Any other chunk (an edge or partly read one), a
missing one (fill_value) and one the kernel did not do go through ``on_chunk``, the
checked way, which says what is wrong.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import config, executor
from ..indexing.plan import ChunkPlan
from ..kernels import jit
from ..kernels.job_status import DONE, MISSING
from .file_scatter import read_late
from .gather import BasicTuples, basic_view, row_offsets

__all__ = ["RowReader"]

_I64 = np.dtype(np.int64)


class RowReader:
    """The chunks of one read, from a store that reads a file straight into rows.
    :meth:`make` gives None when that cannot apply to the read."""

    __slots__ = ("state", "plan", "on_chunk", "flat", "start", "strides", "rows",
                 "row_bytes", "tuples", "shape")

    def __init__(self, state, plan: ChunkPlan, out: np.ndarray, view: np.ndarray,
                 on_chunk: Callable) -> None:
        self.state, self.plan, self.on_chunk = state, plan, on_chunk
        item = out.dtype.itemsize
        self.flat = out.reshape(-1).view(np.uint8)
        self.start = view.ctypes.data - out.ctypes.data if view.size else 0
        self.strides = view.strides
        self.rows = row_offsets(plan.chunks, self.strides)
        self.row_bytes = plan.chunks[-1] * item
        self.tuples = BasicTuples(plan)
        self.shape = tuple(state.meta.shape)

    @classmethod
    def make(cls, state, plan: ChunkPlan, out: np.ndarray, on_chunk: Callable,
             batch_min: int) -> RowReader | None:
        chunks = plan.chunks
        meta = state.meta
        if (getattr(state.store, "read_rows", None) is None or not chunks
                or not config.get().jit or plan.nchunks < batch_min or meta.order != "C"
                or tuple(state.pipeline.spec.shape) != chunks or not out.flags.c_contiguous
                or not out.flags.writeable):
            return None
        view = basic_view(plan, out)
        if (view.ndim != len(chunks) or view.strides[-1] != out.dtype.itemsize
                or min(view.strides) < 0):
            return None
        return cls(state, plan, out, view, on_chunk)

    def base(self, task) -> int | None:
        """Where in the output (its bytes) the task's chunk starts when the read takes it
        whole, else None."""
        at = self.tuples.whole_chunk_origin(task)
        if (at is None or not self.plan.covers_chunk(task, self.shape)
                or self.state.chunk_extent(task.coords) != self.plan.chunks):
            return None
        return self.start + sum(o * s for o, s in zip(at, self.strides))

    def one(self, task) -> None:
        """Read one task's chunk: straight into its rows where it can, else ``on_chunk``."""
        state = self.state
        key = state.chunk_key(task.coords)
        base = self.base(task)
        if base is not None and jit.numba_available():  # (Numba loads on the first)
            done = state.store.read_rows(key, self.flat, base, self.rows, self.row_bytes)
            if done:
                return
            if done is None:  # no such chunk: fill_value
                self.on_chunk(task, None, key)
                return
        self.on_chunk(task, state.store.get(key), key)

    def run(self, tasks: list) -> None:
        """Read every task: the whole chunks by the threads' compiled calls where the
        store names its files for them, the rest (and those the calls did not do) one by
        one."""
        state = self.state
        store = state.store
        whole: list = []
        bases: list[int] = []
        rest: list = []
        for task in tasks:
            base = self.base(task)
            if base is None:
                rest.append(task)
            else:
                whole.append(task)
                bases.append(base)
        keys = [state.chunk_key(t.coords) for t in whole]
        files = (store.direct_reads(keys)
                 if len(whole) >= 2 and jit.numba_available() else None)
        if files is None:
            executor.run(self.one, tasks, store=store)
            return
        from ..kernels.read_rows import read_rows_files

        n = len(whole)
        status = np.zeros(n, dtype=np.int8)
        counter = np.zeros(1, dtype=_I64)
        at = np.array(bases, dtype=_I64)

        def work(_: int) -> None:
            read_rows_files(files.fs, files.names, files.paths, at, counter, status,
                            self.flat, self.rows, self.row_bytes)

        executor.run(work, range(min(executor.threads(), n)), store=store)
        late = [(t, state.chunk_key(t.coords), False) for t in rest]
        late.extend((whole[j], keys[j], s == MISSING)
                    for j, s in enumerate(status.tolist()) if s != DONE)
        read_late(store, self.on_chunk, late)
