"""The test servers listen on 127.0.0.1 only."""

import os

import psutil
import pytest

from ._helpers import SPAWNED_PIDS


def _listening(proc: psutil.Process) -> list:
    conns = proc.net_connections(kind="inet") if hasattr(proc, "net_connections") \
        else proc.connections(kind="inet")
    return [c.laddr for c in conns if c.status == psutil.CONN_LISTEN]


@pytest.mark.usefixtures("moto_endpoint", "s3rver_endpoint", "azurite_connection_string",
                         "gcs_endpoint", "range_http_root", "plain_http_root")
def test_servers_listen_on_loopback_only():
    procs = [psutil.Process(os.getpid())]
    for pid in SPAWNED_PIDS:
        try:
            p = psutil.Process(pid)
        except psutil.NoSuchProcess:
            continue
        procs.append(p)
        procs.extend(p.children(recursive=True))
    addrs = [a for p in procs for a in _listening(p)]
    assert len(addrs) >= 6, addrs  # moto + 2 http in process, s3rver, azurite, fake-gcs
    assert all(a.ip == "127.0.0.1" for a in addrs), addrs
