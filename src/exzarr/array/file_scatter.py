"""Unsharded reads of several chunks from local files, done by compiled code on every
thread at once: each thread runs :func:`~exzarr.kernels.read_scatter.read_scatter`, which
takes the next chunk, reads its file, decodes it and places its box in the output,
without the GIL, until none is left.  Read in groups from Python instead
(:mod:`exzarr.array.group_read`), the interpreter's share was ~5 % of a one-thread read
of 25 zstd chunks of 1 MiB, under the GIL the threads queue for.

It takes the chunks whose frames compiled code decodes whole (zstd, or blosc where its
streams' decompressors are missing; the decoder's ``frame_functions``) when every chunk's
box can be placed.  A chunk the read takes only the start of (``alone(task)``: decoded
only up to what is needed), a missing chunk (fill_value) and any chunk the kernel did not
do (a file it could not read, larger than the thread's buffer, a frame it refused) go
through ``on_chunk`` afterwards, which reads the chunk through the store and says what is
wrong.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import executor
from .group_read import slot_bytes
from .scratch import byte_scratch, scratch

__all__ = ["read_files"]

_BYTE = np.dtype(np.uint8)
_I64 = np.dtype(np.int64)


def read_files(state, tasks: list, scatter, on_chunk: Callable,
               alone: Callable[[Any], bool]) -> bool:
    """Read ``tasks`` (every task of a basic read of two or more chunks) this way; False
    when it cannot apply (nothing done: read them the usual way)."""
    store = state.store
    if (scatter is None or not store.reads_into or not scatter.ready()
            or scatter.native.frame_functions() is None or not scatter.boxes.ok.all()):
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
    native, boxes, nbytes = scatter.native, scatter.boxes, scatter.nbytes
    room = slot_bytes(nbytes)
    whole = np.full(n, -1, dtype=_I64)  # (lengths and frame stops: the whole file)
    zeros = np.zeros(n, dtype=_I64)
    first = np.arange(n + 1, dtype=_I64)  # (one frame per file)
    index = np.fromiter((t.index for t in rest), dtype=_I64, count=n)
    status = np.zeros(n, dtype=np.int8)
    counter = np.zeros(1, dtype=_I64)

    def work(_: int) -> None:
        from ..kernels.read_scatter import read_scatter  # (Numba: loaded by ready())

        content_size, decompress, ctx, copy = native.frame_functions()
        read_scatter(files.fs, files.names, files.paths, zeros, whole, first, zeros, whole,
                     index, counter, status, content_size, decompress, ctx, copy,
                     np.frombuffer(byte_scratch(room), dtype=_BYTE), nbytes,
                     scratch((nbytes,), _BYTE), scatter.flat, boxes.bases, boxes.skips,
                     boxes.extents, boxes.out_strides, boxes.chunk_strides, scatter.item)

    executor.run(work, range(min(executor.threads(), n)), store=store)
    from ..kernels.read_scatter import DONE, MISSING

    late = [(t, state.chunk_key(t.coords), False) for t in lone]
    late.extend((rest[j], keys[j], s == MISSING)
                for j, s in enumerate(status.tolist()) if s != DONE)
    if late:
        executor.run(lambda job: on_chunk(job[0], None if job[2] else store.get(job[1]),
                                          job[1]), late, store=store)
    return True
