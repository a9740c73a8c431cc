"""Helpers shared by the storage tests (servers live in conftest.py)."""

from __future__ import annotations

import http.server
import socket
import uuid
from pathlib import Path


#: pids of the server processes the fixtures started (for the loopback check)
SPAWNED_PIDS: list[int] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique_name(prefix: str) -> str:
    """A fresh bucket/container name (lowercase, 3-63 chars)."""
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


def s3_options(endpoint: str, key: str = "testing", secret: str = "testing") -> dict:
    # no region_name: s3fs would send a LocationConstraint that moto rejects for us-east-1
    return {"key": key, "secret": secret, "client_kwargs": {"endpoint_url": endpoint}}


def write_tree(directory: Path, items: dict[str, bytes]) -> None:
    for k, v in items.items():
        p = directory / k
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(v)


class LoopbackHTTPServer(http.server.ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops concurrent connects (1 s SYN retries)
    request_queue_size = 128
    daemon_threads = True
