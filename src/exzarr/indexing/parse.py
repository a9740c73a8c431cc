"""Turn NumPy-style keys into :class:`Selection` objects (no I/O).

``parse_basic_or_fancy`` follows NumPy's rules exactly (basic + advanced indexing,
including where the broadcast dimensions go); ``parse_orthogonal`` indexes each axis
independently (``oindex``); ``parse_vectorized`` broadcasts every array index together
and puts the broadcast dimensions first (``vindex``); ``parse_blocks`` selects whole
chunks.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..errors import BoundsError, InvalidIndexError
from .selection import DimMap, Selection
from .slices import normalize_slice

__all__ = ["parse_key", "parse_orthogonal", "parse_vectorized", "parse_blocks"]


def _as_tuple(key) -> tuple:
    return key if isinstance(key, tuple) else (key,)


_VALID = ("only integers, slices (`:`), ellipsis (`...`), None (`numpy.newaxis`) and "
          "integer or boolean arrays are valid indices")


def _is_array_like(k) -> bool:
    return isinstance(k, (list, np.ndarray)) or (
        hasattr(k, "__array__") and not isinstance(k, (int, np.integer)))


def _asarray(k) -> np.ndarray:
    """``np.asarray(k)`` for an index item; ragged or unconvertible lists raise
    InvalidIndexError (NumPy's own ValueError would say nothing about indexing)."""
    try:
        return np.asarray(k)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidIndexError(f"index {k!r:.80} cannot be used as an index array ({exc}); "
                                "index lists must be rectangular lists of integers or "
                                "booleans") from None


def _is_bool0(k) -> bool:
    """A scalar boolean index (``True``, ``np.True_``, ``np.array(False)``): NumPy treats it
    as a new axis of length 1 (True) or 0 (False) that consumes no dimension."""
    if isinstance(k, (bool, np.bool_)):
        return True
    if not _is_array_like(k):
        return False
    a = _asarray(k)
    return a.ndim == 0 and a.dtype == bool


def _check_int(i, size: int, axis: int) -> int:
    try:
        i = operator.index(i)
    except TypeError:
        raise InvalidIndexError(f"{_VALID} (got {type(i).__name__} {i!r:.60} for axis "
                                f"{axis})") from None
    if i < -size or i >= size:
        raise BoundsError(f"index {i} is out of bounds for axis {axis} with size {size}")
    return i + size if i < 0 else i


def _int_array(k, size: int, axis: int) -> np.ndarray:
    a = _asarray(k)
    if a.dtype == bool:  # callers expand masks first; a mask here has the wrong shape
        raise InvalidIndexError(f"a {a.ndim}-d boolean index cannot be used for axis {axis} "
                                "here; pass integer positions or a mask over the axis")
    if a.size == 0:
        a = a.astype(np.int64)
    if not np.issubdtype(a.dtype, np.integer):
        raise InvalidIndexError(f"arrays used as indices must be of integer or boolean type "
                                f"(got {a.dtype} for axis {axis}; integers beyond int64 are "
                                "out of bounds of any array)")
    if a.dtype.kind == "u" and a.size and int(a.max()) >= size:
        raise BoundsError(f"index {int(a.max())} is out of bounds for axis {axis} with size {size}")
    a = a.astype(np.int64, copy=False)
    if a.size:
        lo, hi = int(a.min()), int(a.max())
        if lo < -size or hi >= size:
            bad = lo if lo < -size else hi
            raise BoundsError(f"index {bad} is out of bounds for axis {axis} with size {size}")
        if lo < 0:
            a = np.where(a < 0, a + size, a)
    return a


def _expand(key: tuple, ndim: int, *, allow_none: bool = True) -> list:
    """Expand Ellipsis and multi-dimensional boolean masks; returns a list of index items.

    ``allow_none=False`` (oindex, vindex, blocks) also refuses scalar booleans."""
    n_ell = sum(1 for k in key if k is Ellipsis)
    if n_ell > 1:
        raise InvalidIndexError(f"an index can only have a single ellipsis ('...'), got "
                                f"{n_ell}; keep one")
    consumed = 0
    for k in key:
        if k is None:
            if not allow_none:
                raise InvalidIndexError("None (newaxis) is not supported in this kind of "
                                        "selection; add the axis to the result instead")
            continue
        if k is Ellipsis:
            continue
        if _is_bool0(k):
            if not allow_none:
                raise InvalidIndexError("scalar boolean indices are not supported in this kind "
                                        "of selection; use plain [] indexing or a 1-d mask")
            continue
        if _is_array_like(k) and _asarray(k).dtype == bool:
            consumed += np.ndim(k)
        else:
            consumed += 1
    if consumed > ndim:
        raise InvalidIndexError(f"too many indices for array: array is {ndim}-dimensional, "
                                f"but {consumed} were indexed")
    out = []
    for k in key:
        if k is Ellipsis:
            out.extend([slice(None)] * (ndim - consumed))
        else:
            out.append(k)
    if n_ell == 0:
        out.extend([slice(None)] * (ndim - consumed))
    return out


def _mask_to_arrays(mask, shape: tuple[int, ...], first_axis: int) -> list[np.ndarray]:
    m = np.asarray(mask, dtype=bool)
    if m.ndim == 0:  # scalar booleans are handled by the callers
        raise InvalidIndexError("a scalar boolean index is not supported here")
    # NumPy's rule: each mask dimension is the axis' length, or 0 (an empty mask selects
    # nothing, whatever the axis' length)
    if m.ndim != len(shape) or any(ms not in (n, 0) for ms, n in zip(m.shape, shape)):
        raise BoundsError(f"boolean index of shape {m.shape} does not match the indexed "
                          f"dimensions {tuple(shape)} starting at axis {first_axis}")
    return list(np.nonzero(m))


def _classify(items: list[Any], shape: tuple[int, ...]) -> list[tuple[Any, ...]]:
    """``(kind, payload, dim)`` per index item; kind is new|int|slice|adv.  Boolean
    arrays expand into one integer array per dimension they cover."""
    entries: list[tuple[Any, ...]] = []
    dim = 0
    for k in items:
        if k is None:
            entries.append(("new", None, None))
        elif _is_bool0(k):  # an advanced index over a new axis of length 1: [0] or []
            entries.append(("adv", np.zeros(1 if bool(_asarray(k)) else 0, dtype=np.int64), None))
        elif isinstance(k, slice):
            entries.append(("slice", normalize_slice(k, shape[dim]), dim))
            dim += 1
        elif _is_array_like(k) and _asarray(k).dtype == bool and np.ndim(k) > 0:
            nd = np.ndim(k)
            for j, a in enumerate(_mask_to_arrays(k, shape[dim:dim + nd], dim)):
                entries.append(("adv", a.astype(np.int64), dim + j))
            dim += nd
        elif _is_array_like(k):
            entries.append(("adv", _int_array(k, shape[dim], dim), dim))
            dim += 1
        else:
            entries.append(("int", _check_int(k, shape[dim], dim), dim))
            dim += 1
    return entries


def _all_set(dims: list[DimMap | None]) -> tuple[DimMap, ...]:
    """``dims`` once every dimension has its map (the expanded key covers them all)."""
    out = tuple(d for d in dims if d is not None)
    if len(out) != len(dims):  # cannot happen for an expanded key; never an AssertionError
        raise InvalidIndexError(f"the index left {len(dims) - len(out)} dimension(s) unindexed; "
                                "please report this with the index used")
    return out


def _integers(key: Any, shape: tuple[int, ...]) -> Selection | None:
    """``a[i, j, ...]`` with a Python or NumPy integer for every dimension (one element,
    the commonest small read) without the general classification; None for any other key."""
    items = key if type(key) is tuple else (key,)
    if len(items) != len(shape):
        return None
    for k in items:
        if type(k) is not int and not isinstance(k, np.integer):
            return None
    dims = tuple(DimMap.const(_check_int(k, n, d)) for d, (k, n) in enumerate(zip(items, shape)))
    return Selection(tuple(shape), dims, ())


def parse_key(key: Any, shape: tuple[int, ...]) -> Selection:
    """NumPy semantics: ``a[key]`` for an array of ``shape``."""
    point = _integers(key, shape)
    if point is not None:
        return point
    entries = _classify(_expand(_as_tuple(key), len(shape)), shape)
    has_adv = any(e[0] == "adv" for e in entries)
    if has_adv:  # NumPy: integer scalars join the advanced group when arrays are present
        entries = [("adv", np.asarray(e[1], dtype=np.int64), e[2]) if e[0] == "int" else e
                   for e in entries]
    dims: list[DimMap | None] = [None] * len(shape)
    out_shape: list[int] = []
    if not has_adv:
        for kind, payload, d in entries:
            if kind == "new":
                out_shape.append(1)
            elif kind == "int":
                dims[d] = DimMap.const(payload)
            else:
                dims[d] = DimMap.sl(payload, len(out_shape))
                out_shape.append(payload.n)
        return Selection(tuple(shape), _all_set(dims), tuple(out_shape))
    adv_pos = [i for i, e in enumerate(entries) if e[0] == "adv"]
    try:
        bshape = np.broadcast_shapes(*[np.shape(entries[i][1]) for i in adv_pos])
    except ValueError:
        raise InvalidIndexError(
            "shape mismatch: indexing arrays could not be broadcast together with shapes "
            + " ".join(str(np.shape(entries[i][1])) for i in adv_pos)
            + "; give index arrays shapes that broadcast") from None
    adjacent = adv_pos == list(range(adv_pos[0], adv_pos[-1] + 1))
    insert_at = None if adjacent else 0
    placed = False

    def place_adv() -> None:
        first = len(out_shape)
        out_shape.extend(bshape)
        axes = tuple(range(first, first + len(bshape)))
        for i in adv_pos:
            _, a, d = entries[i]
            if d is None:  # a scalar boolean: shapes the result, indexes no stored axis
                continue
            a = np.asarray(a).reshape((1,) * (len(bshape) - np.ndim(a)) + np.shape(a))
            dims[d] = DimMap.arr(a, axes) if axes else DimMap.const(int(a))

    if insert_at == 0:
        place_adv()
        placed = True
    for i, (kind, payload, d) in enumerate(entries):
        if kind == "adv":
            if not placed:
                place_adv()
                placed = True
        elif kind == "new":
            out_shape.append(1)
        else:
            dims[d] = DimMap.sl(payload, len(out_shape))
            out_shape.append(payload.n)
    return Selection(tuple(shape), _all_set(dims), tuple(out_shape))


def parse_orthogonal(key, shape: tuple[int, ...]) -> Selection:
    """``oindex``: every axis indexed independently (arrays select along their axis only)."""
    items = _expand(_as_tuple(key), len(shape), allow_none=False)
    dims: list[DimMap] = []
    out_shape: list[int] = []
    d = 0
    for k in items:
        size = shape[d]
        if isinstance(k, slice):
            s = normalize_slice(k, size)
            dims.append(DimMap.sl(s, len(out_shape)))
            out_shape.append(s.n)
        elif _is_array_like(k):
            a = _asarray(k)
            if a.dtype == bool:
                if a.ndim != 1:
                    raise InvalidIndexError(f"oindex takes 1-d boolean arrays per axis (axis {d} "
                                            f"got {a.ndim}-d); use vindex for n-d masks")
                a = _mask_to_arrays(a, (size,), d)[0]
            elif a.ndim != 1:
                raise InvalidIndexError(f"oindex takes 1-d integer arrays per axis (axis {d} got "
                                        f"{a.ndim}-d); use vindex for n-d index arrays")
            a = _int_array(a, size, d)
            dims.append(DimMap.arr(a, (len(out_shape),)))
            out_shape.append(a.shape[0])
        else:
            dims.append(DimMap.const(_check_int(k, size, d)))
        d += 1
    return Selection(tuple(shape), tuple(dims), tuple(out_shape))


def parse_vectorized(key, shape: tuple[int, ...]) -> Selection:
    """``vindex``: arrays (and masks) broadcast together; broadcast dims come first."""
    items = _expand(_as_tuple(key), len(shape), allow_none=False)
    entries: list[tuple[Any, ...]] = [
        ("adv", np.asarray(p, dtype=np.int64), d) if k == "int" else (k, p, d)
        for k, p, d in _classify(items, shape)]
    advs = [e for e in entries if e[0] == "adv"]
    if not advs:
        return parse_key(tuple(items), shape)
    try:
        bshape = np.broadcast_shapes(*[np.shape(e[1]) for e in advs])
    except ValueError:
        raise InvalidIndexError("shape mismatch: vindex arrays could not be broadcast together "
                                "with shapes " + " ".join(str(np.shape(e[1])) for e in advs)
                                + "; give index arrays shapes that broadcast") from None
    dims: list[DimMap | None] = [None] * len(shape)
    axes = tuple(range(len(bshape)))
    for _, a, dd in advs:
        a = np.asarray(a).reshape((1,) * (len(bshape) - np.ndim(a)) + np.shape(a))
        dims[dd] = DimMap.arr(a, axes) if axes else DimMap.const(int(a))
    out_shape = list(bshape)
    for kind, s, dd in entries:
        if kind == "slice":
            dims[dd] = DimMap.sl(s, len(out_shape))
            out_shape.append(s.n)
    return Selection(tuple(shape), _all_set(dims), tuple(out_shape))


def parse_blocks(key, shape: tuple[int, ...], chunks: tuple[int, ...]) -> Selection:
    """``blocks``: ints and step-1 slices in units of chunks, converted to element slices."""
    items = _expand(_as_tuple(key), len(shape), allow_none=False)
    elem = []
    for d, k in enumerate(items):
        nblocks = -(-shape[d] // chunks[d]) if chunks[d] else 0
        if isinstance(k, slice):
            s = normalize_slice(k, nblocks)
            if s.step != 1:
                raise InvalidIndexError(f"blocks only supports step 1 slices (axis {d} got step "
                                        f"{s.step}); select blocks with a[...] instead")
            elem.append(slice(s.start * chunks[d], min((s.start + s.n) * chunks[d], shape[d])))
        elif _is_array_like(k):
            raise InvalidIndexError(f"blocks takes ints and slices only (axis {d} got "
                                    f"{type(k).__name__}); use oindex or vindex for arrays")
        else:
            b = _check_int(k, nblocks, d)
            elem.append(slice(b * chunks[d], min((b + 1) * chunks[d], shape[d])))
    return parse_key(tuple(elem), shape)
