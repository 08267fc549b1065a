"""Sends one signed webhook over HTTP(S) to an address checked just before
(DNS rebinding: the host is resolved, every address checked, and the
connection goes to the checked address, with the host name kept for TLS and
the Host header)."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from chalicelib.domain import webhooks as rules

READ_LIMIT = 4096  # bytes of an answer read at most: the log keeps a short excerpt


@dataclass
class Answer:
    status: int | None
    latency_ms: int
    body: bytes = b""
    retry_after: str | None = None
    error: str | None = None


def resolve(host: str, port: int) -> list[str]:
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})
    except socket.gaierror:
        return []


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: str, headers: dict[str, str], *, timeout: float, allow_loopback: bool) -> Answer:
    started = time.monotonic()
    scheme, host, port = rules.parse_url(url, allow_insecure=allow_loopback)
    addresses = rules.check_addresses(resolve(host, port), allow_loopback=allow_loopback)
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_type = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    connection = connection_type(host, port, addresses[0], timeout)
    try:
        connection.request("POST", target, body=body.encode(), headers=headers)
        response = connection.getresponse()
        data = response.read(READ_LIMIT)
        return Answer(response.status, int((time.monotonic() - started) * 1000), data,
                      response.getheader("Retry-After"))
    except (OSError, http.client.HTTPException) as error:
        kind = "timeout" if isinstance(error, (socket.timeout, TimeoutError)) else "connection failed"
        return Answer(None, int((time.monotonic() - started) * 1000), error=kind)
    finally:
        connection.close()
