"""Encoding the chunks a write covers whole in compiled calls, without the GIL.

A sharded write of small inner chunks spends, per chunk, Python around the copy of its
block, the fill_value check and the call into the compressor.  When the (inner) chunks
are their bytes in C order or plain zstd or blosc frames of them, the value written is a NumPy
array whose chunk rows are contiguous, and Numba is on, :class:`BatchEncoder` hands every
inner chunk of a shard that the write covers whole and that lies inside the array to
:func:`~exzarr.kernels.encode_gather.encode_gather`: one call, without the GIL, gathers,
checks and compresses them all into one per-thread buffer (the compressor of
:mod:`exzarr.codecs.native_encode`: the same frames as numcodecs' byte for byte, without
numcodecs' new zstd context or new blosc output object per chunk; uncompressed chunks
are gathered straight into it; blosc chunks with byte shuffle are shuffled as they are
gathered where :meth:`~exzarr.codecs.native_encode.NativeEncoder.for_chunks` has a
variant for their size).  Unsharded chunks go the same way a group at a time
(:func:`chunk_encoder`; the writer picks the group size), v2 chunks without filters
included.  The rest of a shard, and a
chunk the kernel refuses with those after it, take the per-chunk path.
"""

from __future__ import annotations

import functools
import math
import threading

import numpy as np

from .. import config
from ..kernels import jit
from ..codecs.blosc_preshuffle import Preshuffle, shuffle_blocks
from ..codecs.native_encode import NativeEncoder
from ..kernels.fill import fill_bits
from .fresh_bytes import FreshBytes
from .gather import BasicTuples, row_offsets
from .scratch import scratch

__all__ = ["BatchEncoder", "batch_encoder", "chunk_encoder"]

#: inner chunks of one shard encoded in one compiled call from this many on
BATCH_MIN = 4
#: the most tasks of a write whose places :meth:`BatchEncoder.bases` keeps in a table
#: (16 bytes per task while it is made; a sharded write of many tiny inner chunks has
#: more, taken shard by shard, and looks each task's place up on its own)
TABLE_MAX = 1 << 20

_NO_OUT = np.empty(0, dtype=np.uint8)  # ``out`` of a call whose frames go to ``dests``


