"""PyTorch: an ``IterableDataset`` over :func:`exzarr.loader` batches.

::

    from torch.utils.data import DataLoader
    from exzarr.integrations.torch import iterable_dataset

    ds = iterable_dataset((features, labels), 256, shuffle=True, seed=0, num_workers=2)
    dl = DataLoader(ds, batch_size=None, num_workers=2)   # the dataset yields whole batches
    for epoch in range(10):
        ds.set_epoch(epoch)
        for x, y in dl:
            ...

Inside ``DataLoader`` workers each worker yields its own share of the rank's samples:
worker ``w`` of ``W`` on rank ``r`` of ``R`` loads as rank ``r * W + w`` of ``R * W``, so
every sample is seen by exactly one worker of one rank per epoch.  Pass the
DataLoader's ``num_workers`` so ``len()`` counts the batches all workers yield.  Call
``set_epoch`` before each epoch (workers are copies of the dataset made when the epoch
starts; with ``persistent_workers=True`` the workers advance the epoch themselves).

Fork-safe: nothing is read and no thread is started until a worker iterates, and
exzarr's executor starts fresh thread pools in a forked worker.  Workers started with
``spawn``/``forkserver`` receive the dataset pickled: ZArrays (and lazy expressions over
them) pickle as their store and metadata and reopen there, so every start method works
with stores the workers can reach (not ``memory://``, which refuses with
``StoreNotSharedError`` in another process).

This module imports torch only inside :func:`iterable_dataset`; :class:`LoaderDataset`
holds all of the logic and is usable (and tested) without torch.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator
from typing import Any

from .loader import Loader

__all__ = ["LoaderDataset", "iterable_dataset", "worker_split"]


def worker_split(rank: int, world_size: int, worker_id: int,
                 num_workers: int) -> tuple[int, int]:
    """``(rank, world_size)`` that worker ``worker_id`` of ``num_workers`` on ``rank`` of
    ``world_size`` loads as."""
    if not 0 <= worker_id < num_workers:
        raise ValueError(f"worker_id={worker_id} must be in [0, num_workers={num_workers})")
    return rank * num_workers + worker_id, world_size * num_workers


class LoaderDataset:
    """The torch-free logic of the adapter: makes this worker's :class:`Loader` when it is
    iterated.  ``worker_info()`` returns ``(worker_id, num_workers)`` or ``None`` outside
    workers; the torch subclass asks ``torch.utils.data.get_worker_info()``."""

    def __init__(self, arrays: Any, batch_size: int, *, num_workers: int | None = None,
                 **options: Any) -> None:
        # built once here (in the main process) to validate the arguments and fix the
        # seed: every worker must derive the same permutation from it
        base = Loader(arrays, batch_size, **options)
        self._arrays = arrays
        self._batch_size = batch_size
        self._options = {**options, "seed": base.options.seed}
        self._rank = base.options.rank
        self._world_size = base.options.world_size
        self._num_workers = num_workers
        self._epoch = 0
        if num_workers:  # validate the split the workers will use
            for w in range(num_workers):
                self._loader(w, num_workers)

    def worker_info(self) -> tuple[int, int] | None:
        return None

    def set_epoch(self, epoch: int) -> None:
        self._epoch = int(epoch)

    def _loader(self, worker_id: int, num_workers: int) -> Loader:
        rank, world = worker_split(self._rank, self._world_size, worker_id, num_workers)
        ld = Loader(self._arrays, self._batch_size,
                    **{**self._options, "rank": rank, "world_size": world})
        ld.set_epoch(self._epoch)
        return ld

    def _current(self) -> tuple[int, int]:
        info = self.worker_info()
        worker_id, num_workers = info if info is not None else (0, 1)
        expected = max(1, self._num_workers or 0)
        if self._num_workers is not None and num_workers != expected:
            raise ValueError(f"this dataset was made with num_workers={self._num_workers} but "
                             f"runs in a DataLoader with num_workers={num_workers if info else 0}:"
                             f" pass the DataLoader's num_workers to iterable_dataset()")
        return worker_id, num_workers

    def __iter__(self) -> Iterator[Any]:
        ld = self._loader(*self._current())
        self._epoch += 1  # a persistent worker's copy moves on to the next epoch by itself
        return iter(ld)

    def __len__(self) -> int:
        """Batches per epoch of this rank, all workers together."""
        info = self.worker_info()
        if info is not None:
            return len(self._loader(*info))
        n = max(1, self._num_workers or 0)
        return sum(len(self._loader(w, n)) for w in range(n))


@functools.cache
def _torch_class() -> type:
    tud = importlib.import_module("torch.utils.data")  # torch only when used

    def worker_info(self: LoaderDataset) -> tuple[int, int] | None:
        info = tud.get_worker_info()
        return None if info is None else (int(info.id), int(info.num_workers))

    return type("ZarrIterableDataset", (LoaderDataset, tud.IterableDataset), {
        "worker_info": worker_info, "__module__": __name__,
        "__doc__": ":class:`LoaderDataset` as a ``torch.utils.data.IterableDataset``."})


def iterable_dataset(arrays: Any, batch_size: int, *, num_workers: int | None = None,
                     **options: Any) -> Any:
    """A ``torch.utils.data.IterableDataset`` yielding the batches of
    ``exzarr.loader(arrays, batch_size, **options)``, split over DataLoader workers; use it
    with ``DataLoader(ds, batch_size=None, num_workers=num_workers)``."""
    return _torch_class()(arrays, batch_size, num_workers=num_workers, **options)
