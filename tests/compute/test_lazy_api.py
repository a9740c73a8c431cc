"""The lazy engine through the public API: what is lazy, what evaluates, the NumPy
protocols, writes into stores, the memory budget and type promotion (array_api_strict
as the second oracle)."""

from __future__ import annotations

import itertools

import array_api_strict as strict
import numpy as np
import pytest

import exzarr as ez
from exzarr.errors import LazyArrayError, MemoryBudgetError, WriteConflictError
from exzarr.storage import MemoryStore

from core.counting import CountingStore  # tests/core (the rootdir tests/ is on sys.path)

xp = ez.array_api


def stored(a, chunks=None, store=None):
    z = ez.create(store or MemoryStore(), shape=a.shape, dtype=a.dtype,
                  chunks=chunks or tuple(max(1, s // 2) for s in a.shape))
    z[...] = a
    return z


@pytest.fixture
def pair():
    a = np.arange(240, dtype="f8").reshape(12, 20) / 7
    return a, stored(a, (5, 6))


def test_namespace_is_declared():
    assert xp.__array_api_version__ == "2024.12"
    info = xp.__array_namespace_info__()
    assert info.default_device() == "cpu"
    z = stored(np.zeros(3))
    assert z.__array_namespace__() is xp and z.__array_namespace__(api_version="2023.12") is xp
    with pytest.raises(ValueError, match="api_version"):
        z.__array_namespace__(api_version="1999.01")
    import array_api_compat
    assert array_api_compat.array_namespace(z) is not None


def test_building_expressions_reads_nothing():
    a = np.arange(100.0).reshape(10, 10)
    s = CountingStore()
    z = stored(a, (5, 5), s)
    s.calls.clear()
    e = xp.mean(xp.sqrt(z * z + 1), axis=0)[2:5] - z.sum()
    plan = e.plan()
    assert e.is_lazy and e.shape == (3,) and plan.bytes_read > 0
    assert np.shape(z) == (10, 10) and np.ndim(z) == 2 and np.size(z) == 100
    assert np.result_type(z, np.float32) == np.float64 and not np.iscomplexobj(z)
    assert s.reads() == 0
    np.testing.assert_allclose(e.read(), np.mean(np.sqrt(a * a + 1), axis=0)[2:5] - a.sum())
    assert s.reads() > 0


def test_methods_and_conversions(pair):
    a, z = pair
    assert z.sum().is_lazy and float(z.sum()) == pytest.approx(a.sum())
    np.testing.assert_allclose(z.mean(axis=0).read(), a.mean(axis=0))
    np.testing.assert_allclose(z.std(axis=1, correction=1).read(), a.std(axis=1, ddof=1))
    assert z.reshape(4, -1).shape == (4, 60) and z.reshape((240,)).is_lazy
    np.testing.assert_array_equal(z.reshape(4, -1).read(), a.reshape(4, -1))
    assert z.copy().is_lazy and np.array_equal(z.copy().read(), a)
    assert z[:2, :2].tolist() == a[:2, :2].tolist() and z[1, 2].item() == a[1, 2]
    assert int(z.argmax()) == a.argmax() and bool((z >= 0).all())


def test_lazy_indexing_composes(pair):
    a, z = pair
    e = z * 2 + 1
    want = a * 2 + 1
    for key in [(slice(1, None, 3), slice(None, None, -2)), (None, 3, slice(2, 9)),
                (Ellipsis, [4, 0, 4]), (slice(None), np.array([True] * 10 + [False] * 10))]:
        got = e[key]
        assert got.is_lazy or got.shape == want[key].shape
        np.testing.assert_allclose(np.asarray(got), want[key])
    np.testing.assert_allclose(e.oindex[[1, 3], [0, 5]].read(), want[np.ix_([1, 3], [0, 5])])
    np.testing.assert_allclose(e.vindex[[1, 3], [0, 5]].read(), want[[1, 3], [0, 5]])
    with pytest.raises(LazyArrayError):
        e.attrs
    assert not hasattr(e, "store")


def test_assigning_into_a_lazy_array_is_a_functional_update(pair):
    a, z = pair
    e = z * 2
    before = e[0]
    e[0] = -1.0
    e[2:6:2, [1, 3]] = z[:2, :2]
    e[e > 400] = 0  # a mask of the array itself (read once, now)
    e.vindex[[1, 2], [3, 4]] = 7
    want = a * 2
    want[0] = -1.0
    want[2:6:2][:, [1, 3]] = a[:2, :2]
    want[want > 400] = 0
    want[[1, 2], [3, 4]] = 7
    np.testing.assert_allclose(e.read(), want)
    np.testing.assert_allclose(before.read(), a[0] * 2)  # taken before: unchanged
    np.testing.assert_allclose(z.read(), a)  # nothing stored changed


@pytest.mark.parametrize("mask", [False, True])
def test_a_0d_mask_assigns_into_a_0d_lazy_array(mask):
    # found by the Array API suite (test_setitem_masking, shape ())
    import exzarr.array_api as xp
    x = xp.reshape(xp.asarray(True), ())
    x[xp.reshape(xp.asarray(mask), ())] = False
    want = np.asarray(True)
    want[np.asarray(mask)] = False
    assert x.shape == () and bool(x) == bool(want)


def test_numpy_protocols_return_numpy_and_write_out(pair):
    a, z = pair
    assert isinstance(np.sqrt(z), np.ndarray) and isinstance(np.sum(z), np.floating)
    np.testing.assert_allclose(np.add.reduce(z, axis=1), a.sum(axis=1))
    np.testing.assert_allclose(np.cumsum(z, axis=0), a.cumsum(axis=0))
    out = stored(np.zeros_like(a), (5, 6))
    assert np.add(z, 1, out=out) is out
    np.testing.assert_allclose(out.read(), a + 1)
    np.negative(z, out=out)
    np.testing.assert_allclose(out.read(), -a)
    np.copyto(out, 0.5)
    assert (out.read() == 0.5).all()
    buf = np.empty_like(a)
    np.multiply(z, 3, out=buf)
    np.testing.assert_allclose(buf, a * 3)
    for fn, args in [(np.put, ([0], [1.0])), (np.place, (np.ones(a.shape, bool), [1.0])),
                     (np.fill_diagonal, (1.0,)), (np.putmask, (np.ones(a.shape, bool), 1.0))]:
        with pytest.raises(TypeError, match="z\\[.*\\] ="):
            fn(out, *args)
    with pytest.raises(TypeError, match="at"):
        np.add.at(out, [0, 1], 1)
    assert (out.read() == 0.5).all()  # nothing was written by the refused calls


def test_inplace_operators_update_the_store(pair):
    a, z = pair
    z += 1
    z *= 2
    np.testing.assert_allclose(z.read(), (a + 1) * 2)
    v = z[2:4]
    v -= 100
    want = (a + 1) * 2
    want[2:4] -= 100
    np.testing.assert_allclose(z.read(), want)
    e = z + 0
    e += 1  # a lazy array is rebound, never written
    assert e.is_lazy


def test_assignments_stream_and_detect_self_overlap(pair):
    a, z = pair
    t = stored(np.zeros_like(a), (5, 6))
    t[1:11] = z[1:11] * 2
    ez.store(z[:1] + 1, t[:1])
    np.testing.assert_allclose(t[1:11].read(), a[1:11] * 2)
    np.testing.assert_allclose(t[:1].read(), a[:1] + 1)
    z[1:] = z[:-1]  # reads what it writes elsewhere: evaluated first (fits the budget)
    want = a.copy()
    want[1:] = a[:-1]
    np.testing.assert_allclose(z.read(), want)
    with ez.config.set(memory_limit=600):
        with pytest.raises((WriteConflictError, MemoryBudgetError)):
            z[1:] = z[:-1] + 1
    np.testing.assert_allclose(z.read(), want)  # refused before anything was written
    z[...] = z - z.mean(axis=0)  # small intermediate computed first: streams safely
    np.testing.assert_allclose(z.read(), want - want.mean(axis=0))


def test_memory_budget_refuses_before_any_read():
    s = CountingStore()
    z = stored(np.ones((64, 64)), (16, 16), s)
    s.calls.clear()
    with ez.config.set(memory_limit=1024):
        with pytest.raises(MemoryBudgetError, match="Nothing was read"):
            float(xp.sum(z * 2))
    assert s.reads() == 0


def test_out_of_core_results_on_an_array_many_times_the_budget(tmp_path):
    """A 512 MiB array (mostly fill_value on disk), 8x the memory budget."""
    n = 8192
    z = ez.zeros(str(tmp_path / "big.zarr"), shape=(n, n), chunks=(1024, 1024), dtype="f8")
    z[:1024, :1024] = 1.0
    z[-1, -1] = 5.0
    with ez.config.set(memory_limit=64 << 20, block_bytes=8 << 20):
        assert float(xp.sum(z)) == 1024 * 1024 + 5.0
        col_means = np.mean(z, axis=0)
        assert col_means.shape == (n,) and col_means[0] == 1024 / n and col_means[-1] == 5 / n
        anomaly = (z - z.mean(axis=0)).to_zarr(str(tmp_path / "anomaly.zarr"))
        assert anomaly.chunks == (1024, 1024)
        np.testing.assert_allclose(anomaly[0, :3].read(), 1 - 1024 / n)
        np.testing.assert_allclose(anomaly[-1, -1].read(), 5 - 5 / n)


DTYPES = ["bool", "int8", "int32", "int64", "uint8", "uint32", "float32", "float64", "complex64"]


@pytest.mark.parametrize("name", ["add", "multiply", "subtract", "divide", "maximum", "equal"])
def test_type_promotion_matches_array_api_strict(name):
    for d1, d2 in itertools.product(DTYPES, DTYPES):
        x1, x2 = strict.ones(2, dtype=getattr(strict, d1)), strict.ones(2, dtype=getattr(strict, d2))
        try:
            want = getattr(strict, name)(x1, x2).dtype
        except (TypeError, ValueError):
            continue
        got = getattr(xp, name)(stored(np.ones(2, d1)), stored(np.ones(2, d2)))
        assert str(got.dtype) == str(want).rsplit(".", 1)[-1], (name, d1, d2, got.dtype, want)
        assert got.read().dtype == got.dtype


def test_creation_functions_hold_nothing_and_match_numpy():
    big = xp.zeros((10**6, 10**6))
    assert big.shape == (10**6, 10**6) and big[5, 7].item() == 0.0
    np.testing.assert_array_equal(xp.arange(2, 11, 3).read(), np.arange(2, 11, 3))
    np.testing.assert_allclose(xp.linspace(0, 1, 11).read(), np.linspace(0, 1, 11))
    np.testing.assert_array_equal(xp.eye(3, 4, k=-1).read(), np.eye(3, 4, k=-1))
    np.testing.assert_array_equal(xp.full((2, 2), 7, dtype=xp.int32).read(),
                                  np.full((2, 2), 7, np.int32))
    z = stored(np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(xp.ones_like(z).read(), np.ones((3, 4)))
    np.testing.assert_array_equal(xp.tril(z).read(), np.tril(np.arange(12.0).reshape(3, 4)))


def test_eager_functions_say_so_and_work():
    a = np.array([3, 1, 2, 3, 1])
    z = stored(a)
    np.testing.assert_array_equal(xp.unique_values(z).read(), [1, 2, 3])
    np.testing.assert_array_equal(xp.sort(z).read(), np.sort(a))
    (nz,) = xp.nonzero(z > 1)
    np.testing.assert_array_equal(nz.read(), np.nonzero(a > 1)[0])


def test_copy_false_conversions_raise_as_numpy_does(pair):
    a, z = pair
    with pytest.raises(ValueError):
        np.asarray(z, copy=False)
    with pytest.raises(BufferError):
        z.__dlpack__(copy=False)
    np.testing.assert_array_equal(np.from_dlpack(z[1:3]), a[1:3])


def test_an_exzarr_mask_is_read_once():
    a = np.arange(100.0).reshape(10, 10)
    z = stored(a, (5, 5))
    s = CountingStore()
    m = stored(a > 50, (5, 5), s)
    s.calls.clear()
    np.testing.assert_array_equal(z[m].read(), a[a > 50])
    assert s.reads() == 4  # each of the mask's 4 chunks once
    s.calls.clear()
    np.testing.assert_array_equal((z + 1)[m].read(), a[a > 50] + 1)
    assert s.reads() == 4
