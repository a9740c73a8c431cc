"""Uncompressed chunks read from local files straight into the output's rows
(``exzarr.kernels.read_rows``: every thread's compiled call taking chunk after chunk, or
``LocalStore.read_rows`` per chunk from Python): every read equals NumPy and the
usual path (Numba off); chunks the read takes in part, missing chunks, and files of the
wrong size go the usual way, which says what is wrong."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import exzarr as ez
from exzarr import config
from exzarr.kernels import jit
from exzarr.kernels.job_status import DONE, MISSING, REFUSED
from exzarr.storage import LocalStore
from exzarr.testing.strategies import basic_keys

from .routes import read_both

pytestmark = pytest.mark.skipif(not jit.numba_available() or not config.get().jit,
                                reason="needs Numba on (EXZARR_JIT=0 switches it off)")


class Outcomes:
    """What became of each chunk sent straight into its rows: True (read), None (no such
    file), False (not done: read the usual way)."""

    def __init__(self) -> None:
        self.calls: list[bool | None] = []  # per ``read_rows`` call (the Python route)
        self.statuses: dict[int, np.ndarray] = {}  # per read (the compiled route)

    def append(self, done: bool | None) -> None:
        self.calls.append(done)

    def all(self) -> list:
        names = {DONE: True, MISSING: None, REFUSED: False}
        return self.calls + [names.get(v, "waiting") for a in self.statuses.values()
                             for v in a.tolist()]

    def count(self, value) -> int:
        return self.all().count(value)

    def __contains__(self, value) -> bool:
        return value in self.all()


@pytest.fixture(params=["compiled", "python"])
def row_reads(request, monkeypatch):
    """The outcome of every chunk read into its rows: by the threads' compiled calls
    (``read_rows_files``, array/row_read), or one ``LocalStore.read_rows`` call per chunk
    (a store without files for compiled code)."""
    seen = Outcomes()
    if request.param == "python":
        monkeypatch.setattr(LocalStore, "direct_reads", lambda self, keys: None)
        real = LocalStore.read_rows

        def spy(self, *args):
            done = real(self, *args)
            seen.append(done)
            return done
        monkeypatch.setattr(LocalStore, "read_rows", spy)
        return seen
    mod = importlib.import_module("exzarr.kernels.read_rows")
    kernel = mod.read_rows_files

    def spy_kernel(*args):
        seen.statuses[id(args[5])] = args[5]  # (status: shared by the read's threads)
        return kernel(*args)
    monkeypatch.setattr(mod, "read_rows_files", spy_kernel)
    return seen


def stored(tmp_path, data, chunks, **kw):
    z = ez.create(str(tmp_path / "a"), shape=data.shape, chunks=chunks, dtype=data.dtype,
                  compressor=None, fill_value=kw.pop("fill_value", 0), **kw)
    z[...] = data
    return ez.open(str(tmp_path / "a"))


@pytest.mark.parametrize("threads", [1, 2])
def test_full_reads(tmp_path, row_reads, threads):
    d = np.arange(96 * 70, dtype="f4").reshape(96, 70)
    z = stored(tmp_path, d, (16, 14))
    with config.set(threads=threads):
        np.testing.assert_array_equal(read_both(z), d)
    assert row_reads.count(True) == (96 // 16) * (70 // 14)


def test_regions_edges_ints_and_steps(tmp_path, row_reads):
    d = np.random.default_rng(1).standard_normal((50, 45, 6)).astype("f8")
    z = stored(tmp_path, d, (10, 9, 6))
    for key in [(slice(3, 47), slice(0, 45)), (slice(10, 30), slice(9, 36)), (5, slice(None)),
                (slice(None), 4), (slice(0, 50, 2),), (slice(10, 20), slice(9, 18), 3)]:
        np.testing.assert_array_equal(read_both(z, key), d[key])
    assert True in row_reads  # whole chunks of the regions: straight into the output


def test_missing_chunks_read_as_fill(tmp_path, row_reads):
    d = np.full((40, 40), 7, dtype="i4")
    d[:20, :20] = 0  # all fill: not stored
    z = stored(tmp_path, d, (20, 20))
    np.testing.assert_array_equal(read_both(z), d)
    assert None in row_reads


@pytest.mark.parametrize("zarr_format, dtype", [(2, ">f4"), (2, "<i2"), (3, "u8")])
def test_formats_and_byte_orders(tmp_path, row_reads, zarr_format, dtype):
    d = (np.arange(60 * 32) % 1000).astype(dtype).reshape(60, 32)
    z = stored(tmp_path, d, (20, 16), zarr_format=zarr_format)
    out = read_both(z)
    np.testing.assert_array_equal(out, d)
    assert out.dtype == np.dtype(dtype) and row_reads.count(True) == 6


@pytest.mark.parametrize("change", [lambda b: b[:-4], lambda b: b + b"\0\0\0\0"])
def test_a_file_of_the_wrong_size_fails_as_the_usual_path_does(tmp_path, row_reads, change):
    d = np.arange(32 * 32, dtype="f4").reshape(32, 32)
    z = stored(tmp_path, d, (16, 16))
    path = tmp_path / "a" / "c" / "1" / "0"
    path.write_bytes(change(path.read_bytes()))
    errors = []
    for jit_on in (True, False):
        with config.set(jit=jit_on), pytest.raises(Exception) as info:
            z[...].read()
        errors.append(type(info.value))
    assert errors[0] is errors[1]
    assert False in row_reads


def test_reads_into_a_given_output(tmp_path, row_reads):
    d = np.arange(30 * 30, dtype="f4").reshape(30, 30)
    z = stored(tmp_path, d, (10, 10))
    out = np.full((30, 30), -1, dtype="f4")
    z[...].read(out=out)
    np.testing.assert_array_equal(out, d)
    assert row_reads.count(True) == 9


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_random_reads_match_numpy(tmp_path_factory, data):
    shape = data.draw(st.tuples(st.integers(1, 30), st.integers(1, 30)))
    chunks = data.draw(st.tuples(st.integers(1, 12), st.integers(1, 12)))
    d = np.random.default_rng(sum(shape)).integers(-99, 99, shape).astype("i4")
    z = stored(tmp_path_factory.mktemp("r"), d, chunks)
    key = data.draw(basic_keys(shape))
    np.testing.assert_array_equal(z[key].read(), d[key])
