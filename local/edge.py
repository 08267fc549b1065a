"""A local stand-in for CloudFront: one origin for the browser.

  /api/*  -> the API (chalice local), prefix stripped, like the API Gateway
             stage named `api` behind CloudFront
  /outbox -> the mails SES sent in moto (local/outbox.py; local only)
  /*      -> the site bucket on S3 (storefront and catalogue JSON), read with
             a signed request, like CloudFront's origin access control; the
             bucket itself is private
"""

from __future__ import annotations

import http.client
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from local.site import security_headers

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
              "proxy-authenticate", "host", "content-length"}


def make_handler(api_host: str, api_port: int, s3, bucket: str, moto_endpoint: str | None = None):
    class Edge(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # the API logs requests itself
            pass

        def _api(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            path = self.path[len("/api"):] or "/"
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in HOP_BY_HOP and k.lower() != "cloudfront-viewer-address"}
            # As CloudFront does (origin request policy): the viewer's own address, never the client's word for it.
            headers["CloudFront-Viewer-Address"] = f"{self.client_address[0]}:{self.client_address[1]}"
            connection = http.client.HTTPConnection(api_host, api_port, timeout=60)
            try:
                connection.request(self.command, path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except OSError:
                self._send(502, b'{"title":"API not reachable"}', "application/problem+json")
                return
            finally:
                connection.close()
            self.send_response(response.status)
            added = security_headers()  # CloudFront's response headers policy overrides the origin's
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP and name not in added:
                    self.send_header(name, value)
            for name, value in added.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _static(self) -> None:
            key = urlsplit(self.path).path.lstrip("/") or "index.html"
            if key.endswith("/"):
                key += "index.html"
            try:
                obj = s3.get_object(Bucket=bucket, Key=key)
            except ClientError as error:
                if error.response["Error"]["Code"] in ("NoSuchKey", "404", "AccessDenied", "403"):
                    try:
                        obj = s3.get_object(Bucket=bucket, Key="404.html")
                        self._send(404, obj["Body"].read(), obj.get("ContentType", "text/html"))
                    except ClientError:
                        self._send(404, b"Not found", "text/plain")
                    return
                self._send(502, b"The origin answered an error", "text/plain")  # as CloudFront does
                return
            except BotoCoreError:  # the origin is unreachable (e.g. while the local stack stops)
                self._send(502, b"The origin did not answer", "text/plain")
                return
            body = obj["Body"].read()
            self._send(200, b"" if self.command == "HEAD" else body, obj.get("ContentType", "application/octet-stream"),
                       obj.get("CacheControl"), length=len(body))

        def _send(self, status: int, body: bytes, content_type: str, cache: str | None = None,
                  length: int | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            if cache:
                self.send_header("Cache-Control", cache)
            for name, value in security_headers().items():  # as infra/edge.yaml's SecurityHeadersPolicy
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _outbox(self) -> None:
            from local import outbox

            try:
                status, content_type, body = outbox.handle(moto_endpoint, self.path)
            except OSError:
                status, content_type, body = 502, "text/plain", b"moto did not answer"
            self._send(status, b"" if self.command == "HEAD" else body, content_type, "no-store", length=len(body))

        def _route(self) -> None:
            if self.path == "/api" or self.path.startswith("/api/"):
                self._api()
            elif moto_endpoint and self.command in ("GET", "HEAD") and (
                    self.path == "/outbox" or self.path.startswith(("/outbox/", "/outbox?"))):
                self._outbox()
            elif self.command in ("GET", "HEAD"):
                self._static()
            else:
                self._send(405, b"Method not allowed", "text/plain")

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _route

    return Edge


class _EdgeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # CloudFront takes a burst of buyers without refusing connections;
    # socketserver's default backlog of 5 made the kernel drop them.
    request_queue_size = 1024

    def handle_error(self, request, client_address):  # noqa: ANN001 - socketserver's signature
        """A browser that went away mid-answer (tab closed, page left) is
        normal for an edge, not an error worth a traceback."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class EdgeServer:
    def __init__(self, *, port: int, api_port: int, endpoint: str, access_key: str, secret_key: str, bucket: str,
                 host: str = "127.0.0.1") -> None:
        s3 = boto3.Session(aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                           region_name="eu-west-1").client("s3", endpoint_url=endpoint)
        self.server = _EdgeHTTPServer((host, port), make_handler("127.0.0.1", api_port, s3, bucket, endpoint))
        self.url = f"http://{host}:{self.server.server_address[1]}"

    def start(self) -> "EdgeServer":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
