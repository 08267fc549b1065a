"""boto3 clients and resources for the function's own identity.

Endpoints come from the standard AWS_ENDPOINT_URL variable, so the same code
talks to AWS or to the local moto server.
"""

from __future__ import annotations

from functools import lru_cache

import boto3
from botocore.config import Config

from chalicelib.settings import get_settings

# Short timeouts and standard retries: a slow dependency fails a request fast
# rather than holding a Lambda (and the buyer) for 60 s.
CLIENT_CONFIG = Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=3, read_timeout=10)


@lru_cache(maxsize=1)
def own_session() -> boto3.Session:
    return boto3.Session(region_name=get_settings().region)


def client(service: str, session: boto3.Session | None = None):
    return (session or own_session()).client(service, config=CLIENT_CONFIG)


def table(name: str, session: boto3.Session | None = None):
    return (session or own_session()).resource("dynamodb", config=CLIENT_CONFIG).Table(name)
