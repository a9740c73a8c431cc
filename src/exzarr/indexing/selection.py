"""A composable selection: how every dimension of a base array maps onto a view.

A view of shape ``out_shape`` over a base array is described, per base dimension ``d``,
by a :class:`DimMap` telling which base index each output position reads:

* ``int``   - a constant index (the dimension is dropped from the view);
* ``slice`` - a :class:`Slice` along exactly one output axis (lazy, no arrays);
* ``array`` - an integer array whose dimensions are a set of output axes (it may be
  broadcastable: length-1 where it does not vary).  Several base dimensions sharing
  output axes is how coordinate (vectorized) selections are represented.

Output axes no dimension depends on are new axes (``None``) of length 1.  This form is
closed under composition with any NumPy-style key, so views of views stay lazy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Union

import numpy as np

from .slices import Slice

__all__ = ["DimKind", "DimMap", "Selection"]

Value = Union[int, Slice, np.ndarray]


class DimKind(StrEnum):
    """How a base dimension maps onto the view (see the module docs)."""

    INT = "int"
    SLICE = "slice"
    ARRAY = "array"


@dataclass(frozen=True, eq=False)
class DimMap:
    kind: DimKind
    value: Value
    axes: tuple[int, ...] = ()

    @staticmethod
    def const(i: int) -> "DimMap":
        return DimMap(DimKind.INT, int(i), ())

    @staticmethod
    def sl(s: Slice, axis: int) -> "DimMap":
        return DimMap(DimKind.SLICE, s, (axis,))

    @staticmethod
    def arr(a: np.ndarray, axes: tuple[int, ...]) -> "DimMap":
        a = np.asarray(a, dtype=np.int64)
        if a.ndim != len(axes):
            raise ValueError("index array must have one dimension per output axis")
        return DimMap(DimKind.ARRAY, a, tuple(axes))

    # typed views of ``value`` (const/sl/arr above keep kind and value type in step)
    @property
    def int_value(self) -> int:
        """``value`` of an INT dimension."""
        assert isinstance(self.value, int), self.kind
        return self.value

    @property
    def slice_value(self) -> Slice:
        """``value`` of a SLICE dimension."""
        assert isinstance(self.value, Slice), self.kind
        return self.value

    @property
    def array_value(self) -> np.ndarray:
        """``value`` of an ARRAY dimension."""
        assert isinstance(self.value, np.ndarray), self.kind
        return self.value

    def full(self, out_shape: tuple[int, ...]) -> np.ndarray:
        """The index array over ``self.axes`` at full (non-broadcast) size."""
        if self.kind is DimKind.INT:
            return np.asarray(self.value, dtype=np.int64)
        if self.kind is DimKind.SLICE:
            return self.slice_value.to_array()
        return np.broadcast_to(self.array_value, tuple(out_shape[a] for a in self.axes))

    def describe(self) -> str:
        if self.kind is DimKind.INT:
            return str(self.value)
        if self.kind is DimKind.SLICE:
            s = self.slice_value
            if s.n == 0:
                return "[]"
            stop = s.last + (1 if s.step > 0 else -1)
            return f"{s.start}:{stop if stop >= 0 else ''}" + (f":{s.step}" if s.step != 1 else "")
        return f"array{tuple(np.shape(self.array_value))}"


@dataclass(frozen=True, eq=False)
class Selection:
    base_shape: tuple[int, ...]
    dims: tuple[DimMap, ...]
    out_shape: tuple[int, ...]

    @staticmethod
    def identity(shape: tuple[int, ...]) -> "Selection":
        shape = tuple(int(s) for s in shape)
        return Selection(shape, tuple(DimMap.sl(Slice(0, 1, n), i) for i, n in enumerate(shape)), shape)

    # -- properties --------------------------------------------------------------
    @property
    def is_basic(self) -> bool:
        """Only ints and slices, each slice on its own axis (NumPy basic indexing)."""
        axes = [d.axes[0] for d in self.dims if d.kind is DimKind.SLICE]
        return all(d.kind is not DimKind.ARRAY for d in self.dims) and len(axes) == len(set(axes))

    @property
    def size(self) -> int:
        return math.prod(self.out_shape)  # a Python int: never wraps at 2**63

    def describe(self) -> str:
        text = "[" + ", ".join(d.describe() for d in self.dims) + "]"
        order = [d.axes[0] for d in self.dims if d.kind is DimKind.SLICE]
        if order != sorted(order):  # a transposed view: say which base dim each axis reads
            text += ".transpose(" + ", ".join(str(sorted(order).index(a)) for a in order) + ")"
        return text

    @property
    def broadcast_axes(self) -> tuple[int, ...]:
        """Output axes of length > 1 that no dimension depends on (from indexing new axes
        with arrays): the data is repeated along them."""
        used = {a for d in self.dims for a in d.axes}
        return tuple(a for a, n in enumerate(self.out_shape) if a not in used and n != 1)

    def collapse_broadcast(self) -> "Selection":
        """This selection with every broadcast axis reduced to length 1."""
        b = set(self.broadcast_axes)
        return Selection(self.base_shape, self.dims,
                         tuple(1 if a in b else n for a, n in enumerate(self.out_shape)))

    def permute(self, perm: tuple[int, ...]) -> "Selection":
        """The same elements with output axis ``perm[i]`` moved to position ``i``."""
        new_pos = {old: new for new, old in enumerate(perm)}
        dims: list[DimMap] = []
        for d in self.dims:
            if d.kind is DimKind.INT:
                dims.append(d)
                continue
            axes = tuple(new_pos[a] for a in d.axes)
            if d.kind is DimKind.SLICE:
                dims.append(DimMap.sl(d.slice_value, axes[0]))
            else:
                order = sorted(range(len(axes)), key=lambda k: axes[k])
                dims.append(DimMap.arr(np.transpose(d.array_value, order), tuple(sorted(axes))))
        return Selection(self.base_shape, tuple(dims), tuple(self.out_shape[p] for p in perm))

    # -- composition -------------------------------------------------------------
    def compose(self, inner: "Selection") -> "Selection":
        """The selection of the base array that ``inner`` (a selection of this view) reads."""
        if inner.base_shape != self.out_shape:
            raise ValueError("inner selection does not match this view's shape")
        return Selection(self.base_shape, tuple(self._compose_dim(d, inner) for d in self.dims),
                         inner.out_shape)

    def _compose_dim(self, d: DimMap, inner: "Selection") -> DimMap:
        if d.kind is DimKind.INT:
            return d
        if len(d.axes) == 1:
            g = inner.dims[d.axes[0]]
            if g.kind is DimKind.INT:
                return DimMap.const(_value_at(d, g.int_value))
            if d.kind is DimKind.SLICE and g.kind is DimKind.SLICE:
                return DimMap.sl(d.slice_value.compose(g.slice_value), g.axes[0])
            base = d.slice_value.to_array() if d.kind is DimKind.SLICE else np.broadcast_to(
                d.array_value, (self.out_shape[d.axes[0]],))
            if g.kind is DimKind.SLICE:
                return DimMap.arr(base[g.slice_value.as_python_slice()], g.axes)
            return DimMap.arr(base[g.array_value], g.axes)
        # a dimension that varies over several axes of this view (coordinate selection)
        gs = [inner.dims[a] for a in d.axes]
        union = tuple(sorted({ax for g in gs for ax in g.axes}))
        index = tuple(_spread(g, union, inner.out_shape) for g in gs)
        full = np.broadcast_to(d.array_value, tuple(self.out_shape[a] for a in d.axes))
        if not union:
            return DimMap.const(int(full[index]))
        return DimMap.arr(full[index], union)


def _value_at(d: DimMap, i: int) -> int:
    if d.kind is DimKind.SLICE:
        return d.slice_value.at(i)
    v = d.array_value  # 1-d, possibly broadcastable (length 1)
    return int(v[0] if v.shape[0] == 1 else v[i])


def _spread(g: DimMap, union: tuple[int, ...], out_shape: tuple[int, ...]) -> int | np.ndarray:
    """``g``'s index array reshaped so it broadcasts over the axes ``union``."""
    if g.kind is DimKind.INT:
        return g.int_value
    arr = g.slice_value.to_array() if g.kind is DimKind.SLICE else g.array_value
    shape = [1] * len(union)
    src_shape = np.shape(arr)
    for k, a in enumerate(g.axes):
        shape[union.index(a)] = src_shape[k]
    # axes of g are sorted ascending in every DimMap we build, so a reshape keeps order
    return np.reshape(arr, shape)
