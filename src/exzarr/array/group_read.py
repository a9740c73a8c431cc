"""Unsharded reads of several chunks from a store that reads a file into a given buffer
(local files), where the threads' compiled calls cannot read them
(:mod:`exzarr.array.file_scatter`: blosc chunks decoded block by block, a store without
files for compiled code): the chunks are read in groups, each group's encoded chunks side by side in
the thread's byte buffer (:func:`~exzarr.array.scratch.byte_scratch`), then decoded and
placed by one compiled call (``many``, the handler the inner chunks of a shard go
through).  One chunk at a time, the Python around each chunk's read and kernel call cost
~6 % of a single-threaded full read of 1 MiB zstd chunks, next to ~86 % in the decoding.

A chunk the read takes only the start of (where the encoding can decode just that:
``alone(task)``), a missing chunk (fill_value) and a chunk that fills its room in the
buffer (it may be larger: read whole) go through ``on_chunk`` one by one; ``many`` sends
any chunk the kernel refuses there too, which says what is wrong.
"""

from __future__ import annotations

from typing import Any, Callable

from .scratch import BYTES_KEPT, byte_scratch

__all__ = ["group_reader", "GROUP", "slot_bytes"]

#: the most chunks read and decoded together (fewer where that many would not fit in
#: the thread's kept buffer, :data:`~exzarr.array.scratch.BYTES_KEPT`)
GROUP = 4


def slot_bytes(nbytes: int) -> int:
    """Room for one encoded chunk of ``nbytes`` decoded bytes: more than zstd's, LZ4's
    and blosc's bound on what compressing it can give."""
    return nbytes + (nbytes >> 6) + 4096


def group_reader(state, on_chunk: Callable, many: Callable | None,
                 alone: Callable[[Any], bool]) -> tuple[Callable[[list], None], int] | None:
    """``(one(group), size)``: ``one`` reads and decodes a group of tasks, which
    :func:`~exzarr.executor.tapered` groups of ``size`` feed; None when groups cannot
    apply (no ``many`` handler, a store that cannot read into a buffer, or chunks too
    large for two to share the buffer)."""
    store = state.store
    if many is None or not store.reads_into:
        return None
    slot = slot_bytes(state.pipeline.spec.nbytes)
    size = min(GROUP, BYTES_KEPT // slot)
    if size < 2:
        return None

    def one(group: list) -> None:
        buf = byte_scratch(slot * len(group))
        parts: list[tuple[Any, int, int, str]] = []
        for task in group:
            key = state.chunk_key(task.coords)
            if alone(task):
                on_chunk(task, store.get(key), key)
                continue
            at = len(parts) * slot
            got = store.read_into(key, 0, buf[at:at + slot])
            if got is None:
                on_chunk(task, None, key)
            elif got >= slot:  # it may go on past its room
                on_chunk(task, store.get(key), key)
            else:
                parts.append((task, at, at + got, key))
        if parts:
            many(buf, parts)
    return one, size
