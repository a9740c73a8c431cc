"""Boxes.ends: for every task whose selection is a box, the byte just past the last element
it takes of its decoded chunk, the same as ``prefix_nbytes`` of that task's selection (the
readers decide from it, for all tasks at once, which chunks they decode only the start
of)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from exzarr.array.gather import BasicTuples, Boxes, basic_view, prefix_nbytes
from exzarr.indexing.parse import parse_key
from exzarr.indexing.plan import plan_selection
from exzarr.testing.strategies import basic_keys, shape_and_chunks


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_ends_are_the_prefix_each_box_needs(data):
    shape, chunks = data.draw(shape_and_chunks(min_dims=1, max_dims=3, max_side=20))
    sel = parse_key(data.draw(basic_keys(shape)), shape)
    plan = plan_selection(sel, chunks)
    itemsize = data.draw(st.sampled_from([1, 2, 4, 8, 16]))
    out = np.empty(sel.out_shape, dtype=f"V{itemsize}")
    if not plan.is_basic or out.size == 0:
        return
    boxes = Boxes(plan, basic_view(plan, out))
    ends = boxes.ends(itemsize)
    tuples = BasicTuples(plan)
    checked = 0
    for task in plan:
        if boxes.ok[task.index]:
            assert ends[task.index] == prefix_nbytes(tuples(task)[0], chunks, itemsize)
            checked += 1
    assert checked or not boxes.ok.any()


def test_a_box_that_runs_backwards_ends_at_its_first_element():
    d = (8, 6)
    plan = plan_selection(parse_key((slice(6, 1, -2), slice(None, None, -1)), d), (4, 3))
    out = np.empty(plan.selection.out_shape, dtype="f4")
    boxes = Boxes(plan, basic_view(plan, out))
    tuples = BasicTuples(plan)
    ends = boxes.ends(4)
    assert boxes.ok.all()
    for task in plan:
        assert ends[task.index] == prefix_nbytes(tuples(task)[0], (4, 3), 4)
    # the chunk holding rows 4-7, columns 3-5 takes rows 6 and 4, every column: its last
    # byte in C order is row 6 (local 2), column 5 (local 2)
    at = [t.index for t in plan if t.coords == (1, 1)][0]
    assert ends[at] == (2 * 3 + 2 + 1) * 4
