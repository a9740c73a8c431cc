"""Retries: a wrapper store that throttles its first N calls, and a loopback HTTP server
that answers its first N requests with 429/503/500 before serving files."""

import errno
import functools
import http.server
import threading

import pytest

from exzarr.errors import AccessDeniedError, StorageError, ThrottledError
from exzarr.storage import (FsspecStore, MemoryStore, RetryingStore, RetryPolicy,
                            TransientStorageError, classify)
from exzarr.storage.retry import RetryStats, call_with_retry

from ._helpers import LoopbackHTTPServer, free_port, write_tree

FAST = RetryPolicy(max_attempts=5, base_delay=0.001, max_delay=0.01)


class ThrottlingStore(MemoryStore):
    """A memory store whose first ``fail`` operations raise a throttling error."""

    def __init__(self, fail: int, exc_factory=None):
        super().__init__()
        self.remaining = fail
        self.calls = 0
        self._exc = exc_factory or (lambda: OSError(errno.EBUSY, "SlowDown: please reduce your request rate"))
        self._lock = threading.Lock()

    def _maybe_fail(self):
        with self._lock:
            self.calls += 1
            if self.remaining > 0:
                self.remaining -= 1
                raise self._exc()

    def get(self, key, byte_range=None):
        self._maybe_fail()
        return super().get(key, byte_range)

    def _set(self, key, value):
        self._maybe_fail()
        super()._set(key, value)


def test_wrapper_retries_then_succeeds():
    inner = ThrottlingStore(fail=0)
    inner.set("k", b"value")
    inner.remaining = 3
    s = RetryingStore(inner, FAST)
    assert s.get("k") == b"value"
    assert s.retry_stats.retries == 3 and s.retry_stats.throttled == 3
    assert inner.calls == 5  # 1 set + 3 throttled gets + 1 good get
    inner.remaining = 2
    s.set("k", b"new")
    assert s.retry_stats.retries == 5 and inner.get("k") == b"new"
    assert s.url == inner.url


def test_wrapper_gives_up_with_clear_error():
    inner = ThrottlingStore(fail=100)
    s = RetryingStore(inner, FAST)
    with pytest.raises(ThrottledError) as e:
        s.get("k")
    msg = str(e.value)
    assert "5 time(s)" in msg and "'k'" in msg and inner.url in msg
    assert "max_attempts" in msg
    assert inner.calls == 5
    assert s.retry_stats.as_dict() == {"retries": 4, "throttled": 4, "transient": 0, "gave_up": 1}


def test_wrapper_transient_errors_and_no_retry_for_others():
    inner = ThrottlingStore(fail=2, exc_factory=lambda: ConnectionResetError("reset by peer"))
    inner.remaining = 0
    inner.set("k", b"1")
    inner.remaining = 2
    s = RetryingStore(inner, FAST)
    assert s.get("k") == b"1" and s.retry_stats.transient == 2
    inner.remaining, inner._exc = 1, (lambda: PermissionError("403 Forbidden"))
    with pytest.raises(PermissionError):
        s.get("k")
    assert s.retry_stats.retries == 2  # not retried
    s2 = RetryingStore(ThrottlingStore(fail=10, exc_factory=lambda: TimeoutError("timed out")),
                       RetryPolicy(max_attempts=3, base_delay=0.001))
    with pytest.raises(StorageError) as e:
        s2.get("k")
    assert not isinstance(e.value, ThrottledError) and "3 time(s)" in str(e.value)


def test_wrapper_read_only_view_and_flags():
    s = RetryingStore(MemoryStore(), FAST)
    s.set("k", b"1")
    ro = s.with_read_only()
    assert ro.read_only and ro.inner.read_only and not s.inner.read_only
    with pytest.raises(Exception):
        ro.set("k", b"2")
    assert sorted(s.list()) == ["k"] and list(s.list_dir("")) == ["k"]


