"""LocalStore.get_buffer: large files are memory-mapped, small ones read; same bytes."""

import os

from exzarr.storage import LocalStore, MemoryStore


def test_get_buffer_matches_get(tmp_path):
    s = LocalStore(str(tmp_path))
    big = os.urandom(LocalStore.MMAP_THRESHOLD + 123)
    s.set("a/big", big)
    s.set("a/small", b"xyz")
    buf = s.get_buffer("a/big")
    assert isinstance(buf, memoryview) and bytes(buf) == big
    assert s.get_buffer("a/small") == b"xyz"
    assert s.get_buffer("a/missing") is None
    # replacing the file never changes a buffer already handed out (new inode)
    s.set("a/big", b"0" * len(big))
    assert bytes(buf) == big
    assert MemoryStore().get_buffer("nope") is None


def test_set_parts(tmp_path):
    for s in (LocalStore(str(tmp_path)), MemoryStore()):
        s.set_parts("x/y", [b"ab", memoryview(b"cd"), bytearray(b"ef")])
        assert s.get("x/y") == b"abcdef"
        assert list(s.list_prefix("x/")) == ["x/y"]  # no temporary files left behind
