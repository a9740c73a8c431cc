"""A stateful test: random writes, reads, resizes and appends against a NumPy model."""

import numpy as np
import pytest
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import exzarr as ez
from exzarr.storage import MemoryStore
from exzarr.testing.strategies import basic_keys, fancy_keys, orthogonal_keys

pytestmark = pytest.mark.property


class ArrayMachine(RuleBasedStateMachine):
    @initialize(shape=st.tuples(st.integers(1, 9), st.integers(1, 9)),
                chunks=st.tuples(st.integers(1, 5), st.integers(1, 5)),
                fmt=st.sampled_from([2, 3]), sharded=st.booleans(),
                fill=st.integers(-3, 3))
    def setup(self, shape, chunks, fmt, sharded, fill):
        kw = {}
        if sharded and fmt == 3:
            kw["shards"] = (chunks[0] * 2, chunks[1] * 2)
        self.z = ez.create(MemoryStore(), shape=shape, chunks=chunks, dtype="i4",
                           fill_value=fill, zarr_format=fmt, **kw)
        self.a = np.full(shape, fill, dtype="i4")
        self.fill = fill

    @rule(data=st.data(), value=st.integers(-100, 100))
    def write_basic(self, data, value):
        key = data.draw(basic_keys(self.a.shape))
        self.z[key] = value
        self.a[key] = value

    @rule(data=st.data())
    def write_fancy(self, data):
        key = data.draw(fancy_keys(self.a.shape))
        vals = np.arange(self.a[key].size, dtype="i4").reshape(self.a[key].shape)
        self.z[key] = vals
        self.a[key] = vals

    @rule(data=st.data())
    def read(self, data):
        key = data.draw(st.one_of(basic_keys(self.a.shape), fancy_keys(self.a.shape)))
        np.testing.assert_array_equal(self.z[key].read(), self.a[key])

    @rule(data=st.data())
    def read_oindex(self, data):
        key = data.draw(orthogonal_keys(self.a.shape))
        v = self.z.oindex[key].read()
        idx = [np.arange(n)[k] if not isinstance(k, (int, np.integer)) else k
               for k, n in zip(key, self.a.shape)]
        want = self.a
        for axis, k in reversed(list(enumerate(idx))):
            want = np.take(want, k, axis=axis)
        np.testing.assert_array_equal(v, want)

    @rule(new=st.tuples(st.integers(0, 12), st.integers(0, 12)))
    def resize(self, new):
        self.z.resize(new)
        b = np.full(new, self.fill, dtype="i4")
        r = tuple(slice(0, min(o, n)) for o, n in zip(self.a.shape, new))
        b[r] = self.a[r]
        self.a = b

    @rule(rows=st.integers(1, 4))
    def append(self, rows):
        data = np.full((rows, self.a.shape[1]), rows, dtype="i4")
        self.z.append(data)
        self.a = np.concatenate([self.a, data])

    @invariant()
    def same(self):
        if hasattr(self, "z"):
            assert self.z.shape == self.a.shape
            np.testing.assert_array_equal(self.z.read(), self.a)


ArrayMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=15, deadline=None)
TestArrayMachine = ArrayMachine.TestCase
