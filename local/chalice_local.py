"""`chalice local` with a listen backlog API Gateway would not have.

`python -m local.chalice_local --port N --stage local` serves the app exactly
as `chalice local --no-autoreload` does (the same CLI factory, config, route
validation and `LocalDevServer`), with one difference: the server listens
with a large backlog. Chalice's server keeps socketserver's default of 5, so
a burst of buyers (an on-sale, a load test) had its connections dropped by
the kernel before the server could accept them: a bottleneck of the local
stand-in, not of the system it stands in for.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from chalice import local as chalice_local
from chalice.cli import create_local_server
from chalice.cli.factory import CLIFactory
from chalice.constants import DEFAULT_STAGE_NAME

ROOT = Path(__file__).resolve().parents[1]
BACKLOG = 1024  # connections the kernel may queue before the server accepts them (capped by net.core.somaxconn)


class BurstTolerantHTTPServer(chalice_local.ThreadedHTTPServer):
    request_queue_size = BACKLOG
    daemon_threads = True  # a request still running never holds up the exit


class _Factory(CLIFactory):
    def create_local_server(self, app_obj, config, host, port):  # noqa: ANN001 - CLIFactory's signature
        # What chalice.local.create_local_server does, with our server class.
        chalice_local.CustomLocalChalice.__bases__ = (chalice_local.LocalChalice, app_obj.__class__)
        app_obj.__class__ = chalice_local.CustomLocalChalice
        return chalice_local.LocalDevServer(app_obj, config, host, port, server_cls=BurstTolerantHTTPServer)


def build(host: str, port: int, stage: str = DEFAULT_STAGE_NAME,
          project_dir: Path = ROOT) -> chalice_local.LocalDevServer:
    """The server, bound and listening, as `chalice local` builds it."""
    os.environ["AWS_CHALICE_CLI_MODE"] = "true"  # as the chalice CLI sets it
    os.chdir(project_dir)
    factory = _Factory(str(project_dir), debug=False, environ=os.environ)
    return create_local_server(factory, host, port, stage)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default=DEFAULT_STAGE_NAME)
    args = parser.parse_args(argv)
    # chalice local logs to stdout as the app would in Lambda
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    server = build(args.host, args.port, args.stage)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # Ctrl-C on `make run`: stop quietly
        pass
    finally:
        server.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
