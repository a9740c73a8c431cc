"""ChunkPlan.by_block: the tasks of a plan grouped by block (the shards of a plan over
inner chunks), made block by block for basic plans; the same groups, in the same order,
as grouping the plan's own tasks, for every kind of selection.  ChunkPlan.nblocks: how
many such groups, counted the same."""

from __future__ import annotations

from operator import floordiv

from hypothesis import given, settings
from hypothesis import strategies as st

from exzarr.indexing.parse import parse_key, parse_orthogonal
from exzarr.indexing.plan import plan_selection
from exzarr.testing.strategies import basic_keys, fancy_keys, orthogonal_keys, shape_and_chunks


def _grouped(plan, block):
    groups: dict = {}
    for t in plan:
        groups.setdefault(tuple(map(floordiv, t.coords, block)), []).append(t)
    return groups


def _check(plan, block):
    got = list(plan.by_block(block))
    want = _grouped(plan, block)
    assert [b for b, _ in got] == list(want)  # blocks in the order of their first task
    for (b, tasks), expected in zip(got, want.values()):
        assert [(t.coords, t.index) for t in tasks] == [(t.coords, t.index) for t in expected]
        for t, e in zip(tasks, expected):  # the plan's own pieces, not copies
            assert all(p is q for p, q in zip(t.pieces, e.pieces))
            assert tuple(map(floordiv, t.coords, block)) == b
    assert sorted(t.index for _, ts in got for t in ts) == list(range(plan.nchunks))
    assert plan.nblocks(block) == len(want)  # (counted without making the tasks)


@st.composite
def _case(draw, keys):
    shape, chunks = draw(shape_and_chunks(min_dims=1, max_dims=3, max_side=12))
    block = tuple(draw(st.integers(1, 4)) for _ in shape)
    return shape, chunks, block, draw(keys(shape))


@settings(max_examples=150, deadline=None)
@given(_case(basic_keys))
def test_basic_plans_by_block_match_their_tasks_grouped(case):
    shape, chunks, block, key = case
    _check(plan_selection(parse_key(key, shape), chunks), block)


@settings(max_examples=80, deadline=None)
@given(st.one_of(_case(fancy_keys), _case(orthogonal_keys)))
def test_other_plans_by_block_match_their_tasks_grouped(case):
    shape, chunks, block, key = case
    try:
        sel = parse_key(key, shape)
    except Exception:  # (an orthogonal key with several arrays: not a NumPy key)
        sel = parse_orthogonal(key, shape)
    _check(plan_selection(sel, chunks), block)


def test_a_zero_dimensional_plan_is_one_block():
    plan = plan_selection(parse_key((), ()), ())
    [(b, tasks)] = list(plan.by_block(()))
    assert b == () and [t.coords for t in tasks] == [()]
    assert plan.nblocks(()) == 1


def test_blocks_come_in_order_with_their_tasks_in_plan_order():
    plan = plan_selection(parse_key((slice(None), slice(None)), (16, 16)), (4, 4))
    it = plan.by_block((2, 2))  # 4 x 4 chunks: 2 x 2 blocks of 2 x 2 chunks
    first_block, tasks = next(it)
    assert first_block == (0, 0) and [t.index for t in tasks] == [0, 1, 4, 5]
    assert [b for b, _ in it] == [(0, 1), (1, 0), (1, 1)]


@settings(max_examples=100, deadline=None)
@given(st.one_of(_case(basic_keys), _case(fancy_keys)))
def test_task_at_is_the_plans_own_task(case):
    """``ChunkPlan.task_at(i)``: the plan's ``i``-th task, its coords and its pieces."""
    shape, chunks, _, key = case
    plan = plan_selection(parse_key(key, shape), chunks)
    for t in plan:
        at = plan.task_at(t.index)
        assert (at.coords, at.index) == (t.coords, t.index)
        assert all(p is q for p, q in zip(at.pieces, t.pieces))
