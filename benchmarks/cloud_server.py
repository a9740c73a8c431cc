"""The S3 side of the cloud benchmark: moto's threaded server and a counting HTTP proxy.

- :class:`MotoProcess` runs ``moto.server.ThreadedMotoServer`` on 127.0.0.1 (a free port)
  in a child process of the benchmark (``python cloud_server.py``), so the S3 server and
  the proxy do not share one interpreter lock.  It stops when its stdin closes.
- :class:`CountingProxy` listens on 127.0.0.1 (a free port), forwards every request to
  moto over keep-alive connections and counts, per HTTP method, the requests and the bytes
  on the client side of the wire in each direction (request line + headers + body up,
  status line + headers + body down), and the CPU time moto's process and its own used
  meanwhile.  Every engine talks to the proxy, so every engine is counted the same way.

The counters are read and reset over HTTP by the measuring process itself:
``GET /_counting-proxy/reset`` and ``GET /_counting-proxy/stats`` (JSON).  These control
requests are not forwarded and not counted; S3 bucket names cannot start with ``_``, so
the path never collides with a bucket.
"""

from __future__ import annotations

import http.client
import http.server
import json
import logging
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter

# this folder, for its sibling modules: also when run as a child process's script under
# PYTHONSAFEPATH (the wheel suites), which keeps a script's folder off sys.path
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rss import cpu_times  # noqa: E402

CONTROL = "/_counting-proxy/"
_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
        "upgrade", "expect"}

__all__ = ["MotoProcess", "CountingProxy", "read_stats", "reset_stats"]


def process_cpu(pid: int | None = None) -> float | None:
    """CPU time (user + system, all threads) of process ``pid`` (None: this one) so far,
    in seconds: this process's from :func:`rss.cpu_times` (microseconds), another's from
    Linux's ``/proc`` (in clock ticks, 10 ms here); None where ``/proc`` cannot tell."""
    if pid is None:
        return cpu_times()[0]
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Counts:
    """Requests and bytes since the last reset, and the CPU the S3 server's process
    (``server_pid``) and this process (the proxy: the benchmark's parent does nothing else
    while a worker runs) used meanwhile."""

    def __init__(self, server_pid: int | None = None) -> None:
        self.lock = threading.Lock()
        self.server_pid = server_pid
        self.reset()

    def _cpu(self) -> tuple[float | None, float | None]:
        return (None if self.server_pid is None else process_cpu(self.server_pid),
                process_cpu())

    def reset(self) -> None:
        with getattr(self, "lock", threading.Lock()):
            self.requests: Counter[str] = Counter()
            self.up = 0
            self.down = 0
            self.cpu0 = self._cpu()

    def add(self, kind: str, up: int, down: int) -> None:
        with self.lock:
            self.requests[kind] += 1
            self.up += up
            self.down += down

    def snapshot(self) -> dict:
        with self.lock:
            out = {"requests": sum(self.requests.values()), "by_kind": dict(self.requests),
                   "bytes_up": self.up, "bytes_down": self.down}
            for name, t0, t1 in zip(("server_cpu", "proxy_cpu"), self.cpu0, self._cpu()):
                if t0 is not None and t1 is not None:
                    out[name] = t1 - t0
            return out


def _kind(method: str, path: str, headers) -> str:
    """GET / ranged GET / LIST / HEAD / PUT / DELETE / POST (multi-object delete ...)."""
    if method == "GET":
        query = path.partition("?")[2]
        if any(q in query for q in ("list-type=", "prefix=", "delimiter=")):
            return "LIST"
        return "GET range" if headers.get("Range") else "GET"
    return method


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"     # keep-alive, and 100-continue answered for us
    server: "_ProxyServer"
    raw_requestline: bytes            # the request line, as read (set by handle_one_request)

    def log_message(self, *args) -> None:  # quiet
        pass

    def _body(self) -> tuple[bytes, int]:
        """The request body and its size on the wire (chunked framing included)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            wire = 0
            while True:
                line = self.rfile.readline()
                wire += len(line)
                n = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if n == 0:
                    while True:  # trailers, then the blank line
                        t = self.rfile.readline()
                        wire += len(t)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    return b"".join(parts), wire
                data = self.rfile.read(n)
                wire += n + len(self.rfile.readline())
                parts.append(data)
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else b""
        return data, len(data)

    def _upstream(self) -> http.client.HTTPConnection:
        local = self.server.local
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(*self.server.upstream, timeout=120)
        return conn

    def _forward(self) -> None:
        if self.path.startswith(CONTROL):
            return self._control()
        body, body_wire = self._body()
        head_up = len(self.raw_requestline) + len(self.headers.as_bytes())
        # (the length is set anew below: a client's own ``content-length`` kept beside it
        # would go upstream twice, which servers stricter than moto refuse with a 400)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in _HOP and k.lower() != "content-length"}
        if body or self.command in ("PUT", "POST"):
            headers["Content-Length"] = str(len(body))
        if self.server.delay:
            time.sleep(self.server.wait())  # a network's round trip (``--latency``)
        for attempt in (1, 2):
            conn = self._upstream()
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                self.server.local.conn = None
                if attempt == 2:
                    self.send_error(502, "upstream S3 server failed")
                    return
        lines = [f"HTTP/1.1 {resp.status} {resp.reason}\r\n"]
        length = None
        for k, v in resp.getheaders():
            if k.lower() in _HOP:
                continue
            if k.lower() == "content-length":
                length = v
                continue
            lines.append(f"{k}: {v}\r\n")
        if self.command == "HEAD":
            lines.append(f"Content-Length: {length if length is not None else 0}\r\n")
            data = b""
        else:
            lines.append(f"Content-Length: {len(data)}\r\n")
        lines.append("\r\n")
        head = "".join(lines).encode("latin-1")
        # counted before the client can see the answer (and ask for the counts)
        self.server.counts.add(_kind(self.command, self.path, self.headers),
                               head_up + body_wire, len(head) + len(data))
        self.wfile.write(head + data if len(data) < 65536 else head)
        if len(data) >= 65536:
            self.wfile.write(data)
        self.wfile.flush()

    def _control(self) -> None:
        what = self.path[len(CONTROL):].split("?", 1)[0]
        if what == "reset":
            self.server.counts.reset()
            out = b"{}"
        elif what == "stats":
            out = json.dumps(self.server.counts.snapshot()).encode()
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward


class _ProxyServer(http.server.ThreadingHTTPServer):
    request_queue_size = 256      # the default (5) drops bursts of concurrent connects
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: tuple[str, int], server_pid: int | None = None,
                 delay: float = 0.0, jitter: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream
        self.delay = delay
        self.jitter = random.Random(0) if jitter else None
        self.local = threading.local()
        self.counts = _Counts(server_pid)

    def wait(self) -> float:
        """A request's added latency: ``delay``, or with ``jitter`` drawn from an
        exponential distribution of that mean (capped at 10x): most requests quick, a few
        slow, as an object store's are."""
        if self.jitter is None:
            return self.delay
        return min(10 * self.delay, self.jitter.expovariate(1 / self.delay))


