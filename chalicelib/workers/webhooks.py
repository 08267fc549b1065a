"""The consumer of every venue's webhook queue (one event source mapping per
venue, each with its own maximum concurrency: the bulkhead; locally one
thread per venue in local/runner.py). Each record is handled on the
record's own venue credentials; one that fails stays in the queue (and ends
in the venue's webhook DLQ after maxReceiveCount)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from chalicelib import bootstrap
from chalicelib.observability import logger
from chalicelib.services import webhooks as service
from chalicelib.settings import get_settings


def venue_of_queue(queue_arn: str) -> str:
    name = queue_arn.rsplit(":", 1)[-1]
    prefix, suffix = f"loket-{get_settings().stage}-venue-", "-webhooks"
    if not (name.startswith(prefix) and name.endswith(suffix)):
        raise ValueError(f"not a webhook queue: {name}")
    return name[len(prefix):-len(suffix)]


def handle(event: dict[str, Any], context: Any = None, now: datetime | None = None) -> dict[str, Any]:
    failed: list[str] = []
    for record in event.get("Records", []):
        try:
            store = bootstrap.worker_store(venue_of_queue(record["eventSourceARN"]))
            service.handle_message(store, json.loads(record["body"]), now)
        except Exception:  # noqa: BLE001 - this record is retried by SQS; the others go on
            logger.exception("webhook message failed", extra={"message_id": record.get("messageId")})
            failed.append(record["messageId"])
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
