import os

import pytest
from hypothesis import HealthCheck, settings

_quiet = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("default", max_examples=60, deadline=None, suppress_health_check=_quiet)
settings.register_profile("ci", max_examples=100, deadline=None, suppress_health_check=_quiet)
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config):
    # `make test-py312/313` run the suite against the installed wheel, in pytest-xdist
    # worker processes: each of them checks that its exzarr is the wheel's, not src/.
    if os.environ.get("EXZARR_TEST_WHEEL") == "1":
        import sysconfig

        import exzarr
        site = sysconfig.get_paths()["purelib"]
        if not exzarr.__file__.startswith(site + os.sep):
            raise pytest.UsageError(f"exzarr imported from {exzarr.__file__}, not from the "
                                    f"installed wheel in {site}")
    config.addinivalue_line(
        "markers", "property: hypothesis property tests (also run with EXZARR_JIT=0, "
        "i.e. on the NumPy kernels)")


@pytest.fixture
def mem():
    from exzarr.storage.memory import MemoryStore
    return MemoryStore()
