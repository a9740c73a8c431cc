"""dask.array <-> exzarr.

::

    from exzarr.integrations.dask import to_dask, store

    d = to_dask(z)                 # lazy dask array, one task per Zarr chunk
    d = to_dask(xp.sqrt(z) + w)    # an exzarr expression: one task per evaluation block
    store(d * 2, out)              # write a dask array into a ZArray, chunk by chunk

``to_dask`` wraps a ``ZArray`` (or a lazy view of one) with ``dask.array.from_array``;
each task reads its block as ``np.asarray(z[block_slices])``, i.e. through an exzarr view
that fetches and decodes only the chunks the block touches.  The default dask chunks are
the Zarr chunks (the inner chunks of a sharded array; pass ``chunks=z.shards`` to read a
whole shard per task).

``store``/``from_dask`` write with ``dask.array.store(..., lock=False)``: each block is an
ordinary ``z[region] = block`` assignment.  When the dask chunks align with the Zarr write
units (chunks, or shards for a sharded array) every task writes whole chunks of its own.
When they do not, two tasks may update the same chunk: within one process exzarr
serialises such read-modify-writes with its per-chunk locks, so no update is lost (dask's
threaded and synchronous schedulers, a thread pool, a ``dask.distributed`` cluster whose
workers run in this process).  Those locks cannot reach other processes: ``store`` then
emits one :class:`UnalignedWriteWarning` (see below) instead of silently losing updates.

Schedulers: every dask scheduler works.  ``ZArray``s (stored arrays, views and lazy
expressions) pickle as (store, path, metadata, selection) or as their expression tree and
reopen their arrays in the worker process; the store must be reachable from there (a local
path, a SQLite file or a cloud URL; a ``memory://`` store refuses with
``StoreNotSharedError``; a zip archive reaches other processes for reading only, as last
flushed, and refuses writes there with ``ReadOnlyError``).  exzarr's
per-chunk locks serialise writes within one process only: with schedulers that write
from several processes (``"processes"``, a process pool, ``dask.distributed`` with
workers outside this process) ``store`` warns (:class:`UnalignedWriteWarning`, once per
call) when the blocks are not aligned and no ``lock=`` is given; align them
(``darr.rechunk(write_chunks(z))``) or pass a ``lock=`` those processes share
(``distributed.Lock()``).

This module imports dask; ``exzarr.integrations`` does not import it.
"""

from __future__ import annotations

import types
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
import dask.array as da
from ..array.zarray import ZArray
from ..errors import ShapeMismatchError

__all__ = ["to_dask", "from_dask", "store", "chunks_aligned", "write_chunks", "DaskAdapter",
           "UnalignedWriteWarning"]


class UnalignedWriteWarning(UserWarning):
    """A dask write whose blocks share Zarr chunks (or shards) runs in several processes
    without a shared lock: concurrent read-modify-writes of a shared chunk can lose
    updates.  Align the blocks (``darr.rechunk(write_chunks(z))``) or pass ``lock=``."""


class DaskAdapter:
    """What dask holds in its graph: reads ``np.asarray(z[key])`` and writes
    ``z[key] = value`` through the wrapped ``ZArray``; picklable, so tasks can run in
    other processes (the array is reopened there from its store and metadata)."""

    __slots__ = ("z",)

    def __init__(self, z):
        self.z = z

    @property
    def shape(self):
        return self.z.shape

    @property
    def dtype(self):
        return self.z.dtype

    @property
    def ndim(self):
        return self.z.ndim

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, key):
        return np.asarray(self.z[key])

    def __setitem__(self, key, value):
        self.z[key] = value

    def __reduce__(self):
        return (DaskAdapter, (self.z,))

    def __repr__(self):
        return f"DaskAdapter({self.z!r})"


def to_dask(z, chunks=None, *, name: str | None = None, inline_array: bool = False,
            **kwargs) -> da.Array:
    """A lazy ``dask.array.Array`` reading ``z`` (a ``ZArray``, a view, or a lazy exzarr
    expression: then one task per evaluation block, each evaluated by exzarr) through
    exzarr.

    ``chunks`` defaults to ``z.chunks`` (clipped to the shape of a view); anything
    ``dask.array.from_array`` accepts works (``"auto"``, a tuple, a dict, ``-1``).
    ``name`` defaults to a fresh unique name (stored data can change between calls, so
    names are not derived from the array's contents); ``kwargs`` go to ``from_array``.
    """
    if chunks is None:
        chunks = _default_chunks(z)
    if name is None:
        name = f"exzarr-{uuid.uuid4().hex}"
    meta = np.empty((0,) * z.ndim, dtype=z.dtype)
    return da.from_array(DaskAdapter(z), chunks=chunks, name=name, asarray=True, meta=meta,
                         inline_array=inline_array, **kwargs)