def test_policy_delays_are_bounded():
    p = RetryPolicy(base_delay=0.1, max_delay=1.0, jitter=False)
    assert [p.delay(n) for n in (1, 2, 3, 4, 5, 6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    pj = RetryPolicy(base_delay=0.1, max_delay=1.0, jitter=True)
    for n in range(1, 10):
        d = pj.delay(n)
        assert p.delay(n) / 2 <= d <= p.delay(n)
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(Exception):
        p.max_attempts = 3  # frozen


def test_call_with_retry_sleeps_per_policy():
    slept = []
    n = {"left": 3}

    def fn():
        if n["left"]:
            n["left"] -= 1
            raise ThrottledError("slow down")
        return 42

    stats = RetryStats()
    assert call_with_retry(fn, policy=RetryPolicy(jitter=False, base_delay=1, max_delay=3),
                           stats=stats, sleep=slept.append) == 42
    assert slept == [1, 2, 3] and stats.retries == 3


def test_call_with_retry_counts_a_failed_first_attempt_made_outside():
    calls, slept = [], []

    def fn():
        calls.append(1)
        raise ThrottledError("slow down")

    stats = RetryStats()
    policy = RetryPolicy(jitter=False, base_delay=1, max_delay=3, max_attempts=3)
    with pytest.raises(ThrottledError, match="3 time"):
        call_with_retry(fn, policy=policy, stats=stats, sleep=slept.append,
                        failed=ThrottledError("slow down"))
    assert len(calls) == 2 and slept == [1, 2] and stats.retries == 2 and stats.gave_up == 1
    # a first failure that is not retried is raised as it is, without a call
    with pytest.raises(FileNotFoundError):
        call_with_retry(fn, policy=policy, stats=stats, failed=FileNotFoundError("gone"))
    assert len(calls) == 2
    assert call_with_retry(lambda: 7, policy=policy, stats=stats, sleep=slept.append,
                           failed=ThrottledError("slow down")) == 7


def test_classify():
    class Resp(Exception):
        def __init__(self, status):
            self.status = status

    class ClientError(Exception):
        def __init__(self, code, status):
            self.response = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}

    assert classify(FileNotFoundError("x")) == "missing"
    assert classify(Resp(404)) == "missing"
    assert classify(Resp(403)) == "denied"
    assert classify(PermissionError()) == "denied"
    assert classify(ClientError("AccessDenied", 403)) == "denied"
    assert classify(Resp(429)) == "throttled"
    assert classify(Resp(503)) == "throttled"
    assert classify(ClientError("SlowDown", 503)) == "throttled"
    assert classify(OSError(errno.EBUSY, "busy")) == "throttled"
    assert classify(Resp(500)) == "transient"
    assert classify(TimeoutError()) == "transient"
    assert classify(ConnectionRefusedError()) == "transient"
    assert classify(Resp(400)) == "other"
    assert classify(ValueError("x")) == "other"
    wrapped = OSError("wrapped")
    wrapped.__cause__ = Resp(429)
    assert classify(wrapped) == "throttled"


# -- through a real (loopback) HTTP server -------------------------------------------------
class _FlakyHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def _flake(self) -> bool:
        srv = self.server
        with srv.lock:
            srv.requests += 1
            if srv.fail_remaining > 0:
                srv.fail_remaining -= 1
                status = srv.fail_status
            else:
                return False
        self.send_response(status)
        self.send_header("Content-Length", "0")
        if status == 429:
            self.send_header("Retry-After", "0")
        self.end_headers()
        return True

    def do_GET(self):
        if not self._flake():
            super().do_GET()

    def do_HEAD(self):
        if not self._flake():
            super().do_HEAD()


@pytest.fixture
def flaky_http(tmp_path):
    srv = LoopbackHTTPServer(("127.0.0.1", 0), functools.partial(_FlakyHandler, directory=str(tmp_path)))
    srv.lock = threading.Lock()
    srv.requests = 0
    srv.fail_remaining = 0
    srv.fail_status = 503
    t = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    t.start()
    write_tree(tmp_path, {f"c/{i}": bytes([i]) * 100 for i in range(10)})
    try:
        yield srv, f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(10)


@pytest.mark.parametrize("status", [429, 503, 500])
def test_fsspec_store_retries_http_errors(flaky_http, status):
    srv, url = flaky_http
    srv.fail_status, srv.fail_remaining = status, 3
    s = FsspecStore(url, retry=FAST)
    assert s.get("c/1") == bytes([1]) * 100
    assert s.retry_stats.retries == 3
    kind = "throttled" if status in (429, 503) else "transient"
    assert getattr(s.retry_stats, kind) == 3


def test_fsspec_store_batch_retries_only_failed_items(flaky_http):
    srv, url = flaky_http
    s = FsspecStore(url, retry=FAST)
    srv.fail_status, srv.fail_remaining = 429, 4
    got = s.get_many([f"c/{i}" for i in range(10)] + ["c/missing"])
    assert got == {**{f"c/{i}": bytes([i]) * 100 for i in range(10)}, "c/missing": None}
    assert s.retry_stats.retries == 4
    assert srv.requests == 11 + 4
    srv.fail_remaining = 2
    got = s.get_ranges([(f"c/{i}", (0, 5)) for i in range(10)])
    assert got == [bytes([i]) * 5 for i in range(10)]


def test_fsspec_store_gives_up(flaky_http):
    srv, url = flaky_http
    srv.fail_status, srv.fail_remaining = 503, 1000
    s = FsspecStore(url, retry=RetryPolicy(max_attempts=4, base_delay=0.001))
    with pytest.raises(ThrottledError) as e:
        s.get("c/1")
    assert "4 time(s)" in str(e.value) and url in str(e.value) and "'c/1'" in str(e.value)
    with pytest.raises(ThrottledError):
        s.get_many(["c/1", "c/2"])
    assert s.retry_stats.gave_up == 2


def test_fsspec_store_access_denied_not_retried(flaky_http):
    srv, url = flaky_http
    srv.fail_status, srv.fail_remaining = 403, 1
    s = FsspecStore(url, retry=FAST)
    with pytest.raises(AccessDeniedError) as e:
        s.get("c/1")
    assert "credentials" in str(e.value) and "'c/1'" in str(e.value)
    assert s.retry_stats.retries == 0


def test_connection_refused_is_retried_then_reported():
    url = f"http://127.0.0.1:{free_port()}/nothing"
    s = FsspecStore(url, retry=RetryPolicy(max_attempts=3, base_delay=0.001))
    with pytest.raises(StorageError) as e:
        s.get("k")
    assert "3 time(s)" in str(e.value) and url in str(e.value)
    assert s.retry_stats.transient == 2


def test_transient_error_type():
    assert issubclass(TransientStorageError, StorageError)
