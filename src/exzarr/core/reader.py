"""Execute a read: selection -> chunk plan -> fetch, decode, gather into the output."""

from __future__ import annotations

import numpy as np

from ..indexing.plan import ChunkPlan, plan_selection
from ..indexing.selection import Selection
from .fetch import fetch_chunks
from .gather import basic_tuples, basic_view, elem_strides, unit_offsets

__all__ = ["read_selection"]


def read_selection(state, sel: Selection, out: np.ndarray | None = None) -> np.ndarray:
    dtype = state.meta.dtype
    if out is None:
        out = np.empty(sel.out_shape, dtype=dtype)
    elif out.shape != sel.out_shape or out.dtype != dtype:
        raise ValueError(f"out has shape {out.shape} and dtype {out.dtype}; expected "
                         f"{sel.out_shape} and {dtype}")
    if out.size == 0:
        return out
    if sel.broadcast_axes:  # repeated along axes no dimension depends on
        out[...] = read_selection(state, sel.collapse_broadcast())
        return out
    plan = plan_selection(sel, tuple(state.meta.chunks))
    if plan.is_basic:
        _read_basic(state, plan, out)
    else:
        target = out if out.flags.c_contiguous else np.empty(out.shape, dtype)
        _read_fancy(state, plan, target)
        if target is not out:
            out[...] = target
    return out


def _read_basic(state, plan: ChunkPlan, out: np.ndarray) -> None:
    view = basic_view(plan, out)
    shape = tuple(state.meta.shape)
    c_order = state.meta.order == "C"

    def on_chunk(task, raw, key):
        inner, outer = basic_tuples(plan, task)
        if raw is None:
            view[outer] = state.fill
            return
        region = view[outer + (Ellipsis,)]
        if (c_order and region.flags.c_contiguous
                and plan.covers_chunk(task, shape)
                and state.chunk_extent(task.coords) == tuple(state.meta.chunks)
                and all(isinstance(s, slice) and (s.step or 1) == 1 for s in inner)):
            state.pipeline.decode(raw, store=state.store, key=key, out=region)
            return
        chunk = state.pipeline.decode(raw, store=state.store, key=key)
        view[outer] = chunk[inner]

    fetch_chunks(state, plan, on_chunk)


def _read_fancy(state, plan: ChunkPlan, out: np.ndarray) -> None:
    from ..kernels.copy import copy_offsets, fill_offsets

    ostr = elem_strides(out)
    out_shape = out.shape

    def on_chunk(task, raw, key):
        if raw is None:
            cstr = _c_strides(state.meta.chunks, state.meta.order)
            _, dst = unit_offsets(plan, task, cstr, ostr, out_shape)
            fill_offsets(out, dst, state.fill)
            return
        chunk = state.pipeline.decode(raw, store=state.store, key=key)
        if not (chunk.flags.c_contiguous or chunk.flags.f_contiguous):
            chunk = np.ascontiguousarray(chunk)
        src, dst = unit_offsets(plan, task, elem_strides(chunk), ostr, out_shape)
        copy_offsets(chunk, src, out, dst)

    fetch_chunks(state, plan, on_chunk)


def _c_strides(chunks, order: str) -> tuple[int, ...]:
    strides = [0] * len(chunks)
    acc = 1
    rng = range(len(chunks) - 1, -1, -1) if order == "C" else range(len(chunks))
    for d in rng:
        strides[d] = acc
        acc *= chunks[d]
    return tuple(strides)
