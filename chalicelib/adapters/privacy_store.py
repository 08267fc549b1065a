"""What a venue holds about one person, read and changed on the venue's own
role (services/privacy.py, docs/privacy.md). Wraps a `VenueStore` (its table,
client and session), as `order_delivery_store.py` does.

Items (venue table):
  SETTINGS / RETENTION               the venue's retention choice (months), within the network's bounds
  CUSTOMER#{id} / CONSENT#marketing  marketing consent: given or withdrawn, when, which text version
  CUSTOMER#{id} / ERASED             an erasure: when, by whom (ids only); also marks a finished erasure
Personal data of one person lives in: the CUSTOMER record (name, e-mail), the
buyer of each of its orders (`ORDER#{order}/ORDER` `buyer`) and nothing else:
tickets, door lines, deliveries and mail events carry ids, codes and states.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamo import key, marshal, query_all, values, without_keys
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain import tickets as ticket_codes

MARKETING = "marketing"


class PrivacyStore:
    def __init__(self, store: VenueStore) -> None:
        self.store = store
        self.venue = store.venue
        self.db, self.table = store.db, store.table

    # -- finding a person --------------------------------------------------------------
    def customer_id_of(self, email: str) -> str:
        """The id this venue gives the address (a keyed hash under the venue's own secret)."""
        return ticket_codes.customer_id(email, self.store.secret())

    def _partition(self, pk: str) -> list[dict[str, Any]]:
        """Every item under `pk`, each with its sort key (what kind of item it is)."""
        return [without_keys(i) | {"sk": i["sk"]} for i in query_all(
            self.db, TableName=self.table, KeyConditionExpression="pk = :p", ExpressionAttributeValues=values(p=pk),
            ConsistentRead=True)]

    def customer_items(self, customer_id: str) -> list[dict[str, Any]]:
        """Everything under the customer's partition: record, link counters, consents, erasure."""
        return self._partition(f"CUSTOMER#{customer_id}")

    def orders_of(self, customer_id: str) -> list[dict[str, Any]]:
        """Every order (paid, pending, expired, cancelled) the customer placed here."""
        return [without_keys(i) for i in query_all(
            self.db, TableName=self.table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
            FilterExpression="customer_id = :c", ExpressionAttributeValues=values(p="ORDERS", c=customer_id))]

    def order_items(self, order_id: str) -> list[dict[str, Any]]:
        """The order's own partition: the order, its delivery (documents, mail state), a re-send claim."""
        return self._partition(f"ORDER#{order_id}")

    def mail_events_of(self, message_id: str) -> list[dict[str, Any]]:
        return [without_keys(i) for i in query_all(
            self.db, TableName=self.table, KeyConditionExpression="pk = :p",
            ExpressionAttributeValues=values(p=f"MAILEVENT#{message_id}"))]

    def audit_entries_about(self, customer_id: str, order_ids: set[str]) -> list[dict[str, Any]]:
        """Audit entries whose subject names this customer or one of its orders, oldest first."""
        found = []
        for entry in query_all(self.db, TableName=self.table, KeyConditionExpression="pk = :p",
                               ExpressionAttributeValues=values(p="AUDIT"), ConsistentRead=True):
            subject = entry.get("subject") or {}
            ids = {subject.get("order_id"), *(subject.get("order_ids") or ()), *(subject.get("customer_ids") or ())}
            if customer_id in ids or ids & order_ids:
                found.append(without_keys(entry))
        return found

    def all_customers(self) -> list[dict[str, Any]]:
        """Every customer record (ids, dates, erased or not): what retention reads."""
        # Erased records leave the CUSTOMERS index; the ERASED marker keeps them out of retention.
        return [without_keys(i) for i in query_all(
            self.db, TableName=self.table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues=values(p="CUSTOMERS"))]

    # -- consent ----------------------------------------------------------------------------
    def put_consent(self, customer_id: str, *, given: bool, text_version: str, at: datetime, source: str) -> None:
        self.db.put_item(TableName=self.table, Item=marshal({
            "pk": f"CUSTOMER#{customer_id}", "sk": f"CONSENT#{MARKETING}", "purpose": MARKETING, "given": given,
            "text_version": text_version, "at": at.isoformat(), "source": source}))

    def get_consent(self, customer_id: str) -> dict[str, Any] | None:
        item = self.store._get(f"CUSTOMER#{customer_id}", f"CONSENT#{MARKETING}")
        return without_keys(item) if item else None

    # -- erasure (each step idempotent: a retry after a crash repeats it harmlessly) ------------
    def anonymise_order(self, order_id: str, buyer: dict[str, Any], at: datetime) -> None:
        self.db.update_item(TableName=self.table, Key=key(f"ORDER#{order_id}", "ORDER"),
                            UpdateExpression="SET buyer = :b, erased_at = if_not_exists(erased_at, :at)",
                            ConditionExpression="attribute_exists(pk)",
                            ExpressionAttributeValues=values(b=buyer, at=at.isoformat()))

    def forget_customer_items(self, customer_id: str) -> None:
        """Link counters and consents: they exist only because of the person."""
        for item in self.customer_items(customer_id):
            if item["sk"].startswith(("MYTICKETS#", "CONSENT#")):
                self.db.delete_item(TableName=self.table, Key=key(f"CUSTOMER#{customer_id}", item["sk"]))

    def anonymise_customer(self, customer_id: str, marker: dict[str, Any]) -> None:
        """The customer record keeps ids, counts and dates (accounting, statistics) but
        no name or address, leaves the customer index, and the ERASED marker is written,
        in one transaction: the marker says the erasure is finished."""
        items: list[dict[str, Any]] = [{"Put": {"TableName": self.table, "Item": marshal(
            {"pk": f"CUSTOMER#{customer_id}", "sk": "ERASED", **marker})}}]
        if self.store.get_customer(customer_id) is not None:
            items.insert(0, {"Update": {
                "TableName": self.table, "Key": key(f"CUSTOMER#{customer_id}", "CUSTOMER"),
                "UpdateExpression": "SET erased_at = if_not_exists(erased_at, :at) REMOVE email, #n, gsi1pk, gsi1sk",
                "ExpressionAttributeNames": {"#n": "name"}, "ExpressionAttributeValues": values(at=marker["at"])}})
        self.db.transact_write_items(TransactItems=items)

    def erasure_of(self, customer_id: str) -> dict[str, Any] | None:
        item = self.store._get(f"CUSTOMER#{customer_id}", "ERASED")
        return without_keys(item) if item else None

    def drop_audit_entries_before(self, cutoff: str) -> int:
        """Audit entries older than the network's keeping time (sort keys start with their ISO time)."""
        old = query_all(self.db, TableName=self.table, KeyConditionExpression="pk = :p AND sk < :c",
                        ExpressionAttributeValues=values(p="AUDIT", c=cutoff), ProjectionExpression="pk, sk")
        for item in old:
            self.db.delete_item(TableName=self.table, Key=key("AUDIT", item["sk"]))
        return len(old)

    # -- retention policy ----------------------------------------------------------------------
    def get_retention(self) -> dict[str, Any] | None:
        item = self.store._get("SETTINGS", "RETENTION")
        return without_keys(item) if item else None

    def put_retention(self, months: int, updated_by: str, updated_at: str) -> None:
        self.db.put_item(TableName=self.table, Item=marshal({
            "pk": "SETTINGS", "sk": "RETENTION", "months": months, "updated_by": updated_by,
            "updated_at": updated_at}))

    def get_retention_report(self) -> dict[str, Any] | None:
        item = self.store._get("SETTINGS", "RETENTION_REPORT")
        return without_keys(item) if item else None

    def put_retention_report(self, report: dict[str, Any]) -> None:
        """The scheduled run's report: when, the cutoff, ids announced (with the day first due), ids anonymised."""
        self.db.put_item(TableName=self.table, Item=marshal({"pk": "SETTINGS", "sk": "RETENTION_REPORT", **report}))

    # -- integration event ------------------------------------------------------------------------
    def queue_webhook(self, stage: str, event_type: str, event_id: str, data: dict[str, Any], at: datetime) -> None:
        """A Standard Webhooks event on the venue's own webhook queue (its deliverer signs
        and sends it). The id is derived from what happened, so a retried erasure queues
        the same id and the receiver's idempotency drops the second."""
        from chalicelib.adapters.venue_health import QUEUE_KINDS

        sqs = self.store.session.client("sqs")
        url = sqs.get_queue_url(QueueName=QUEUE_KINDS["webhooks"].format(stage=stage, venue=self.venue))["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({
            "id": event_id, "type": event_type, "timestamp": at.isoformat(), "data": data}))


def erasure_event_id(venue: str, customer_id: str) -> str:
    return "msg_" + uuid.uuid5(uuid.NAMESPACE_URL, f"loket:{venue}:customer.anonymized:{customer_id}").hex
