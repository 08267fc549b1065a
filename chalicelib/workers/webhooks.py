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
from chalicelib.adapters import venue_health
from chalicelib.observability import logger
from chalicelib.services import webhooks as service
from chalicelib.settings import get_settings


def venue_of_queue(queue_arn: str) -> str:
    return venue_health.venue_of_queue(queue_arn, get_settings().stage, "webhooks")


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
