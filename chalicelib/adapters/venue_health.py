"""A venue's own operational state, read and written on the venue's own role
(docs/operations.md "A venue's health"): the depth of its queues, the
requests that failed for it (ids and error kinds only), the support requests
its lead sent. No personal data is written here or read back.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamo import marshal, unmarshal, values

ERROR_DAYS = 14  # how long a failed request is kept for the venue's lead to quote
QUEUE_KINDS = {"webhooks": "loket-{stage}-venue-{venue}-webhooks",
               "webhooks_dead_letters": "loket-{stage}-venue-{venue}-webhooks-dlq",
               "onsale": "loket-{stage}-venue-{venue}-onsale.fifo",
               "onsale_dead_letters": "loket-{stage}-venue-{venue}-onsale-dlq.fifo"}


def venue_of_queue(queue_arn: str, stage: str, kind: str) -> str:
    """The venue whose queue of `kind` (a key of QUEUE_KINDS) an event source ARN names."""
    name = queue_arn.rsplit(":", 1)[-1]
    prefix, suffix = QUEUE_KINDS[kind].format(stage=stage, venue="\0").split("\0")
    if not (name.startswith(prefix) and name.endswith(suffix) and len(name) > len(prefix) + len(suffix)):
        raise ValueError(f"not a venue's {kind} queue: {name}")
    return name[len(prefix):-len(suffix)]


def queue_depths(session: Any, stage: str, venue: str) -> dict[str, dict[str, int]]:
    """Waiting and in-flight messages of each of the venue's own queues."""
    sqs = session.client("sqs")
    depths = {}
    for kind, pattern in QUEUE_KINDS.items():
        url = sqs.get_queue_url(QueueName=pattern.format(stage=stage, venue=venue))["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        depths[kind] = {"waiting": int(attributes["ApproximateNumberOfMessages"]),
                        "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"])}
    return depths


def record_error(db: Any, table: str, *, request_id: str, route: str, kind: str, at: datetime) -> None:
    """One failed request of this venue: its id, route template and error class."""
    db.put_item(TableName=table, Item=marshal({
        "pk": "HEALTH#ERRORS", "sk": f"{at.isoformat()}#{request_id}", "request_id": request_id, "route": route,
        "kind": kind, "at": at.isoformat(), "ttl": int(time.time()) + ERROR_DAYS * 86400}))


def recent_errors(db: Any, table: str, *, since: datetime, limit: int = 20) -> list[dict[str, Any]]:
    answer = db.query(TableName=table, KeyConditionExpression="pk = :pk AND sk >= :since",
                      ExpressionAttributeValues=values(pk="HEALTH#ERRORS", since=since.isoformat()),
                      ScanIndexForward=False, Limit=limit)
    return [{k: item[k] for k in ("at", "request_id", "route", "kind")}
            for item in (unmarshal(i) for i in answer.get("Items", []))]


def record_support_request(db: Any, table: str, request: dict[str, Any]) -> None:
    db.put_item(TableName=table, Item=marshal({"pk": "HEALTH#SUPPORT", "sk": request["support_id"], **request}),
                ConditionExpression="attribute_not_exists(pk)")


def support_requests(db: Any, table: str, limit: int = 20) -> list[dict[str, Any]]:
    answer = db.query(TableName=table, KeyConditionExpression="pk = :pk",
                      ExpressionAttributeValues=values(pk="HEALTH#SUPPORT"), ScanIndexForward=False, Limit=limit)
    return [{k: v for k, v in unmarshal(i).items() if k not in ("pk", "sk")} for i in answer.get("Items", [])]


def send_to_supplier(sns: Any, topic_arn: str, subject: str, message: dict[str, Any]) -> str:
    """The support request to the supplier's topic (infra/platform.yaml
    SupportTopic), with the API's own role; returns SNS's message id."""
    import json

    return sns.publish(TopicArn=topic_arn, Subject=subject[:100],
                       Message=json.dumps(message, indent=2, sort_keys=True, default=str))["MessageId"]
