"""executor.run: the first error is re-raised after the running items finish; the other
workers take the remaining items, unless ``stop_on_error`` says to take no more."""

from __future__ import annotations

import threading
import time

import pytest

import exzarr as ez
from exzarr import executor


@pytest.mark.parametrize("stop", [False, True])
def test_after_an_error_items_run_on_unless_told_to_stop(stop):
    ran: list[int] = []
    lock = threading.Lock()

    def fn(i: int) -> None:
        with lock:
            ran.append(i)
        if i == 0:
            raise ValueError("item 0")
        time.sleep(0.03)             # long beside the failing item: it fails first

    with ez.config.set(threads=2), pytest.raises(ValueError, match="item 0"):
        executor.run(fn, range(50), parallel=4, stop_on_error=stop)
    if stop:
        assert len(ran) <= 4        # those taken before item 0 failed: no more after it
    else:
        assert sorted(ran) == list(range(50))