def _default_chunks(z) -> tuple[int, ...] | str:
    if not z.is_view:
        return tuple(max(1, c) for c in z.chunks)
    # a view's axes need not correspond to the stored ones: use the chunk shape where the
    # ranks agree (clipped to the view), otherwise let dask choose
    if z.ndim == len(z.chunks):
        return tuple(max(1, min(c, s)) if s else 1 for c, s in zip(z.chunks, z.shape))
    return "auto"


def write_chunks(z) -> tuple[int, ...]:
    """The write unit of ``z``: its shard shape when sharded, else its chunk shape."""
    return tuple(z.shards or z.chunks)


def chunks_aligned(darr: da.Array, z, region=None) -> bool:
    """Whether every block boundary of ``darr`` (placed at ``region`` of ``z``) falls on a
    boundary of the Zarr write units, so no two blocks share a chunk (or shard)."""
    if getattr(z, "is_view", False):
        return False
    starts = _region_starts(z, region)
    for axis, (bchunks, unit, start, size) in enumerate(
            zip(darr.chunks, write_chunks(z), starts, z.shape)):
        pos = start
        for b in bchunks[:-1]:
            pos += b
            if pos % unit and pos != size:
                return False
    return True


def _region_starts(z, region) -> tuple[int, ...]:
    if region is None:
        return (0,) * z.ndim
    starts = []
    for sl, size in zip(region, z.shape):
        if not isinstance(sl, slice) or sl.step not in (None, 1):
            raise ValueError(f"region must be a tuple of contiguous slices, got {region!r}")
        starts.append(sl.indices(size)[0])
    return tuple(starts)


def store(darr: da.Array, z, *, region=None, lock=None, compute: bool = True, **kwargs):
    """Write the dask array ``darr`` into ``z`` (at ``region``, a tuple of slices).

    ``lock`` defaults to ``False``: aligned blocks write disjoint chunks, and unaligned
    ones are serialised per chunk by exzarr (see the module docstring).  With
    ``compute=False`` the delayed store is returned; ``kwargs`` go to
    ``dask.array.store`` (e.g. ``scheduler=``).
    """
    if tuple(darr.shape) != tuple(_target_shape(z, region)):
        raise ShapeMismatchError(
            f"cannot store a dask array of shape {tuple(darr.shape)} into "
            f"{'region ' + repr(region) + ' of ' if region is not None else ''}an array of "
            f"shape {tuple(z.shape)}: the shapes differ")
    if lock is None:
        lock = False
    if lock is False and not chunks_aligned(darr, z, region) \
            and _writes_from_other_processes(kwargs.get("scheduler"), darr):
        unit = write_chunks(z)
        warnings.warn(
            f"the blocks of this dask array {tuple(tuple(c) for c in darr.chunks)} are not "
            f"aligned with the {'shards' if z.shards else 'chunks'} {unit} of the target, "
            f"and the scheduler writes from other processes, where exzarr's per-chunk "
            f"locks do not reach: two tasks writing parts of the same chunk can lose "
            f"updates. Rechunk first (darr.rechunk({unit})), pass lock= (e.g. "
            f"distributed.Lock()), or use the threaded scheduler",
            UnalignedWriteWarning, stacklevel=_caller_stacklevel())
    # dask takes any target with numpy-style __setitem__ (its docs); its annotation says ArrayLike
    return da.store(darr, DaskAdapter(z), regions=region, lock=lock,  # type: ignore[arg-type]
                    compute=compute, **kwargs)


def _caller_stacklevel() -> int:
    """The stack level of the first frame outside this module (``store`` or ``from_dask``)."""
    import sys
    level = 1
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        level += 1
        frame = frame.f_back
    return level


def _writes_from_other_processes(scheduler, darr) -> bool:
    """Whether the scheduler ``dask.compute`` would use runs tasks outside this process:
    False for the threaded and synchronous schedulers, a thread pool and a distributed
    cluster whose workers all live in this process (``inproc://``); True otherwise."""
    import dask.local
    import dask.threaded
    from dask.base import get_scheduler
    try:
        get = get_scheduler(scheduler=scheduler, collections=[darr])
    except Exception:  # dask will say what is wrong with the scheduler itself
        return False
    if get is None or get in (dask.threaded.get, dask.local.get_sync):
        return False
    if isinstance(get, partial) and get.args:  # an Executor: get_async(executor.submit, n)
        return not isinstance(getattr(get.args[0], "__self__", None), ThreadPoolExecutor)
    client = getattr(get, "__self__", None)
    if client is not None and "Client" in type(client).__name__:
        try:
            workers = client.scheduler_info(n_workers=-1).get("workers", {})
        except TypeError:  # older distributed: no n_workers
            workers = client.scheduler_info().get("workers", {})
        except Exception:
            return True
        return not workers or not all(str(a).startswith("inproc://") for a in workers)
    return True


def from_dask(darr: da.Array, z, **kwargs):
    """Alias of :func:`store` with the arguments in ``(source, target)`` order."""
    return store(darr, z, **kwargs)


def _target_shape(z, region) -> tuple[int, ...]:
    if region is None:
        return tuple(z.shape)
    return tuple(len(range(*sl.indices(s))) for sl, s in zip(region, z.shape))

