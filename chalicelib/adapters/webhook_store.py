"""A venue's webhooks in the venue's own table and queues, on the venue's own
role: endpoints (with their signing secrets: never at network level), the
events sent (kept 30 days for replay), one log item per delivery, and the
webhook queue and its dead-letter queue.

Items: WEBHOOK#ENDPOINT/{endpoint_id}, WEBHOOK#EVENT/{timestamp}#{event_id},
WEBHOOK#DELIVERY/{delivery_id}, WEBHOOK#DONE/{delivery_id}#{run},
WEBHOOK#OUTBOX/{event_id} (an event the queue refused, sent again by the sweep).
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import is_condition_failure, key, marshal, query_all, values, without_keys
from chalicelib.adapters.venue_health import QUEUE_KINDS

EVENT_DAYS = 30
DELIVERY_DAYS = 30
SQS_MAX_DELAY_SECONDS = 900


class WebhookStore:
    def __init__(self, store: Any, stage: str) -> None:
        self.venue, self.db, self.table = store.venue, store.db, store.table
        self.store = store  # the venue's own store: its profile and its mail identity (an endpoint disabled)
        from chalicelib.adapters import aws

        self.sqs = aws.client("sqs", store.session)
        self.stage = stage
        self._urls: dict[str, str] = {}

    # -- endpoints -------------------------------------------------------------------------
    def put_endpoint(self, endpoint: dict[str, Any]) -> None:
        self.db.put_item(TableName=self.table, Item=marshal({"pk": "WEBHOOK#ENDPOINT", "sk": endpoint["endpoint_id"],
                                                            **endpoint}))

    def get_endpoint(self, endpoint_id: str) -> dict[str, Any] | None:
        return self._get("WEBHOOK#ENDPOINT", endpoint_id)

    def endpoints(self) -> list[dict[str, Any]]:
        items = query_all(self.db, TableName=self.table, KeyConditionExpression="pk = :pk",
                          ExpressionAttributeValues=values(pk="WEBHOOK#ENDPOINT"))
        return sorted((without_keys(i) for i in items), key=lambda e: e["created_at"])

    def update_endpoint(self, endpoint_id: str, **changes: Any) -> bool:
        """False when the endpoint is gone."""
        names = {f"#f{i}": name for i, name in enumerate(changes)}
        try:
            self.db.update_item(
                TableName=self.table, Key=key("WEBHOOK#ENDPOINT", endpoint_id),
                UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(changes))),
                ConditionExpression="attribute_exists(pk)", ExpressionAttributeNames=names,
                ExpressionAttributeValues=values(**{f"v{i}": v for i, v in enumerate(changes.values())}))
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def disable_endpoint(self, endpoint_id: str, reason: str, at: str) -> bool:
        """enabled -> disabled; False if it was disabled (or deleted) already: one disable, one notice."""
        try:
            self.db.update_item(
                TableName=self.table, Key=key("WEBHOOK#ENDPOINT", endpoint_id),
                UpdateExpression="SET enabled = :off, disabled_reason = :reason, disabled_at = :at",
                ConditionExpression="enabled = :on", ExpressionAttributeValues=values(off=False, on=True, reason=reason,
                                                                                      at=at))
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def delete_endpoint(self, endpoint_id: str) -> bool:
        answer = self.db.delete_item(TableName=self.table, Key=key("WEBHOOK#ENDPOINT", endpoint_id),
                                     ReturnValues="ALL_OLD")
        return "Attributes" in answer

    # -- events ------------------------------------------------------------------------------
    def keep_event(self, event: dict[str, Any]) -> None:
        """Idempotent: a redelivered event overwrites itself."""
        self.db.put_item(TableName=self.table, Item=marshal({
            "pk": "WEBHOOK#EVENT", "sk": f"{event['timestamp']}#{event['id']}", "event": json.dumps(event),
            "ttl": int(time.time()) + EVENT_DAYS * 86400}))

    def events_between(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        items = query_all(self.db, TableName=self.table,
                          KeyConditionExpression="pk = :pk AND sk BETWEEN :since AND :until",
                          ExpressionAttributeValues=values(pk="WEBHOOK#EVENT", since=since.isoformat(),
                                                           until=until.isoformat() + "~"))
        return [json.loads(i["event"]) for i in items]

    # -- deliveries --------------------------------------------------------------------------
    def put_delivery(self, delivery: dict[str, Any], history_entry: dict[str, Any]) -> None:
        current = self.get_delivery(delivery["delivery_id"]) or {}
        history = (current.get("history") or [])[-19:] + [history_entry]
        self.db.put_item(TableName=self.table, Item=marshal({
            "pk": "WEBHOOK#DELIVERY", "sk": delivery["delivery_id"], **delivery, "history": history,
            "ttl": int(time.time()) + DELIVERY_DAYS * 86400}))

    def get_delivery(self, delivery_id: str) -> dict[str, Any] | None:
        return self._get("WEBHOOK#DELIVERY", delivery_id)

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self.store._get(pk, sk)  # the venue store's consistent read
        return without_keys(item) if item else None

    def deliveries(self) -> list[dict[str, Any]]:
        items = query_all(self.db, TableName=self.table, KeyConditionExpression="pk = :pk",
                          ExpressionAttributeValues=values(pk="WEBHOOK#DELIVERY"))
        return sorted((without_keys(i) for i in items), key=lambda d: d["updated_at"], reverse=True)

    def mark_done(self, delivery_id: str, run: str) -> None:
        self.db.put_item(TableName=self.table, Item=marshal({
            "pk": "WEBHOOK#DONE", "sk": f"{delivery_id}#{run}", "ttl": int(time.time()) + DELIVERY_DAYS * 86400}))

    def is_done(self, delivery_id: str, run: str) -> bool:
        return "Item" in self.db.get_item(TableName=self.table, Key=key("WEBHOOK#DONE", f"{delivery_id}#{run}"),
                                          ConsistentRead=True)

    def claim_attempt(self, delivery_id: str, run: str, attempt: int, now: datetime, lease_seconds: int) -> bool:
        """Whether this attempt is ours to make: SQS delivers at least once, and a
        duplicate of a retry message must not start a second chain of retries. A
        claim older than the lease (its worker died mid-attempt) may be taken over."""
        try:
            self.db.put_item(
                TableName=self.table, Item=marshal({
                    "pk": "WEBHOOK#ATTEMPT", "sk": f"{delivery_id}#{run}#{attempt}", "claimed_at": int(now.timestamp()),
                    "ttl": int(time.time()) + DELIVERY_DAYS * 86400}),
                ConditionExpression="attribute_not_exists(pk) OR claimed_at < :stale",
                ExpressionAttributeValues=values(stale=int(now.timestamp()) - lease_seconds))
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    # -- outbox: events the queue did not take ---------------------------------------------------
    def put_outbox(self, event: dict[str, Any]) -> None:
        self.db.put_item(TableName=self.table, Item=marshal({"pk": "WEBHOOK#OUTBOX", "sk": event["id"],
                                                            "event": json.dumps(event)}))

    def outbox(self) -> list[dict[str, Any]]:
        items = query_all(self.db, TableName=self.table, KeyConditionExpression="pk = :pk",
                          ExpressionAttributeValues=values(pk="WEBHOOK#OUTBOX"))
        return [json.loads(i["event"]) for i in items]

    def drop_outbox(self, event_id: str) -> None:
        self.db.delete_item(TableName=self.table, Key=key("WEBHOOK#OUTBOX", event_id))

    # -- queues ------------------------------------------------------------------------------------
    def queue_url(self, kind: str = "webhooks") -> str:
        if kind not in self._urls:
            name = QUEUE_KINDS[kind].format(stage=self.stage, venue=self.venue)
            self._urls[kind] = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return self._urls[kind]

    def send(self, message: dict[str, Any], delay_seconds: float = 0) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url(), MessageBody=json.dumps(message),
                              DelaySeconds=max(0, min(SQS_MAX_DELAY_SECONDS, int(delay_seconds))))

    def dead_letter(self, message: dict[str, Any]) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url("webhooks_dead_letters"), MessageBody=json.dumps(message))
