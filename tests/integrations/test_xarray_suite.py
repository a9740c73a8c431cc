"""xarray's own zarr backend tests (``TestZarrDirectoryStore`` from the installed
xarray's ``xarray/tests/test_backends.py``), run with ``engine="exzarr"``.

The class below inherits every test of xarray's directory-store zarr class; only ``open``
changes: every read that goes through it (the round trips, ``test_pickle``, the encoding
and fill-value tests...) opens with exzarr instead of zarr-python.  Writes stay xarray's
(``ds.to_zarr`` through zarr-python).  The module is skipped when the installed xarray does
not ship its tests (or zarr-python is missing).

Two things xarray's repository provides outside the installed tests are supplied here:
the ``skip_if_param`` mark (a test that does not apply to one Zarr format is skipped for
it) and ``asyncio`` tests, skipped without pytest-asyncio.

The same class with xarray's own zarr engine runs too when ``EXZARR_XARRAY_REFERENCE=1``
is set, to compare the two pass counts (see docs/interop.md for the last counts).
"""

import contextlib
import importlib.util
import os

import pytest

pytest.importorskip("xarray")
pytest.importorskip("zarr")
pytest.importorskip("dask")
try:
    import xarray.tests.test_backends as xtb
    from xarray.tests.conftest import time_unit, use_dask  # noqa: F401  (fixtures)
except Exception:  # pragma: no cover - an xarray installed without (usable) tests
    pytest.skip("the installed xarray does not ship its tests", allow_module_level=True)

import xarray as xr  # noqa: E402

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning",
                                         "ignore::RuntimeWarning",
                                         "ignore::DeprecationWarning",
                                         "ignore::pytest.PytestUnknownMarkWarning")]

#: the fixture xarray's zarr tests are parametrized with (zarr_format 2 and 3)
default_zarr_format = xtb.default_zarr_format

_HAVE_ASYNCIO_PLUGIN = importlib.util.find_spec("pytest_asyncio") is not None


@pytest.fixture(autouse=True)
def _xarray_marks(request):
    """``skip_if_param(<fixture>=<value>, reason=..., condition=True)`` skips the test for
    that parameter value (xarray's repository-level conftest does this); ``asyncio``
    tests need pytest-asyncio."""
    node = request.node
    if not _HAVE_ASYNCIO_PLUGIN and node.get_closest_marker("asyncio") is not None:
        pytest.skip("needs pytest-asyncio")
    params = getattr(getattr(node, "callspec", None), "params", {})
    for mark in node.iter_markers("skip_if_param"):
        kw = dict(mark.kwargs)
        reason = kw.pop("reason", "")
        condition = kw.pop("condition", True)
        if condition and kw and all(k in params and params[k] == v for k, v in kw.items()):
            pytest.skip(reason)


class TestExzarrEngineDirectoryStore(xtb.TestZarrDirectoryStore):
    """xarray's zarr tests, reading with engine="exzarr"."""

    @contextlib.contextmanager
    def open(self, path, **kwargs):
        with xr.open_dataset(path, engine="exzarr", **kwargs, **self.version_kwargs) as ds:
            yield ds


@pytest.mark.skipif(os.environ.get("EXZARR_XARRAY_REFERENCE") != "1",
                    reason="the zarr engine's reference run: EXZARR_XARRAY_REFERENCE=1")
class TestZarrEngineReference(xtb.TestZarrDirectoryStore):
    """The same tests with xarray's zarr engine, under the same marks (for the counts)."""
