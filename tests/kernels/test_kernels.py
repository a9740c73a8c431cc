"""Kernels: the Numba versions, the NumPy fallbacks and the Python loop of each kernel
agree bit for bit; the fill rule is zarr-python's; exzarr works without Numba."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

from exzarr import config
from exzarr.kernels import copy as kcopy
from exzarr.kernels import jit
from exzarr.kernels.copy import copy_offsets, copy_offsets_reference, fill_offsets, words_view
from exzarr.kernels.fill import is_all_fill, is_all_fill_reference

DTYPES = ["bool", "i1", "<u2", ">i4", "<f2", "<f4", ">f8", "<c8", ">c16", "S3", "<U2",
          "<M8[s]", ">m8[ms]", "V3", "i2,<f4"]

JIT = pytest.mark.skipif(not jit.numba_available(), reason="numba is not installed")


def both_modes(fn, *args):
    """``fn(*args)`` with compiled kernels and with the NumPy fallbacks."""
    with config.set(jit=True):
        a = fn(*args)
    with config.set(jit=False):
        b = fn(*args)
    return a, b


def values(dtype, n, rng):
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.integers(0, 2, n).astype(bool)
    if dt.kind in "fc":
        return rng.normal(size=n).astype(dt)
    raw = rng.integers(0, 255, n * dt.itemsize, dtype=np.uint8)
    return raw.view(dt)


# -- copy_offsets / fill_offsets ----------------------------------------------------------

@st.composite
def copy_cases(draw):
    dtype = draw(st.sampled_from(DTYPES + ["O"]))
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=0, max_size=3)))
    order = draw(st.sampled_from("CF"))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    if dtype == "O":
        src = np.array([f"s{i}" for i in rng.integers(0, 100, n)], dtype=object).reshape(shape)
    else:
        src = values(dtype, n, rng).reshape(shape)
    src = np.asarray(src, order=order)
    strides = [s // src.itemsize for s in src.strides]
    src_offs, dst_offs = [], []
    repeats = draw(st.booleans())  # destinations addressed twice: the last write wins
    for d, n in enumerate(shape):
        k = draw(st.integers(0, 4))
        src_offs.append(rng.integers(0, n, k) * strides[d])
        if repeats:
            dst_offs.append(rng.integers(0, 2, k) * (10 ** d if d < 2 else 1))
        else:
            dst_offs.append(rng.permutation(6)[:k] * 6 ** (len(shape) - 1 - d))
    size = sum(int(o.max()) if len(o) else 0 for o in dst_offs) + 1
    dst = np.zeros(size, dtype=dtype)
    return src, src_offs, dst, dst_offs


def _loop_oracle(src, so, dst, do):
    """The kernel's own Python loop (what Numba compiles), run in the interpreter."""
    if src.dtype.hasobject or not so:
        copy_offsets_reference(src, so, dst, do)
        return
    s, w = words_view(src)
    d, _ = words_view(dst)
    sp, starts = kcopy._pack(so)
    dp, _ = kcopy._pack(do)
    kcopy._copy.py_func(s, sp, d, dp, starts, w)


def _copy_with(mode, src, so, dst, do):
    out = dst.copy()
    with config.set(jit=mode):
        copy_offsets(src, so, out, do)
    return out


@pytest.mark.property
@given(copy_cases())
def test_copy_offsets_jit_and_numpy_agree_bitwise(case):
    src, so, dst, do = case
    want = dst.copy()
    _loop_oracle(src, so, want, do)
    for mode in (True, False):
        got = _copy_with(mode, src, so, dst, do)
        if dst.dtype.hasobject:
            assert got.tolist() == want.tolist()
        else:
            assert got.tobytes() == want.tobytes(), mode


@pytest.mark.property
@given(st.sampled_from(DTYPES), st.integers(0, 2**31))
def test_fill_offsets_jit_and_numpy_agree_bitwise(dtype, seed):
    rng = np.random.default_rng(seed)
    value = values(dtype, 1, rng)[0]
    outs = []
    for mode in (True, False):
        dst = np.zeros((3, 4), dtype=dtype)
        with config.set(jit=mode):
            fill_offsets(dst, [np.array([0, 8]), np.array([1, 3])], value)
        outs.append(dst.tobytes())
    want = np.zeros((3, 4), dtype=dtype)
    want[np.ix_([0, 2], [1, 3])] = value
    assert outs[0] == outs[1] == want.tobytes()


