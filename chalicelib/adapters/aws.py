"""boto3 clients and resources for the function's own identity.

Endpoints come from the standard AWS_ENDPOINT_URL variable, so the same code
talks to AWS or to the local moto server.
"""

from __future__ import annotations

import random
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
    if service == "dynamodb":
        dynamodb = (session or own_session()).client(service, config=DYNAMODB_CONFIG)
        dynamodb.meta.events.register_first("needs-retry.dynamodb", _retry_dynamodb_contention)
        return dynamodb
    return (session or own_session()).client(service, config=CLIENT_CONFIG)


def table(name: str, session: boto3.Session | None = None):
    return (session or own_session()).resource("dynamodb", config=CLIENT_CONFIG).Table(name)
