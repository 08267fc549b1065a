"""The local stand-ins for CloudFront (local/edge.py) and API Gateway
(`chalice local`, started through local/chalice_local.py) take a burst of
buyers as the real services do: 200 clients connect at the same moment,
while the server is busy and accepts nobody, and every one of them is
connected by the kernel and then answered; none is refused, reset or left
waiting for a SYN retransmission. With socketserver's default backlog of 5
all but six of them would hang in SYN_SENT until the server caught up."""

from __future__ import annotations

import errno
import http.client
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from local.edge import EdgeServer

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 200
# Far longer than a loopback handshake takes; a connection the kernel dropped
# would only be retried after 1 s, 3 s, ... and the server accepts nobody
# during this wait, so a dropped one can never make it in time.
CONNECT_DEADLINE_S = 5.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _connect_all_at_once(port: int) -> list[socket.socket]:
    """CLIENTS non-blocking connects fired together; fails unless the kernel
    established every one of them (the server itself accepts none meanwhile)."""
    selector = selectors.DefaultSelector()
    sockets, failed = [], []
    try:
        for _ in range(CLIENTS):
            sock = socket.socket()
            sockets.append(sock)
            sock.setblocking(False)
            result = sock.connect_ex(("127.0.0.1", port))
            assert result in (0, errno.EINPROGRESS), os.strerror(result)
            selector.register(sock, selectors.EVENT_WRITE)
        pending = set(sockets)
        deadline = time.monotonic() + CONNECT_DEADLINE_S
        while pending and time.monotonic() < deadline:
            for key, _ in selector.select(deadline - time.monotonic()):
                sock = key.fileobj
                selector.unregister(sock)
                pending.discard(sock)
                error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    failed.append(os.strerror(error))
        assert not failed, f"{len(failed)} of {CLIENTS} connections failed: {sorted(set(failed))}"
        assert not pending, f"{len(pending)} of {CLIENTS} connections were not accepted into the listen queue"
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    finally:
        selector.close()
    return sockets


def _ask_on_each(sockets: list[socket.socket], path: str) -> list[int]:
    """Send one request on every connection, then read every answer."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    try:
        for sock in sockets:
            sock.setblocking(True)
            sock.settimeout(60)
            sock.sendall(request)
        statuses = []
        for sock in sockets:
            answer = http.client.HTTPResponse(sock)
            answer.begin()
            answer.read()
            statuses.append(answer.status)
        return statuses
    finally:
        for sock in sockets:
            sock.close()


@pytest.fixture(scope="module")
def chalice_local():
    """`python -m local.chalice_local`, as `make run` starts it."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "local.chalice_local", "--port", str(port), "--stage", "local"],
                               cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        banner = process.stdout.readline()  # printed once the socket listens
        assert banner.startswith("Serving on"), banner + process.stdout.read()
        yield process, port
    finally:
        process.send_signal(signal.SIGCONT)  # in case a test left it stopped
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


def test_chalice_local_queues_a_burst_of_200_connections_while_busy_and_answers_them_all(chalice_local):
    process, port = chalice_local
    process.send_signal(signal.SIGSTOP)  # the server accepts nobody while the burst arrives
    try:
        sockets = _connect_all_at_once(port)
    finally:
        process.send_signal(signal.SIGCONT)
    assert _ask_on_each(sockets, "/health") == [200] * CLIENTS


def test_the_edge_queues_a_burst_of_200_connections_before_serving_and_proxies_them_all(chalice_local):
    _, api_port = chalice_local
    # S3 is never asked: every request goes to /api/* (the chalice local above)
    edge = EdgeServer(port=0, api_port=api_port, endpoint="http://127.0.0.1:9", access_key="test",
                      secret_key="test", bucket="unused")  # listening, not yet accepting
    try:
        sockets = _connect_all_at_once(edge.server.server_address[1])
    except BaseException:
        edge.server.server_close()  # never served: nothing to shut down
        raise
    edge.start()
    try:
        assert _ask_on_each(sockets, "/api/health") == [200] * CLIENTS
    finally:
        edge.stop()
