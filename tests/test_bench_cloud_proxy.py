"""benchmarks/cloud_server.py: the cloud benchmark's counting proxy forwards requests
(with one Content-Length, whatever case the client wrote it in), counts them by kind with
their bytes, and adds the latency asked for (fixed, or drawn with a long tail); in this
process or in a child process of its own (``ProxyProcess``), which ``stop()`` ends."""

import http.client
import http.server
import statistics
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import cloud_server  # noqa: E402


class _Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list = []

    def log_message(self, *args):
        pass

    def _answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        type(self).seen.append((self.command, self.path,
                                self.headers.get_all("Content-Length"), body))
        out = b"stored" if self.command == "PUT" else b"x" * 1000
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_PUT = _answer


def _serve():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


@pytest.mark.parametrize("kind", [cloud_server.CountingProxy, cloud_server.ProxyProcess])
def test_forwards_counts_and_sends_one_content_length(kind):
    up = _serve()
    _Upstream.seen = []
    child = None
    try:
        with kind(up.server_address) as p:
            child = getattr(p, "proc", None)
            host, port = p.url.rsplit("/", 1)[1].split(":")
            c = http.client.HTTPConnection(host, int(port))
            c.putrequest("PUT", "/bucket/a/c/0")
            c.putheader("content-length", "5")          # as obstore writes it
            c.endheaders(b"hello")
            r = c.getresponse()
            assert (r.status, r.read()) == (200, b"stored")
            c.request("GET", "/bucket/a/zarr.json", headers={"Range": "bytes=0-9"})
            assert c.getresponse().read() == b"x" * 1000
            stats = cloud_server.read_stats(p.url)
            cloud_server.reset_stats(p.url)
            assert cloud_server.read_stats(p.url)["requests"] == 0
    finally:
        up.shutdown()
    if kind is cloud_server.ProxyProcess:  # a child process, gone once stopped
        assert child is not None and child.returncode is not None
    assert _Upstream.seen[0] == ("PUT", "/bucket/a/c/0", ["5"], b"hello")
    assert _Upstream.seen[1][:2] == ("GET", "/bucket/a/zarr.json")
    assert stats["requests"] == 2
    assert stats["by_kind"] == {"PUT": 1, "GET range": 1}
    assert stats["bytes_up"] > 5 and stats["bytes_down"] > 1000


def test_added_latency_fixed_or_with_a_long_tail():
    fixed = cloud_server._ProxyServer(("127.0.0.1", 9), delay=0.02)
    tail = cloud_server._ProxyServer(("127.0.0.1", 9), delay=0.02, jitter=True)
    try:
        assert {fixed.wait() for _ in range(10)} == {0.02}
        waits = [tail.wait() for _ in range(4000)]
        assert max(waits) <= 0.2 + 1e-12                 # capped at 10x
        assert 0.015 < statistics.mean(waits) < 0.025    # about the mean asked for
        assert sum(w > 0.06 for w in waits) > 40         # a tail: some 3x slower or more
        assert statistics.median(waits) < 0.02           # most quicker than the mean
    finally:
        fixed.server_close()
        tail.server_close()
