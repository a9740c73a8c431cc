"""Batches for machine learning: ``ez.loader(arrays, batch_size, ...)``.

::

    for x, y in ez.loader((features, labels), 256, shuffle=True, seed=0):
        train_step(x, y)

Iterates batches along ``axis`` of one array, or of a tuple of arrays with the same
length along that axis (features and labels stay aligned: batch ``i`` of each holds the
same samples).  A batch is a NumPy array (one input) or a tuple of arrays in the order
given; ``xp=`` hands it to another array library through DLPack.

Shuffling modes, and the randomness each gives (see :mod:`.loader_plan`):

* ``shuffle=False``: samples in order.  Read in windows that end on chunk boundaries:
  every chunk is decoded once per epoch.
* ``shuffle="chunks"``: a chunk-buffer shuffle.  The order of the chunks is permuted; they
  are taken ``shuffle_buffer`` chunks at a time into a buffer and the buffer's samples
  are permuted.  Every chunk is decoded once per epoch, in place into a reused buffer,
  and each batch is gathered from the buffer; memory holds about ``prefetch + 2`` buffers.  A batch mixes samples of ``shuffle_buffer`` chunks, not of
  the whole array, and samples of one chunk stay within one buffer's run of batches.
* ``shuffle=True``: an exact, uniformly random permutation of all samples.  The samples
  of ``window`` upcoming batches are read in one go, grouped by chunk, so each chunk is
  decoded once per window rather than once per sample; memory holds about
  ``prefetch + 2`` windows.

``seed`` (an int or a ``numpy.random.Generator``) fixes the orders: the same seed gives
the same batches.  Each iteration is one epoch and uses its own permutation: the first
iteration is epoch 0, the next epoch 1, and so on; ``set_epoch(n)`` makes the next
iteration epoch ``n`` (call it each epoch with several ranks or PyTorch workers, so every
process agrees).  ``rank``/``world_size`` split every epoch over processes: each sample
goes to exactly one rank and every rank yields ``len(loader)`` batches.

Windows are read and batched on exzarr's executor ``prefetch`` thread while the caller
works on earlier batches.  Stopping early (``break``, an exception, dropping the
iterator) cancels what has not started and waits for what has: no reads outlive the
iteration.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import executor
from ..errors import ShapeMismatchError
from .loader_plan import EpochPlan, Shuffle, parse_shuffle, plan_epoch, rank_span, seed_entropy
from .loader_source import BufferPool, Part, Source, to_xp

__all__ = ["Loader", "LoaderOptions", "loader", "WINDOW_BYTES", "CHUNK_BUFFER_BYTES",
           "GLOBAL_WINDOW_BYTES"]

#: the default memory budget of one sequential read: the default ``window`` is as many
#: batches as fit in it.  Small enough that a window stays in the CPU's last-level cache
#: while its batches are served and that the allocator reuses freed windows (a larger,
#: freshly mapped window costs the kernel zeroing its pages every time)
WINDOW_BYTES = 16 * 2**20
#: the default chunk-buffer size (``shuffle="chunks"``): the default ``shuffle_buffer`` is
#: as many chunks as fit in it.  Buffers are reused from window to window; larger ones
#: mix more chunks per batch but no longer stay in cache while batches are gathered
CHUNK_BUFFER_BYTES = 32 * 2**20
#: the same for a global shuffle, larger: each window decodes about every chunk once, so
#: fewer, larger windows decode less
GLOBAL_WINDOW_BYTES = 256 * 2**20

Batch = Any  # an array of the output library, or a tuple of them


@dataclass(frozen=True)
class LoaderOptions:
    """A loader's resolved settings (defaults filled in)."""

    batch_size: int
    shuffle: Shuffle
    drop_last: bool
    axis: int
    shuffle_buffer: int      # chunks per buffer (shuffle="chunks")
    window: int              # batches per read window (shuffle=True and sequential)
    prefetch: int            # windows prepared ahead in the background (0: none)
    rank: int
    world_size: int
    progress: bool
    seed: int                # the entropy every epoch's permutation derives from


