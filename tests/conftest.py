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
    # `make test-py312/313` run the suite against the installed wheel: the pytest process
    # and each of its pytest-xdist workers check that their exzarr is the wheel's, not src/.
    if os.environ.get("EXZARR_TEST_WHEEL") == "1":
        import sysconfig

        import exzarr
        site = sysconfig.get_paths()["purelib"]
        where = exzarr.__file__
        if not where.startswith(site + os.sep) or "site-packages" not in where:
            raise pytest.UsageError(f"exzarr imported from {where}, not from the "
                                    f"installed wheel in {site}")
    config.addinivalue_line(
        "markers", "property: hypothesis property tests (also run with EXZARR_JIT=0, "
        "i.e. on the NumPy kernels)")


@pytest.fixture
def mem():
    from exzarr.storage.memory import MemoryStore
    return MemoryStore()


def _fds_under(folder) -> list[str]:
    """What this process's open descriptors point at under ``folder`` (an unnamed file
    reads ``folder/#inode (deleted)``). Only these: counting every descriptor would also
    see other threads' sockets and pools open or close meanwhile."""
    root = os.path.realpath(folder) + os.sep
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # closed since the listing (the listing's own descriptor too)
            continue
        if target.startswith(root):
            found.append(target)
    return found


@pytest.fixture
def fds_under():
    """``fds_under(folder)``: the open descriptors of this process into ``folder``."""
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc/self/fd")
    return _fds_under