class CountingProxy:
    """``with CountingProxy(("127.0.0.1", moto_port), moto_pid) as p: p.url`` — stopped on
    exit; the counts include the CPU of the server's process ``server_pid`` if given.
    ``latency`` (seconds): each request waits that long before it is forwarded, like a
    network's round trip (requests in flight wait side by side); with ``jitter`` that is
    the mean of an exponential distribution (a long tail, capped at 10x)."""

    def __init__(self, upstream: tuple[str, int], server_pid: int | None = None,
                 latency: float = 0.0, jitter: bool = False) -> None:
        self._srv = _ProxyServer(upstream, server_pid, latency, jitter)
        self._thread = threading.Thread(target=self._srv.serve_forever, daemon=True,
                                        name="counting-proxy")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._srv.server_address[1]}"

    def start(self) -> "CountingProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._srv.shutdown()
        self._srv.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> "CountingProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _control(proxy_url: str, what: str) -> dict:
    # no environment proxies for loopback control calls
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{proxy_url}{CONTROL}{what}", timeout=30) as r:
        return json.loads(r.read())


def reset_stats(proxy_url: str) -> None:
    _control(proxy_url, "reset")


def read_stats(proxy_url: str) -> dict:
    return _control(proxy_url, "stats")


class _ChildServer:
    """A server in a child process running this file with ``args``: the child prints
    ``PORT <n>`` once it listens and serves until its stdin closes (or the parent
    dies); ``stop()`` ends it."""

    what = "server"

    def __init__(self, *args: str) -> None:
        self.args = list(args)
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self):
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), *self.args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline() if self.proc.stdout is not None else ""
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"{self.what} did not start (got {line!r})")
        self.port = int(line.split()[1])
        with socket.create_connection(("127.0.0.1", self.port), timeout=10):
            pass
        return self

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is None:
            return
        try:
            if p.stdin is not None:
                p.stdin.close()          # the child stops its server and exits
            p.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class MotoProcess(_ChildServer):
    """moto's ThreadedMotoServer on 127.0.0.1 in a child process; ``stop()`` ends it."""

    what = "moto server"


class ProxyProcess(_ChildServer):
    """:class:`CountingProxy` in a child process of its own, for clients that run in the
    caller's process (``cloud_paired.py``): the proxy's threads then take no interpreter
    lock from a Python client's threads, and the caller's CPU time is the client's alone.
    The counts are read as from the proxy in-process (:func:`read_stats`)."""

    what = "counting proxy"

    def __init__(self, upstream: tuple[str, int], server_pid: int | None = None,
                 latency: float = 0.0, jitter: bool = False) -> None:
        super().__init__("--proxy", str(upstream[1]), str(server_pid or 0), repr(latency),
                         "1" if jitter else "0")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _serve_proxy(port: str, server_pid: str, latency: str, jitter: str) -> None:
    with CountingProxy(("127.0.0.1", int(port)), int(server_pid) or None, float(latency),
                       jitter == "1") as proxy:
        print(f"PORT {proxy.url.rsplit(':', 1)[1]}", flush=True)
        sys.stdin.read()             # until the parent closes our stdin (or dies)


def _serve_moto() -> None:
    from moto.server import ThreadedMotoServer
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    try:
        host, port = srv.get_host_and_port()
        assert host == "127.0.0.1", host
        print(f"PORT {port}", flush=True)
        sys.stdin.read()             # until the parent closes our stdin (or dies)
    finally:
        srv.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--proxy"]:
        _serve_proxy(*sys.argv[2:6])
    else:
        _serve_moto()
