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
When they do not, two tasks may update the same chunk: exzarr serialises such
read-modify-writes with its per-chunk locks, so no update is lost.

Schedulers: every dask scheduler works.  ``ZArray``s (stored arrays, views and lazy
expressions) pickle as (store, path, metadata, selection) or as their expression tree and
reopen their arrays in the worker process; the store must be reachable from there (a local
path or a cloud URL: a ``memory://`` store refuses with ``StoreNotSharedError``).  exzarr's
per-chunk locks serialise writes within one process only: with schedulers that write
from several processes (``"processes"``, ``dask.distributed`` with process workers) keep
the dask chunks aligned (``chunks_aligned(darr, z)``, e.g. ``darr.rechunk(z.shards or
z.chunks)``) or pass a ``lock=`` those processes share.

This module imports dask; ``exzarr.integrations`` does not import it.
"""

from __future__ import annotations

import uuid

import numpy as np
import dask.array as da
from ..array.zarray import ZArray
from ..errors import ShapeMismatchError

__all__ = ["to_dask", "from_dask", "store", "chunks_aligned", "write_chunks", "DaskAdapter"]


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
    # dask takes any target with numpy-style __setitem__ (its docs); its annotation says ArrayLike
    return da.store(darr, DaskAdapter(z), regions=region, lock=lock,  # type: ignore[arg-type]
                    compute=compute, **kwargs)


def from_dask(darr: da.Array, z, **kwargs):
    """Alias of :func:`store` with the arguments in ``(source, target)`` order."""
    return store(darr, z, **kwargs)


def _target_shape(z, region) -> tuple[int, ...]:
    if region is None:
        return tuple(z.shape)
    return tuple(len(range(*sl.indices(s))) for sl, s in zip(region, z.shape))

