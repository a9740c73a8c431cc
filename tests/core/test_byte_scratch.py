"""A thread's reusable byte buffer for ranged reads (``array.scratch.byte_scratch``)."""

import threading

import numpy as np

from exzarr.array.scratch import BYTES_KEPT, byte_scratch


def _base(mv: memoryview):
    return np.frombuffer(mv, dtype=np.uint8).__array_interface__["data"][0]


def test_reused_by_the_same_thread_and_grown():
    a = byte_scratch(1000)
    assert a.nbytes == 1000 and a.format == "B" and not a.readonly
    b = byte_scratch(5000)
    assert _base(a) == _base(b)  # one buffer of at least 1 MiB
    c = byte_scratch(2 << 20)
    assert c.nbytes == 2 << 20
    assert _base(byte_scratch(10)) == _base(c)  # the grown buffer is the one kept


def test_too_large_is_not_kept():
    kept = byte_scratch(16)
    big = byte_scratch(BYTES_KEPT + 1)
    assert big.nbytes == BYTES_KEPT + 1 and _base(big) != _base(kept)
    assert _base(byte_scratch(16)) == _base(kept)


def test_each_thread_has_its_own():
    mine = _base(byte_scratch(64))
    theirs = []
    t = threading.Thread(target=lambda: theirs.append(_base(byte_scratch(64))))
    t.start()
    t.join()
    assert theirs and theirs[0] != mine