def _positive(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, not {value!r}")
    return int(value)


class Loader:
    """An iterable of batches; see :func:`loader`."""

    def __init__(self, arrays: Any, batch_size: int, *, shuffle: bool | str = False,
                 seed: int | np.random.Generator | None = None, drop_last: bool = False,
                 axis: int = 0, shuffle_buffer: int | None = None, window: int | None = None,
                 prefetch: int = 2, rank: int = 0, world_size: int = 1, xp: Any = None,
                 progress: bool = False) -> None:
        self._single = not isinstance(arrays, (tuple, list))
        items: Sequence[Any] = (arrays,) if self._single else tuple(arrays)
        if not items:
            raise ValueError("loader() needs at least one array")
        batch_size = _positive("batch_size", batch_size)
        world_size = _positive("world_size", world_size)
        rank = _positive("rank", rank, 0)
        if rank >= world_size:
            raise ValueError(f"rank={rank} must be < world_size={world_size}")
        prefetch = _positive("prefetch", prefetch, 0)
        mode = parse_shuffle(shuffle)
        if mode is not Shuffle.NONE and seed is None and world_size > 1:
            raise ValueError(f"shuffle={shuffle!r} with world_size={world_size} needs a seed= "
                             f"shared by every rank: without one each rank would draw its own "
                             f"permutation and samples would be repeated and missed")
        if xp is not None and not (hasattr(xp, "from_dlpack") or hasattr(xp, "asarray")):
            raise TypeError(f"xp={xp!r} is not an array namespace (it has neither "
                            f"from_dlpack nor asarray)")
        names = ["array"] if self._single else [f"arrays[{i}]" for i in range(len(items))]
        self._sources = [Source(a, axis, nm) for a, nm in zip(items, names)]
        lengths = {s.n for s in self._sources}
        if len(lengths) > 1:
            desc = ", ".join(f"{s.name} has {s.n}" for s in self._sources)
            raise ShapeMismatchError(f"the arrays must have the same length along axis {axis} "
                                     f"to stay aligned: {desc}; slice them to a common length")
        self._n = lengths.pop()
        # chunk geometry of the input that costs most to read steers the grouping
        lead = max(self._sources, key=lambda s: s.bytes_per_sample)
        self._lead = lead
        self._chunk_ids: np.ndarray | None = None
        per_sample = sum(s.bytes_per_sample for s in self._sources)
        if window is None:
            budget = GLOBAL_WINDOW_BYTES if mode is Shuffle.GLOBAL else WINDOW_BYTES
            window = max(1, budget // (per_sample * batch_size))
        if shuffle_buffer is None:
            shuffle_buffer = (max(1, CHUNK_BUFFER_BYTES // (per_sample * lead.chunk_len()))
                              if mode is Shuffle.CHUNKS else 1)
        self.options = LoaderOptions(
            batch_size=batch_size, shuffle=mode, drop_last=bool(drop_last),
            axis=self._sources[0].axis, shuffle_buffer=_positive("shuffle_buffer", shuffle_buffer),
            window=_positive("window", window), prefetch=prefetch, rank=rank,
            world_size=world_size, progress=bool(progress), seed=seed_entropy(seed))
        self._xp = xp
        self._epoch = 0
        # fail now, not at the first iteration, if the split cannot be balanced
        rank_span(self._n, batch_size, world_size, rank, bool(drop_last))

    # -- epochs and sizes ---------------------------------------------------------------
    @property
    def epoch(self) -> int:
        """The epoch the next iteration runs."""
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration epoch ``epoch`` (its own permutation)."""
        self._epoch = _positive("epoch", epoch, 0)

    @property
    def num_samples(self) -> int:
        """Samples along the axis (all ranks)."""
        return self._n

    def __len__(self) -> int:
        """Batches this rank yields per epoch."""
        o = self.options
        start, stop = rank_span(self._n, o.batch_size, o.world_size, o.rank, o.drop_last)
        return math.ceil((stop - start) / o.batch_size)

    def plan(self, epoch: int | None = None) -> EpochPlan:
        """This rank's plan for ``epoch`` (default: the next): the sample indices it
        yields, in order, and the windows they are read in.  Reads nothing."""
        o = self.options
        if self._chunk_ids is None:
            self._chunk_ids = self._lead.chunk_ids()
        return plan_epoch(n=self._n, mode=o.shuffle, chunk_ids=self._chunk_ids,
                          buffer_chunks=o.shuffle_buffer, window_samples=o.window * o.batch_size,
                          batch_size=o.batch_size, world_size=o.world_size, rank=o.rank,
                          drop_last=o.drop_last,
                          entropy=o.seed, epoch=self._epoch if epoch is None else epoch)

    def batch_indices(self, epoch: int | None = None) -> list[np.ndarray]:
        """The sample indices of each batch this rank yields in ``epoch`` (default: the
        next), without reading anything."""
        return self.plan(epoch).batch_indices()

    # -- iteration ----------------------------------------------------------------------
    def __iter__(self) -> Iterator[Batch]:
        epoch = self._epoch
        self._epoch = epoch + 1
        return self._iterate(self.plan(epoch))

    def _read_window(self, idx: np.ndarray, pool: BufferPool | None) -> tuple[Part, ...]:
        return tuple(s.read_part(idx, pool) for s in self._sources)

    def _iterate(self, plan: EpochPlan) -> Iterator[Batch]:
        o = self.options
        windows = plan.window_indices()
        # buffers of windows whose batches were all gathered: one per source and window
        # that can be alive at once (reading ahead, being read, being served)
        pool = BufferPool(keep=len(self._sources) * (o.prefetch + 2))
        read = functools.partial(self._read_window, pool=pool)
        reads: Generator[tuple[Part, ...], None, None]
        if o.prefetch > 0:
            reads = executor.prefetch(read, windows, ahead=o.prefetch,
                                      store=self._lead.store)
        else:
            reads = (read(w) for w in windows)
        batches = _assemble(reads, o.batch_size)
        bar = _progress_bar(len(plan.batch_indices()), plan.epoch) if o.progress else None
        try:
            for batch in batches:
                out = tuple(to_xp(b, self._xp) for b in batch)
                if bar is not None:
                    bar.update(1)
                yield out[0] if self._single else out
        finally:
            batches.close()
            reads.close()  # cancels reads not started, waits for running ones
            if bar is not None:
                bar.close()

    def __repr__(self) -> str:
        o = self.options
        return (f"Loader({len(self._sources)} array(s), {self._n} samples, "
                f"batch_size={o.batch_size}, shuffle={o.shuffle.value}, rank={o.rank}/"
                f"{o.world_size}, {len(self)} batches per epoch)")


def _assemble(reads: Iterator[tuple[Part, ...]],
              batch_size: int) -> Generator[tuple[np.ndarray, ...], None, None]:
    """Consecutive batches of ``batch_size`` samples from consecutive windows: a batch
    inside one window is a view of it (or gathered from its buffer), one spanning two
    windows a concatenation.  A window is released once all its batches are out."""
    carry: list[tuple[np.ndarray, ...]] = []
    have = 0
    for window in reads:
        axis = window[0].axis
        m = window[0].n
        pos = 0
        if have:
            take = min(batch_size - have, m)
            carry.append(tuple(p.take(0, take) for p in window))
            have += take
            pos = take
            if have == batch_size:
                yield tuple(np.concatenate(parts, axis=axis) for parts in zip(*carry))
                carry, have = [], 0
        while m - pos >= batch_size:
            yield tuple(p.take(pos, pos + batch_size) for p in window)
            pos += batch_size
        if pos < m:
            carry.append(tuple(p.take(pos, m) for p in window))
            have += m - pos
        for p in window:
            p.release()
    if have:
        yield tuple(np.concatenate(parts, axis=axis) for parts in zip(*carry))


def _progress_bar(total: int, epoch: int) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError as e:  # pragma: no cover - tqdm is a dependency
        raise ImportError("progress=True needs tqdm: pip install tqdm") from e
    return tqdm(total=total, desc=f"epoch {epoch}", unit="batch")


def loader(arrays: Any, batch_size: int, *, shuffle: bool | str = False,
           seed: int | np.random.Generator | None = None, drop_last: bool = False,
           axis: int = 0, shuffle_buffer: int | None = None, window: int | None = None,
           prefetch: int = 2, rank: int = 0, world_size: int = 1, xp: Any = None,
           progress: bool = False) -> Loader:
    """Batches of ``batch_size`` samples along ``axis`` of ``arrays`` (a ZArray, a view, or
    a tuple of arrays aligned along ``axis``).

    ``shuffle``: ``False`` (in order), ``"chunks"`` (chunk-buffer shuffle over
    ``shuffle_buffer`` chunks; default: as many as fit in 32 MiB) or ``True`` (exact
    global permutation, read ``window`` batches at a time; default: as many as fit in
    256 MiB).  ``seed``: int or ``numpy.random.Generator``; with several ranks every rank
    must pass the same one.  ``drop_last``: drop samples that do not fill a batch on
    every rank.  ``prefetch``: windows read ahead in the background (0: read on the
    caller's thread).  ``rank``/``world_size``: this process's share.  ``xp``: an array
    namespace (e.g. ``torch``, ``cupy``, ``array_api_strict``) that each batch is handed
    to through DLPack.  ``progress``: a tqdm progress bar per epoch.

    Raises ShapeMismatchError for arrays of different lengths along ``axis``, an axis an
    array lacks, or a split that cannot give every rank the same number of batches.
    """
    return Loader(arrays, batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last,
                  axis=axis, shuffle_buffer=shuffle_buffer, window=window, prefetch=prefetch,
                  rank=rank, world_size=world_size, xp=xp, progress=progress)