def test_fill_offsets():
    for mode in (True, False):
        dst = np.zeros((3, 4), dtype=">i8")
        with config.set(jit=mode):
            fill_offsets(dst, [np.array([0, 8]), np.array([1, 3])], 7)
        want = np.zeros((3, 4), dtype=">i8")
        want[np.ix_([0, 2], [1, 3])] = 7
        np.testing.assert_array_equal(dst, want)


def test_numpy_mode_does_not_call_the_compiled_kernels(monkeypatch):
    def boom(*a):
        raise AssertionError("compiled kernel called with jit=False")

    from exzarr.kernels import fill as kfill
    monkeypatch.setattr(kcopy, "_copy", boom)
    for name in ("_all_words", "_all_nan", "_all_complex_nan", "_all_complex_equal"):
        monkeypatch.setattr(kfill, name, boom)
    with config.set(jit=False):
        dst = np.zeros(4)
        copy_offsets(np.arange(4.0), [np.arange(4)], dst, [np.arange(4)[::-1]])
        assert dst.tolist() == [3, 2, 1, 0]
        for a, f in [(np.zeros(3), 0.0), (np.full(3, np.nan), np.nan), (np.zeros(3, "c8"), 0),
                     (np.full(3, np.nan, "c16"), np.nan), (np.zeros(3, "i4"), 0)]:
            assert is_all_fill(a, f)


# -- is_all_fill --------------------------------------------------------------------------

SPECIAL = {"f": [0.0, -0.0, np.nan, 1.5, -np.inf],
           "c": [0j, complex(-0.0, 0.0), complex(0.0, -0.0), complex(np.nan, 0), complex(0, np.nan),
                 1 + 2j],
           "M": ["NaT", 0, 5], "m": ["NaT", 0, 5]}


def _special(dt, v):
    return np.asarray(np.datetime64(v, "s") if dt.kind == "M" else
                      np.timedelta64(v, "ms") if dt.kind == "m" else v).astype(dt)


