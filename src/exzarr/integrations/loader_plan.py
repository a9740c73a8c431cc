"""Epoch plans for the batch loader: which samples a rank gets, in which order, and how
they are cut into read windows.  Pure NumPy on index arrays; nothing here reads data.

An epoch plan is made in three steps, identically on every rank (same seed, same epoch):

1. the **global order** of all ``n`` samples: ``arange(n)`` (sequential), an exact
   permutation (``shuffle=True``), or a chunk-buffer order (``shuffle="chunks"``: the
   chunks are permuted, taken ``shuffle_buffer`` at a time, and the samples of each such
   group are permuted among themselves);
2. the **rank's span**: a contiguous slice of the global order, balanced so that every
   rank yields the same number of batches and every sample goes to exactly one rank
   (``drop_last=True`` instead drops the tail of the order that does not fill a batch on
   every rank);
3. the **windows**: the rank's span is cut into consecutive pieces, each read with one
   call that decodes every chunk it touches once, then served as batches: sequential
   windows end on chunk boundaries, chunk-buffer windows are one group each (so each
   chunk is decoded once per epoch), global-shuffle windows are ``window`` batches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from ..errors import ShapeMismatchError

__all__ = ["Shuffle", "EpochPlan", "parse_shuffle", "seed_entropy", "epoch_rng",
           "global_order", "rank_span", "batches_per_rank", "plan_epoch"]


class Shuffle(StrEnum):
    """The loader's shuffling modes (``shuffle=False`` / ``"chunks"`` / ``True``)."""

    NONE = "none"
    CHUNKS = "chunks"
    GLOBAL = "global"


def parse_shuffle(value: object) -> Shuffle:
    if value is False or value is None or value == "none":
        return Shuffle.NONE
    if value is True or value == "global":
        return Shuffle.GLOBAL
    if value == "chunks":
        return Shuffle.CHUNKS
    raise ValueError(f"shuffle={value!r} is not a shuffling mode: pass False (sequential), "
                     f"'chunks' (chunk-buffer shuffle) or True (exact global permutation)")


def seed_entropy(seed: object) -> int:
    """The non-negative integer every epoch's generator derives from: ``seed`` itself (an
    int), one draw from a ``numpy.random.Generator``, or fresh OS entropy (``None``)."""
    if seed is None:
        entropy = np.random.SeedSequence().entropy
        assert isinstance(entropy, int)
        return entropy
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63))
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"seed={seed} is negative; pass a non-negative int or a "
                             f"numpy.random.Generator")
        return int(seed)
    raise TypeError(f"seed must be an int, a numpy.random.Generator or None, not "
                    f"{type(seed).__name__}")


def epoch_rng(entropy: int, epoch: int) -> np.random.Generator:
    """Epoch ``epoch``'s own generator: independent streams for different epochs."""
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(int(epoch),)))


