"""boto3 clients and resources for the function's own identity.

Endpoints come from the standard AWS_ENDPOINT_URL variable, so the same code
talks to AWS or to the local moto server.
"""

from __future__ import annotations

import os
import random
import threading
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.errors import ServiceBusy
from chalicelib.settings import get_settings

# Short timeouts and standard retries: a slow dependency fails a request fast
# rather than holding a Lambda (and the buyer) for 60 s.
CLIENT_CONFIG = Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=3, read_timeout=10)
# DynamoDB retries are Loket's own (below); botocore makes one attempt.
DYNAMODB_CONFIG = CLIENT_CONFIG.merge(Config(retries={"max_attempts": 1, "mode": "standard"}))

# DynamoDB answers contention with these: the request did nothing and may be
# sent again as it is. A cancelled transaction counts only when every item's
# reason is contention (never a failed condition, which is an answer).
_CONTENTION = {"ProvisionedThroughputExceededException", "ThrottlingException", "TransactionConflictException",
               "RequestLimitExceeded", "InternalServerError"}
_CONTENTION_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "None"}
DYNAMODB_ATTEMPTS = 10
_BACKOFF_BASE_SECONDS = 0.02
_BACKOFF_CAP_SECONDS = 1.0


def is_contention(parsed: dict[str, Any]) -> bool:
    code = parsed.get("Error", {}).get("Code")
    if code == "TransactionCanceledException":
        reasons = {r.get("Code", "None") for r in parsed.get("CancellationReasons", [])}
        return bool(reasons) and reasons <= _CONTENTION_REASONS and reasons != {"None"}
    return code in _CONTENTION


def _retry_dynamodb_contention(response=None, attempts: int = 0, caught_exception=None, **_: Any) -> float | None:
    """botocore `needs-retry` hook: under contention, wait with full jitter
    and send the same request again; never turn contention into a business
    answer like "sold out". After the last attempt the caller gets 503."""
    if caught_exception is not None:  # connection trouble: a few quick tries
        return random.uniform(0, _BACKOFF_BASE_SECONDS * 2 ** attempts) if attempts < 3 else None
    if response is None or not is_contention(response[1]):
        return None
    if attempts >= DYNAMODB_ATTEMPTS:
        raise ServiceBusy("Too many people are buying at this moment. Try again in a few seconds.")
    return random.uniform(0, min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2 ** attempts))


@lru_cache(maxsize=1)
def own_session() -> boto3.Session:
    return boto3.Session(region_name=get_settings().region)


def client(service: str, session: boto3.Session | None = None):
    """A client on `session`, or on the function's own identity. The latter is
    made once per service and process (boto3 clients are thread-safe): making
    one costs ~10-20 ms of CPU, which callers that ask per request or per
    poll (the catalogue's status files, the SQS consumers) paid every time."""
    if session is not None:
        return _new_client(service, session)
    # Keyed by endpoint and key id as well: a test that starts a stack of its own gets fresh ones.
    cache_key = (service, os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_ACCESS_KEY_ID"))
    with _own_clients_lock:
        if cache_key not in _own_clients:
            _own_clients[cache_key] = _new_client(service, own_session())
        return _own_clients[cache_key]


_own_clients: dict[tuple[str, str | None, str | None], Any] = {}
_own_clients_lock = threading.Lock()


def forget_clients() -> None:
    """For a process that changes identity or endpoint (the local stack's start)."""
    with _own_clients_lock:
        _own_clients.clear()
    own_session.cache_clear()


def _new_client(service: str, session: boto3.Session):
    if service == "dynamodb":
        dynamodb = session.client(service, config=DYNAMODB_CONFIG)
        dynamodb.meta.events.register_first("needs-retry.dynamodb", _retry_dynamodb_contention)
        return dynamodb
    return session.client(service, config=CLIENT_CONFIG)


def table(name: str, session: boto3.Session | None = None):
    return (session or own_session()).resource("dynamodb", config=CLIENT_CONFIG).Table(name)