class BatchEncoder:
    """``encode(items)`` for ``items`` ``(task, label)`` (``minimum`` or more; a shard's
    inner chunks and their local coords) maps the labels of the chunks it encoded to their
    frame (a memoryview of this thread's buffer, valid until this thread's next call on
    this encoder; or of ``out``, a buffer of at least ``room`` bytes per item) or None
    (all fill_value, when ``check_fill``); the items it leaves out are encoded the
    per-chunk way.  ``bases(tasks)`` is each task's chunk's place in the source, -1
    when the task does not take its chunk whole; the encoding calls take them
    (``bases=``) when the caller has them already."""

    def __init__(self, native: NativeEncoder, src: np.ndarray,
                 data: np.ndarray, tuples: BasicTuples, chunk: tuple[int, ...],
                 fill: np.ndarray, per_call: int) -> None:
        self._src, self._tuples = data, tuples  # ``src`` as bytes (``src.view(np.uint8)``)
        self._limit = tuple(n - c for n, c in zip(src.shape, chunk))
        self._strides = tuple(src.strides)
        self._rows = row_offsets(chunk, src.strides)
        self._row_bytes = chunk[-1] * src.dtype.itemsize
        self._nbytes = math.prod(chunk) * src.dtype.itemsize
        self._compressor = native = native.for_chunks(self._nbytes, self._row_bytes)
        pre = native.shuffle
        self._shuffle = (pre.typesize, pre.block) if pre is not None else (0, 0)
        self._fill_value = fill
        self._fill: np.ndarray | None = None  # the pattern, made on the first call
        self._bases: np.ndarray | None = None  # every task's, made on the first call
        self._shape = chunk
        self._room = self._compressor.bound(self._nbytes)  # one frame's
        self.per_call = per_call
        self._capacity = per_call * self._room
        # one output buffer per thread for this write (its pages are faulted in once, and
        # freed with the write: a thread-lived buffer of a shard's size would stay resident)
        self._local = threading.local()

    @property
    def room(self) -> int:
        """The most bytes one frame can take."""
        return self._room

    def bases(self, tasks: list) -> np.ndarray:
        """Per task, where its chunk starts in the source (bytes from its first element)
        when the task takes its chunk whole, else -1 (the chunk then goes the per-chunk
        way): looked up in a table of the plan's tasks made once per write (of up to
        :data:`TABLE_MAX` tasks; beyond, the tasks' own)."""
        table = self._bases
        if table is None:
            if self._tuples.ntasks > TABLE_MAX:
                return self._own_bases(tasks)
            # (two threads may both make it: the same table)
            table = self._bases = self._tuples.whole_bases(self._strides, self._limit)
        return table[np.fromiter((t.index for t in tasks), dtype=np.int64, count=len(tasks))]

    def _own_bases(self, tasks: list) -> np.ndarray:
        """:meth:`bases` task by task (a plan too large for a table)."""
        limit, strides, origin = self._limit, self._strides, self._tuples.whole_chunk_origin
        bases = np.full(len(tasks), -1, dtype=np.int64)
        for k, task in enumerate(tasks):
            at = origin(task)
            if at is not None and all(0 <= o <= m for o, m in zip(at, limit)):
                bases[k] = sum(o * s for o, s in zip(at, strides))
        return bases

    def encode(self, items: list, *, check_fill: bool = True, minimum: int = BATCH_MIN,
               out: np.ndarray | None = None, bases: np.ndarray | None = None) -> dict:
        if len(items) < minimum:
            return {}
        if out is None:
            out = getattr(self._local, "out", None)
            if out is None:
                out = self._local.out = np.empty(self._capacity, dtype=np.uint8)
        elif out.nbytes < len(items) * self._room:
            raise ValueError(f"out holds {out.nbytes} bytes; {len(items)} frames need "
                             f"{len(items) * self._room}")
        done, sizes = self._encode_into(out, [t for t, _ in items], check_fill, bases=bases)
        view = out.data
        encoded: dict = {}
        pos = 0
        for (_, lc), size in zip(items[:done], sizes[:done].tolist()):
            if size < 0:
                encoded[lc] = None
            else:
                encoded[lc] = view[pos:pos + size]
                pos += size
        return encoded

    def encode_files(self, tasks: list, files: tuple, *, check_fill: bool = True,
                     bases: np.ndarray | None = None) -> tuple[int, list[int]]:
        """Chunks the write covers whole, each frame written to its file as soon as it
        is made (``files``: :attr:`~exzarr.storage.direct_writes.DirectWrites.args`):
        (how many were written, their frame sizes, -1 for one all fill_value, which
        was not written); the tasks after them were refused or failed (nothing of them
        left) and go the per-chunk way.  ``bases``: the tasks' :meth:`bases`, when the
        caller has them."""
        out = getattr(self._local, "out", None)
        if out is None:
            out = self._local.out = np.empty(self._capacity, dtype=np.uint8)
        done, sizes = self._encode_into(out, tasks, check_fill, files=files, bases=bases)
        return done, sizes[:done].tolist()

    def encode_values(self, tasks: list, *, check_fill: bool = True,
                      bases: np.ndarray | None = None) -> list[bytes | None]:
        """Chunks the write covers whole, each frame written straight into a new bytes
        object (:class:`~exzarr.array.fresh_bytes.FreshBytes`: what an in-memory store
        keeps, with no copy out of this thread's buffer): the frames of the first tasks,
        in order, None for one all fill_value; the tasks after them were refused (nothing
        made) and go the per-chunk way."""
        fresh = [FreshBytes(self._room) for _ in tasks]
        dests = np.fromiter((f.address for f in fresh), dtype=np.int64, count=len(fresh))
        done, sizes = self._encode_into(_NO_OUT, tasks, check_fill, dests, bases=bases)
        return [None if size < 0 else f.take(size)
                for f, size in zip(fresh, sizes[:done].tolist())]

    def _encode_into(self, out: np.ndarray, tasks: list, check_fill: bool,
                     dests: np.ndarray | None = None, files: tuple | None = None,
                     bases: np.ndarray | None = None) -> tuple[int, np.ndarray]:
        """Encode ``tasks``' chunks one after the other into ``out`` (or each into its own
        ``dests[i]``, of ``bound(nbytes)`` bytes; or each to its file, ``files``): (how
        many were done, each one's frame size, -1 when all fill_value)."""
        sizes = np.empty(len(tasks), dtype=np.int64)
        if bases is None:
            bases = self.bases(tasks)
        if len(bases) and bases.min() < 0:
            return 0, sizes  # not whole, or not inside the source: the per-chunk path says why
        fill = self._fill
        if fill is None:
            fill = self._fill = _fill_words(self._shape, self._fill_value,
                                            self._compressor.shuffle)
        gathered = scratch(fill.shape, np.dtype(np.uint64))
        native = self._compressor
        try:
            done = _kernels().encode_gather(
                native.address, native.context(), native.memmove, self._src,
                bases, self._rows, self._row_bytes, self._nbytes,
                fill, check_fill, gathered, out, sizes, *self._shuffle,
                *(() if dests is None and files is None else (dests, self._room)),
                *(() if files is None else (files,)))
        finally:
            native.release()
        return int(done), sizes