@st.composite
def fill_cases(draw):
    """(array, fill): mostly all-fill arrays with a few other elements, special values
    (NaN, other NaN payloads, -0.0, NaT), None fills and strided views."""
    dt = np.dtype(draw(st.sampled_from(DTYPES)))
    n = draw(st.integers(0, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    if dt.kind in SPECIAL:
        pool = SPECIAL[dt.kind]
        fill = _special(dt, pool[draw(st.integers(0, len(pool) - 1))])
        arr = np.full(n, fill, dtype=dt)
        for _ in range(draw(st.integers(0, 2))):
            if n:
                arr[rng.integers(n)] = _special(dt, pool[rng.integers(len(pool))])
        if dt.kind == "f" and n and draw(st.booleans()):  # a NaN with another payload
            bits = arr.view(f"u{dt.itemsize}")
            bits[rng.integers(n)] = np.asarray(np.nan, dt).view(bits.dtype) | 1
        fill = fill[()]
    else:
        both = values(dt, n + 1, rng)
        arr, fill = both[:n].copy(), both[n]
        if draw(st.booleans()):
            arr[:] = fill
            if n and draw(st.booleans()):
                arr[rng.integers(n)] = values(dt, 1, rng)[0]
    if draw(st.integers(0, 9)) == 0:
        fill = None
    if n >= 3 and draw(st.booleans()):
        arr = arr[::2]  # not contiguous
    return arr, fill


@pytest.mark.property
@given(fill_cases())
def test_is_all_fill_jit_and_numpy_agree(case):
    arr, fill = case
    want = is_all_fill_reference(arr, fill)
    assert both_modes(is_all_fill, arr, fill) == (want, want)


@pytest.mark.property
@given(fill_cases())
def test_is_all_fill_is_zarr_pythons_rule(case):
    """The reference is what zarr-python 3 asks before skipping an empty chunk."""
    pytest.importorskip("zarr")
    try:
        from zarr.core.buffer.cpu import NDBuffer
    except ImportError:
        pytest.skip("zarr-python's NDBuffer moved")
    arr, fill = case
    if arr.size == 0:
        return  # zarr-python never asks about empty chunks
    zfill = np.zeros((), arr.dtype)[()] if fill is None else np.asarray(fill, arr.dtype)[()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = NDBuffer.from_numpy_array(arr).all_equal(zfill)
    got = is_all_fill_reference(arr, fill)
    if arr.dtype.kind == "c" and zfill == 0:
        # the one deliberate difference: for complex a zero fill compares bits, as for
        # real floats, so a -0.0 part is kept (zarr-python drops the chunk and reads +0.0)
        n = arr.dtype.itemsize
        f = np.asarray(zfill, dtype=arr.dtype).reshape(1)  # in the array's byte order
        bits = np.ascontiguousarray(arr).view(f"V{n}") == f.view(f"V{n}")
        assert got == bool(bits.all())
        assert got <= want  # never drops a chunk zarr-python keeps
        return
    assert got == want


@pytest.mark.parametrize("dtype", ["<f2", "<f4", ">f8", "<c8", ">c16"])
def test_is_all_fill_nan_rule_and_sign_of_zero(dtype):
    for mode in (True, False):
        with config.set(jit=mode):
            a = np.full(10, np.nan, dtype=dtype)
            assert is_all_fill(a, np.nan)
            a[3] = 1
            assert not is_all_fill(a, np.nan)
            z = np.zeros(4, dtype=dtype)
            z[2] = -0.0
            if np.dtype(dtype).kind == "f":  # real floats: a 0.0 fill does not swallow -0.0
                assert not is_all_fill(z, 0.0)
                assert is_all_fill(np.full(4, -0.0, dtype), -0.0)
                assert not is_all_fill(np.zeros(4, dtype), -0.0)
            else:  # complex: a zero fill compares bits too (a -0.0 part is kept)
                assert not is_all_fill(z, 0.0)
                assert is_all_fill(np.full(4, complex(-0.0, -0.0), dtype), complex(-0.0, -0.0))
                assert is_all_fill(np.zeros(4, dtype), 0.0)
                c = np.full(3, complex(1, np.nan), dtype=dtype)
                assert is_all_fill(c, complex(np.nan, 0))  # NaN in either part is NaN


def test_is_all_fill_other_kinds():
    for mode in (True, False):
        with config.set(jit=mode):
            assert is_all_fill(np.array([], "f8"), 1.0)
            assert is_all_fill(np.zeros((2, 3), "i4"), None)
            assert not is_all_fill(np.array([0, 1], "u1"), None)
            assert is_all_fill(np.array(["", ""], dtype=object), "")
            assert not is_all_fill(np.array(["", "x"], dtype=object), "")
            nat = np.array(["NaT", "NaT"], "M8[s]")
            assert is_all_fill(nat, np.datetime64("NaT"))
            assert not is_all_fill(nat, np.datetime64(0, "s"))
            assert is_all_fill(np.zeros(2, "i2,f4"), np.zeros((), "i2,f4")[()])
            assert is_all_fill(np.full((4, 4), 7.0)[:, ::2], 7.0)


# -- Numba plumbing ------------------------------------------------------------------------

@JIT
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


def _run(code: str, **env):
    full = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True, env=full)


def test_env_var_sets_the_jit_default():
    code = "import exzarr as ez; print(ez.config.get().jit)"
    assert _run(code, EXZARR_JIT="0").stdout.strip() == "False"
    assert _run(code, EXZARR_JIT="off").stdout.strip() == "False"
    assert _run(code, EXZARR_JIT="1").stdout.strip() == "True"


NUMBA_FREE = """
import sys
sys.modules["numba"] = None  # any `import numba` now raises ImportError
import numpy as np
import exzarr as ez
from exzarr.kernels import jit
assert not jit.numba_available() and not jit.enabled()

z = ez.create("memory://nonumba", shape=(10, 10), chunks=(3, 3), dtype="f8")
z[:] = 1
assert (z[:].read() if hasattr(z[:], "read") else z[:]).sum() == 100

def read(sel):
    out = z[sel]
    return np.asarray(out.read() if hasattr(out, "read") else out)

want = np.ones((10, 10))
want[2:7, 1:9:3] = np.arange(15).reshape(5, 3)
z[2:7, 1:9:3] = np.arange(15).reshape(5, 3)
want[[0, 9], 4] = -0.0
z[[0, 9], 4] = -0.0
np.testing.assert_array_equal(read(slice(None)), want)
np.testing.assert_array_equal(read(([9, 0, 3], slice(None, None, -2))), want[[9, 0, 3], ::-2])
z[:3, :3] = 0  # all fill: the chunk is dropped
assert read((slice(0, 3), slice(0, 3))).sum() == 0

s = ez.create("memory://nonumba-sharded", shape=(12, 8), chunks=(2, 2), shards=(6, 4), dtype="<i4",
              fill_value=-1)
data = np.arange(96, dtype="<i4").reshape(12, 8)
data[:6, :4] = -1  # one whole shard and its inner chunks are fill
s[:] = data
s[7, [1, 2]] = [100, 200]
data[7, [1, 2]] = [100, 200]
got = s[:]
np.testing.assert_array_equal(np.asarray(got.read() if hasattr(got, "read") else got), data)
assert sys.modules["numba"] is None
print("numba-free ok")
"""


def test_exzarr_works_without_numba():
    assert _run(NUMBA_FREE).stdout.strip().endswith("numba-free ok")


def test_exzarr_works_with_jit_disabled():
    code = NUMBA_FREE.replace('sys.modules["numba"] = None', "pass").replace(
        "assert not jit.numba_available() and not jit.enabled()", "assert not jit.enabled()").replace(
        'assert sys.modules["numba"] is None', 'assert "numba" not in sys.modules')
    assert _run(code, EXZARR_JIT="0").stdout.strip().endswith("numba-free ok")


def test_a_read_inside_one_chunk_does_not_import_numba(tmp_path):
    """Numba loads when a compiled route is first taken (reads of several chunks), not
    for a read that one chunk serves."""
    p = str(tmp_path / "a.zarr")
    z = __import__("exzarr").create(p, shape=(10, 10), chunks=(3, 3), dtype="f4")
    z[:] = 1
    code = ("import sys, exzarr as ez\n"
            f"z = ez.open({p!r}, mode='r')\n"
            "assert z[3:6, 1:3].read().sum() == 6\n"
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('numba', 'tqdm', 'zarr')]\n"
            "assert not heavy, heavy\n")
    _run(code)


@pytest.mark.parametrize("dtype,fill,expect_bits", [
    ("f4", 0.0, True), ("f4", -0.0, True), ("f4", 1.5, True), ("f4", float("nan"), False),
    ("f2", 0.0, True), ("c8", 0j, True), ("c8", 1 + 2j, True), ("c8", 1 + 0j, False),
    ("c8", 0 + 1j, False), ("c16", complex(float("nan"), 0), False), ("i2", None, True),
    ("u8", 7, True), ("?", True, True), ("M8[s]", "NaT", True), ("S3", b"ab", True),
    ("U2", "x", True), ("O", 0, False), ("i4,f4", None, False)])
def test_fill_bits_agrees_with_the_rule(dtype, fill, expect_bits):
    """Where fill_bits gives a value, "all fill" is exactly "every element's bytes are
    its bytes"; elsewhere it gives None."""
    from exzarr.kernels.fill import fill_bits, is_all_fill_reference

    dt = np.dtype(dtype)
    f = fill_bits(dt, fill)
    assert (f is not None) == expect_bits
    if f is None:
        return
    same = np.full(6, f, dtype=dt)
    assert is_all_fill_reference(same, fill)
    candidates = [np.zeros((), dt), np.ones((), dt)]
    if dt.kind in "fc":
        candidates += [np.array(-0.0, dt), np.array(complex(0, -0.0) if dt.kind == "c"
                                                     else -0.0, dt)]
    for c in candidates:
        arr = same.copy()
        arr[3] = c
        bits_equal = arr.view(np.uint8).tobytes() == same.view(np.uint8).tobytes()
        assert is_all_fill_reference(arr, fill) == bits_equal
