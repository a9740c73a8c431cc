"""HTTP stores are read-only: the read suite runs against a server that honours Range
(RangeHTTPServer) and one that ignores it (http.server), which must give the same bytes."""

import functools
import http.server
import threading

import fsspec
import pytest

from exzarr.errors import ReadOnlyError, StorageError
from exzarr.storage import FsspecStore, open_store
from exzarr.testing.stores import VALUE, ReadableStoreTests

from ._helpers import LoopbackHTTPServer, unique_name, write_tree

pytestmark = pytest.mark.timeout(120)


class _HTTPSuite(ReadableStoreTests):
    server_fixture = ""
    directories_are_missing = False  # http.server answers /dir with a listing page

    @pytest.fixture
    def store(self, request):
        base, directory = request.getfixturevalue(self.server_fixture)
        sub = unique_name("t")
        (directory / sub).mkdir()
        self._dir = directory / sub
        return FsspecStore(f"{base}/{sub}")

    def populate(self, store, items):
        write_tree(self._dir, items)


class TestHTTPWithRange(_HTTPSuite):
    server_fixture = "range_http_root"


class TestHTTPWithoutRange(_HTTPSuite):
    server_fixture = "plain_http_root"


def _store(root, items):
    base, directory = root
    sub = unique_name("t")
    write_tree(directory / sub, items)
    return FsspecStore(f"{base}/{sub}"), f"{base}/{sub}"


def test_http_is_read_only_and_unlisted(range_http_root):
    s, url = _store(range_http_root, {"k": b"1"})
    assert not s.supports_writes and not s.supports_listing
    with pytest.raises(ReadOnlyError) as e:
        s.set("k", b"2")
    assert url in str(e.value)
    with pytest.raises(ReadOnlyError):
        s.delete("k")
    with pytest.raises(StorageError) as e:
        list(s.list())
    assert "consolidated metadata" in str(e.value)
    assert open_store(url + "/").get("k") == b"1"


def test_the_trap_is_real(plain_http_root):
    """fsspec alone returns the whole object for a range from a server that ignores Range."""
    s, url = _store(plain_http_root, {"v": VALUE})
    assert len(fsspec.filesystem("http").cat_file(f"{url}/v", start=100, end=200)) == len(VALUE)
    assert s.get("v", (100, 200)) == VALUE[100:200]
    assert s.supports_byte_ranges is False  # detected: whole values are fetched and sliced
    assert s.get_ranges([("v", (5, 9)), ("v", (-3, None))]) == [VALUE[5:9], VALUE[-3:]]


def test_range_server_is_trusted_after_first_check(range_http_root):
    s, _ = _store(range_http_root, {"v": VALUE, "w": VALUE[::-1]})
    assert s.get("v", (100, 200)) == VALUE[100:200]
    assert s._ranges is True and s.supports_byte_ranges
    assert s.get_ranges([("v", (1, 3)), ("w", (-2, None))]) == [VALUE[1:3], VALUE[::-1][-2:]]


class _BrokenRange(http.server.SimpleHTTPRequestHandler):
    """Answers every Range request with five bytes too many."""

    def log_message(self, *a):
        pass

    def do_GET(self):
        rng = self.headers.get("Range")
        path = self.translate_path(self.path)
        try:
            data = open(path, "rb").read()
        except OSError:
            self.send_error(404)
            return
        if rng:
            a, b = rng.split("=")[1].split("-")
            a, b = int(a), (int(b) + 1 if b else len(data))
            data = data[a:b + 5]
            self.send_response(206)
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_server_mangling_ranges_raises(tmp_path):
    write_tree(tmp_path, {"v": VALUE})
    srv = LoopbackHTTPServer(
        ("127.0.0.1", 0), functools.partial(_BrokenRange, directory=str(tmp_path)))
    t = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    t.start()
    try:
        s = FsspecStore(f"http://127.0.0.1:{srv.server_address[1]}")
        assert s.get("v") == VALUE
        with pytest.raises(StorageError) as e:
            s.get("v", (10, 20))
        assert "Range" in str(e.value) and "'v'" in str(e.value)
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(10)
