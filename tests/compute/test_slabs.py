"""Expressions using a reduction of their own input (the anomaly ``z - mean(z, axis=0)``)
are evaluated slab by slab, reading every chunk once, when the slab fits the budget; the
two-pass plan otherwise.  NumPy is the oracle for both."""

from __future__ import annotations

import numpy as np
import pytest

import exzarr as ez
from core.counting import CountingStore  # tests/core (the rootdir tests/ is on sys.path)

xp = ez.array_api


def _stored(a, chunks, **kw):
    s = CountingStore()
    z = ez.array(a, s, chunks=chunks, **kw)
    s.calls.clear()
    return z, s


def _chunk_reads(s):
    return s.reads()


A = np.random.default_rng(0).standard_normal((128, 96))
NCHUNKS = (128 // 16) * (96 // 16)


@pytest.mark.parametrize("build, ref", [
    (lambda z: z - xp.mean(z, axis=0), lambda a: a - a.mean(axis=0)),
    (lambda z: (z - z.mean(axis=0)) / z.std(axis=0), lambda a: (a - a.mean(0)) / a.std(0)),
    (lambda z: z - xp.mean(z, axis=0, keepdims=True), lambda a: a - a.mean(0, keepdims=True)),
    (lambda z: z - xp.mean(z, axis=1, keepdims=True), lambda a: a - a.mean(1, keepdims=True)),
    (lambda z: z * 2 - xp.sum(z * 3 + 1, axis=0), lambda a: a * 2 - (a * 3 + 1).sum(0)),
    (lambda z: xp.where(z > xp.max(z, axis=0) / 2, z, 0.0),
     lambda a: np.where(a > a.max(0) / 2, a, 0.0)),
])
def test_one_pass_over_the_input(build, ref):
    z, s = _stored(A, (16, 16))
    got = build(z).read()
    np.testing.assert_allclose(got, ref(A), rtol=1e-12, atol=1e-12)
    assert _chunk_reads(s) == NCHUNKS                     # every chunk read once


def test_two_passes_when_the_slab_does_not_fit_the_budget():
    z, s = _stored(A, (16, 16))
    with ez.config.set(memory_limit=128 * 16 * 8 * 2 - 1, block_bytes=16 * 16 * 8):
        got = (z - xp.mean(z, axis=0)).read()
    np.testing.assert_allclose(got, A - A.mean(axis=0), rtol=1e-12, atol=1e-12)
    assert _chunk_reads(s) == 2 * NCHUNKS


@pytest.mark.parametrize("build, ref", [
    # a reduction over a trailing axis broadcast without keepdims lines up with another axis
    (lambda z: z - xp.mean(z, axis=1), lambda a: a - a.mean(axis=1)),
    # reductions over different axes
    (lambda z: z - xp.mean(z, axis=0) + xp.sum(z, axis=1, keepdims=True),
     lambda a: a - a.mean(0) + a.sum(1, keepdims=True)),
    # the reduction reaches the output through something else than elementwise operations
    (lambda z: z - xp.flip(xp.mean(z, axis=0)), lambda a: a - np.flip(a.mean(0))),
])
def test_other_shapes_keep_the_two_pass_plan_and_stay_right(build, ref):
    a = np.random.default_rng(1).standard_normal((64, 64))
    z, s = _stored(a, (16, 16))
    np.testing.assert_allclose(build(z).read(), ref(a), rtol=1e-12, atol=1e-12)
    assert _chunk_reads(s) >= 2 * 16                      # a pass per reduction, then one


def test_views_and_two_inputs():
    z, s = _stored(A, (16, 16))
    even, odd = z[::2], z[1::2]
    got = (even - xp.mean(z[::2], axis=0)).read()         # two views with the same selection
    np.testing.assert_allclose(got, A[::2] - A[::2].mean(axis=0), rtol=1e-12)
    assert _chunk_reads(s) == NCHUNKS                     # share one read per chunk
    s.calls.clear()
    got = (even - xp.mean(odd, axis=0)).read()
    np.testing.assert_allclose(got, A[::2] - A[1::2].mean(axis=0), rtol=1e-12)
    assert _chunk_reads(s) == 2 * NCHUNKS                 # each view reads every chunk once
    w, _ = _stored(A[::-1].copy(), (32, 32))
    got = (z - xp.mean(w, axis=0) * xp.std(z, axis=0)).read()
    np.testing.assert_allclose(got, A - A[::-1].mean(0) * A.std(0), rtol=1e-12)


@pytest.mark.parametrize("fmt, shards", [(2, None), (3, None), (3, (32, 48))])
def test_anomaly_stored_in_one_pass(tmp_path, fmt, shards):
    kw = {"zarr_format": fmt} if shards is None else {"zarr_format": fmt, "shards": shards}
    z, s = _stored(A, (16, 16), **kw)
    out = (z - z.mean(axis=0)).to_zarr(str(tmp_path / "anomaly.zarr"), chunks=(16, 16),
                                       overwrite=True)
    np.testing.assert_allclose(out.read(), A - A.mean(axis=0), rtol=1e-12, atol=1e-12)
    assert out.chunks == (16, 16)
    if shards is None:
        assert _chunk_reads(s) == NCHUNKS


def test_three_dimensions_leading_axes_and_the_plan_memory():
    a = np.random.default_rng(2).random((12, 10, 30))
    z, s = _stored(a, (4, 5, 10))
    e = z - xp.mean(z, axis=(0, 1))
    np.testing.assert_allclose(e.read(), a - a.mean(axis=(0, 1)), rtol=1e-12)
    assert _chunk_reads(s) == 3 * 2 * 3


def test_in_place_anomaly_and_overlapping_assignment():
    z, _ = _stored(A, (16, 16))
    z[...] = z - z.mean(axis=0)
    np.testing.assert_allclose(z.read(), A - A.mean(axis=0), atol=1e-12)
    w, _ = _stored(A, (16, 16))
    w -= w.mean(axis=0)
    np.testing.assert_allclose(w.read(), A - A.mean(axis=0), atol=1e-12)
    v, _ = _stored(A, (16, 16))
    v[:, :64] = v[:, 32:] - v[:, 32:].mean(axis=0)     # reads and writes overlap
    ref = A.copy()
    ref[:, :64] = A[:, 32:] - A[:, 32:].mean(axis=0)
    np.testing.assert_allclose(v.read(), ref, atol=1e-12)


def test_slabs_are_read_into_one_reused_buffer(monkeypatch):
    """Every slab of an input is read into the same memory (fresh pages are slow), the
    narrower last slab into the front of it, and the results stay right."""
    from exzarr.array.source import ZArraySource
    a = np.random.default_rng(1).standard_normal((64, 72))  # 72 = 4 slabs of 16 + one of 8
    z, _ = _stored(a, (16, 16))
    seen = []
    real = ZArraySource.read

    def spy(self, region, out=None):
        seen.append(None if out is None else (out.shape, out.__array_interface__["data"][0]))
        return real(self, region, out)
    monkeypatch.setattr(ZArraySource, "read", spy)
    with ez.config.set(block_bytes=16 * 16 * 8):  # a slab per column of chunks
        got = (z - xp.mean(z, axis=0)).read()
    np.testing.assert_allclose(got, a - a.mean(axis=0), rtol=1e-12, atol=1e-12)
    assert [shape for shape, _ in seen] == [(64, 16)] * 4 + [(64, 8)]
    assert len({address for _, address in seen}) == 1
