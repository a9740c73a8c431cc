"""LocalStore's writes resume after short writes and fail, keeping the old value, when
the file system takes nothing."""

from __future__ import annotations

import os

import numpy as np
import pytest

from exzarr.errors import StorageError
from exzarr.storage.local import LocalStore


@pytest.mark.parametrize("short", [1, 97, 4096])
def test_short_writes_resumed(tmp_path, monkeypatch, short):
    real = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real(fd, bytes(data)[:short]))
    parts = [np.arange(3000, dtype=np.int32), b"", b"xyz" * 50]
    LocalStore(str(tmp_path)).set_parts("a/b", parts)
    assert (tmp_path / "a" / "b").read_bytes() == parts[0].tobytes() + parts[2]


def test_a_write_that_takes_nothing_fails(tmp_path, monkeypatch):
    store = LocalStore(str(tmp_path))
    store.set_parts("x", [b"old"])
    monkeypatch.setattr(os, "write", lambda fd, data: 0)
    with pytest.raises(StorageError, match="x"):
        store.set_parts("x", [b"abc", b"def"])
    monkeypatch.undo()
    assert (tmp_path / "x").read_bytes() == b"old"  # the old value stays
    assert store.temp_files() == []