def global_order(n: int, mode: Shuffle, chunk_ids: np.ndarray, buffer_chunks: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(order, key)``: the epoch's order of all samples and, per position, the unit a
    window must not split across carelessly (the chunk in sequential mode, the buffer
    group in chunk-buffer mode, nothing for a global shuffle)."""
    if mode is Shuffle.NONE:
        order = np.arange(n, dtype=np.int64)
        return order, chunk_ids
    if mode is Shuffle.GLOBAL:
        return rng.permutation(n).astype(np.int64, copy=False), np.zeros(n, dtype=np.int64)
    # chunk buffer: permute the chunks, group them buffer_chunks at a time, then permute
    # the samples inside each group (a stable sort on group id of a random order)
    uniq, chunk_of = np.unique(chunk_ids, return_inverse=True)
    chunk_pos = np.empty(len(uniq), dtype=np.int64)
    chunk_pos[rng.permutation(len(uniq))] = np.arange(len(uniq), dtype=np.int64)
    group = chunk_pos[chunk_of.reshape(-1)] // max(1, int(buffer_chunks))
    within = rng.permutation(n)
    order = within[np.argsort(group[within], kind="stable")].astype(np.int64, copy=False)
    return order, group[order]


def batches_per_rank(n: int, batch_size: int, world_size: int, drop_last: bool) -> int:
    if drop_last:
        return n // (world_size * batch_size)
    return math.ceil(n / (world_size * batch_size))


def rank_span(n: int, batch_size: int, world_size: int, rank: int,
              drop_last: bool) -> tuple[int, int]:
    """``[start, stop)`` of the global order that ``rank`` yields.

    ``drop_last=False``: the ranks get ``n // world_size`` or one more samples, which
    gives every rank the same number of batches unless fewer samples are left for the
    last round of batches than there are ranks; that case raises (equal batch counts
    would need a sample repeated or dropped).  ``drop_last=True``: every rank gets the
    same whole number of full batches; the rest of the order is dropped.
    """
    if drop_last:
        per = batch_size * (n // (world_size * batch_size))
        return rank * per, (rank + 1) * per
    k = batches_per_rank(n, batch_size, world_size, drop_last)
    q, extra = divmod(n, world_size)
    if world_size > 1 and k > 0 and q < (k - 1) * batch_size + 1:
        need = world_size * ((k - 1) * batch_size + 1)
        raise ShapeMismatchError(
            f"{n} samples cannot be split over world_size={world_size} ranks into the same "
            f"number of batches of at most batch_size={batch_size} without repeating or "
            f"dropping a sample (that needs at least {need} samples, or at most "
            f"{world_size * (k - 1) * batch_size}): pass drop_last=True (drops "
            f"{n - world_size * batch_size * (n // (world_size * batch_size))} samples) or "
            f"choose another batch_size")
    start = rank * q + min(rank, extra)
    return start, start + q + (1 if rank < extra else 0)


def _cut_at_keys(key: np.ndarray, target: int) -> list[tuple[int, int]]:
    """Consecutive ``(start, stop)`` pieces of at least ``target`` positions (except the
    last) that end where ``key`` changes, so no chunk is split between two windows."""
    m = len(key)
    if m == 0:
        return []
    bounds = np.flatnonzero(key[1:] != key[:-1]) + 1
    pieces, start = [], 0
    while start < m:
        j = int(np.searchsorted(bounds, start + max(1, target)))
        stop = int(bounds[j]) if j < len(bounds) else m
        pieces.append((start, stop))
        start = stop
    return pieces


@dataclass(frozen=True)
class EpochPlan:
    """One rank's epoch: its samples in order and the windows they are read in."""

    epoch: int
    samples: np.ndarray                  # indices along the axis, in the order yielded
    windows: tuple[tuple[int, int], ...]  # [start, stop) positions into ``samples``
    batch_size: int

    def batch_indices(self) -> list[np.ndarray]:
        b = self.batch_size
        return [self.samples[i:i + b] for i in range(0, len(self.samples), b)]

    def window_indices(self) -> list[np.ndarray]:
        return [self.samples[a:b] for a, b in self.windows]


def plan_epoch(*, n: int, mode: Shuffle, chunk_ids: np.ndarray, buffer_chunks: int,
               window_samples: int, batch_size: int, world_size: int, rank: int,
               drop_last: bool, entropy: int, epoch: int) -> EpochPlan:
    order, key = global_order(n, mode, chunk_ids, buffer_chunks, epoch_rng(entropy, epoch))
    start, stop = rank_span(n, batch_size, world_size, rank, drop_last)
    samples, key = order[start:stop], key[start:stop]
    if mode is Shuffle.GLOBAL:
        step = max(1, window_samples)
        windows = [(a, min(a + step, len(samples))) for a in range(0, len(samples), step)]
    elif mode is Shuffle.CHUNKS:
        windows = _cut_at_keys(key, 1)          # one buffer group per window
    else:
        windows = _cut_at_keys(key, window_samples)
    return EpochPlan(epoch, samples, tuple(windows), batch_size)
