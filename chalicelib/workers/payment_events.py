"""SQS consumer: settle the basket a Stripe event is about.

Each record is processed once per Stripe event id (Powertools idempotency on
the network table); a record that fails is reported back to SQS alone
(partial batch response), retried with backoff, and lands in the DLQ after 5
tries. Settling is itself idempotent, so even a second run changes nothing.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib import bootstrap
from chalicelib.adapters import aws
from chalicelib.observability import logger
from chalicelib.services import sales
from chalicelib.settings import get_settings


@lru_cache(maxsize=1)
def _settle_once():
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(
        table_name=get_settings().network_table, key_attr="pk", sort_key_attr="sk",
        static_pk_value="idempotency#stripe-events", expiry_attr="ttl", boto3_client=aws.client("dynamodb"))
    config = IdempotencyConfig(event_key_jmespath="event_id", expires_after_seconds=7 * 24 * 3600)

    @idempotent_function(data_keyword_argument="message", config=config, persistence_store=persistence)
    def settle(message: dict[str, Any]) -> dict[str, str]:
        outcome = sales.settle_basket(bootstrap.network(), bootstrap.worker_store, message["basket_id"])
        return {"basket_id": message["basket_id"], "outcome": outcome}

    return settle, config


def _record(record: SQSRecord) -> None:
    message = json.loads(record.body)
    settle, _ = _settle_once()
    result = settle(message=message)
    logger.info("payment event settled", extra={"stripe_event_id": message["event_id"], **result})


def handle(event: dict[str, Any], context: Any = None) -> PartialItemFailureResponse:
    if context is not None:
        _settle_once()[1].register_lambda_context(context)
    return process_partial_response(event=event, record_handler=_record, processor=BatchProcessor(EventType.SQS),
                                    context=context)