@functools.cache
def _kernels():
    """:mod:`exzarr.kernels.encode_gather` (its import loads Numba), looked up once: an
    import statement per call costs more than the rest of the Python around a call."""
    from ..kernels import encode_gather
    return encode_gather


def _fill_words(shape: tuple[int, ...], value: np.ndarray,
                shuffle: Preshuffle | None = None) -> np.ndarray:
    """The bytes of a chunk of ``shape`` entirely ``value`` (shuffled as the kernel
    shuffles a chunk, when ``shuffle``), as uint64 words (zero past its end); made once
    per distinct chunk up to :data:`FILL_CACHE_BYTES` (a 1 MiB pattern costs ~1 ms: every
    write would pay it) and shared, never written."""
    args = (shape, value.dtype.str, value.tobytes(), shuffle)
    if math.prod(shape) * value.itemsize > FILL_CACHE_BYTES:
        return _fill_pattern.__wrapped__(*args)
    return _fill_pattern(*args)


#: fill patterns of chunks up to this size are kept (the last eight)
FILL_CACHE_BYTES = 4 << 20


@functools.lru_cache(maxsize=8)
def _fill_pattern(shape: tuple[int, ...], dtype: str, value: bytes,
                  shuffle: Preshuffle | None) -> np.ndarray:
    pattern = np.broadcast_to(np.frombuffer(value, dtype=dtype).reshape(()), shape)
    nbytes = pattern.size * pattern.dtype.itemsize
    words = np.zeros(-(-nbytes // 8), dtype=np.uint64)
    raw = np.ascontiguousarray(pattern).reshape(-1).view(np.uint8)
    if shuffle is not None:
        raw = shuffle_blocks(raw, shuffle.typesize, shuffle.block)
    words.view(np.uint8)[:nbytes] = raw
    return words


def _encoder(native: NativeEncoder | None, spec, fill_value, source,
             per_call: int) -> BatchEncoder | None:
    if native is None or source is None or not config.get().jit or not jit.numba_available():
        return None
    chunk = tuple(int(c) for c in spec.shape)
    src = source.src
    if (src.dtype != spec.dtype or src.ndim != len(chunk)
            or not chunk or src.strides[-1] != src.dtype.itemsize
            or any(s < 0 for s in src.strides)):
        return None
    try:  # the kernel needs only the first element's address (Numba has no float16)
        data = src.view(np.uint8)
    except ValueError:  # NumPy cannot view these items as bytes in place
        return None
    fill = fill_bits(spec.dtype, fill_value) if spec.dtype.isnative else None
    if fill is None:
        return None
    return BatchEncoder(native, src, data, source.tuples, chunk, fill, per_call)


def batch_encoder(state, source) -> BatchEncoder | None:
    """The batch encoder of a sharded write whose value is ``source`` (the writer's basic
    putter: ``.src``, ``.tuples``; None for other selections), or None when it cannot be
    used (see the module docstring)."""
    p = state.pipeline
    found = p.inner_encoder
    if found is None:
        return None
    spec = p.inner_spec
    return _encoder(found, spec, spec.fill_value, source, math.prod(p.chunks_per_shard))


def chunk_encoder(state, source, per_call: int = 1) -> BatchEncoder | None:
    """The encoder of the chunks an unsharded write covers whole (``per_call`` or fewer
    per call, with ``minimum=1``), on the same conditions, for arrays whose chunks are
    plain zstd or blosc frames of their bytes in C order; None otherwise."""
    p = state.pipeline
    found = p.native_encoder
    meta = state.meta
    if found is None or meta.order != "C" or tuple(p.spec.shape) != tuple(meta.chunks):
        return None
    return _encoder(found, p.spec, state.fill, source, per_call)
