"""Numba kernels against their pure-NumPy references."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from exzarr.kernels import jit
from exzarr.kernels.copy import copy_offsets, copy_offsets_reference, fill_offsets
from exzarr.kernels.fill import is_all_fill, is_all_fill_reference

DTYPES = ["bool", "i1", "<u2", ">i4", "<f4", ">f8", "<c8", ">c16", "S3", "<U2", "<M8[s]"]


def values(dtype, n, rng):
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.integers(0, 2, n).astype(bool)
    raw = rng.integers(0, 255, n * dt.itemsize, dtype=np.uint8)
    return raw.view(dt) if dt.kind not in "fc" else rng.normal(size=n).astype(dt)


@st.composite
def copy_cases(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    order = draw(st.sampled_from("CF"))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    src = np.asarray(values(dtype, int(np.prod(shape)), rng).reshape(shape), order=order)
    strides = [s // src.itemsize for s in src.strides]
    src_offs, dst_offs = [], []
    for d, n in enumerate(shape):
        k = draw(st.integers(0, 4))
        idx = rng.integers(0, n, k)
        src_offs.append(idx * strides[d])
        dst_offs.append(rng.integers(0, 2, k) * (10 ** d if d < 2 else 1))
    size = sum(int(o.max()) if len(o) else 0 for o in dst_offs) + 1
    dst = np.zeros(size, dtype=dtype)
    return src, src_offs, dst, dst_offs


@given(copy_cases())
def test_copy_offsets_matches_reference(case):
    src, so, dst, do = case
    d1, d2 = dst.copy(), dst.copy()
    copy_offsets(src, so, d1, do)
    copy_offsets_reference(src, so, d2, do)
    assert d1.tobytes() == d2.tobytes()


def test_fill_offsets():
    dst = np.zeros((3, 4), dtype=">i8")
    fill_offsets(dst, [np.array([0, 8]), np.array([1, 3])], 7)
    want = np.zeros((3, 4), dtype=">i8")
    want[np.ix_([0, 2], [1, 3])] = 7
    np.testing.assert_array_equal(dst, want)


@given(st.sampled_from(DTYPES), st.integers(0, 20), st.integers(0, 2**31), st.booleans())
def test_is_all_fill_matches_reference(dtype, n, seed, make_fill):
    rng = np.random.default_rng(seed)
    arr = values(dtype, n, rng)
    fill = arr[0] if n else np.zeros((), dtype)[()]
    if make_fill and n:
        arr[:] = fill
    assert is_all_fill(arr, fill) == is_all_fill_reference(arr, fill)


@pytest.mark.parametrize("dtype", ["<f2", "<f4", ">f8", "<c8", ">c16"])
def test_is_all_fill_nan_aware_and_keeps_negative_zero(dtype):
    a = np.full(10, np.nan, dtype=dtype)
    assert is_all_fill(a, np.nan) and is_all_fill_reference(a, np.nan)
    a[3] = 1
    assert not is_all_fill(a, np.nan) and not is_all_fill_reference(a, np.nan)
    z = np.zeros(4, dtype=dtype)
    z[2] = -0.0
    assert not is_all_fill(z, 0.0) and not is_all_fill_reference(z, 0.0)


def test_jit_falls_back_without_cache_location(monkeypatch):
    import numba

    real = numba.njit

    def njit(*a, **kw):
        if kw.get("cache"):
            raise RuntimeError("cannot cache function 'f': no locator available for file")
        return real(*a, **kw)

    monkeypatch.setattr(numba, "njit", njit)

    @jit.lazy_njit
    def f(x):
        return x + 1

    assert f(41) == 42


def test_plain_slice_read_does_not_import_numba(tmp_path):
    import subprocess
    import sys
    p = str(tmp_path / "a.zarr")
    z = __import__("exzarr").create(p, shape=(10, 10), chunks=(3, 3), dtype="f4")
    z[:] = 1
    code = ("import sys, exzarr as ez\n"
            f"z = ez.open({p!r}, mode='r')\n"
            "assert z[2:7, ::2].read().sum() == 25\n"
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('numba', 'tqdm', 'zarr')]\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True)
