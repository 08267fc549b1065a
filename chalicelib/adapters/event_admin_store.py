"""The lead's changes to a venue's events and performances, and the reads
behind the sales overview and the orders list: on the venue's own store
(its table, its role). Each change is one conditional write, so a sale
between the service's read and this write cannot be overrun: the service
decides (domain/event_admin.py), the condition only refuses a stale decision.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import is_condition_failure, key, marshal, query_all, unmarshal, values, without_keys
from chalicelib.adapters.venue_store import HELD_INDEX_KEY, VenueStore
from chalicelib.domain.model import Hold, Performance
from chalicelib.errors import MalformedRequest


def unpublish(store: VenueStore, event_id: str) -> None:
    store.db.update_item(TableName=store.table, Key=key(f"EVENT#{event_id}", "EVENT"), UpdateExpression="SET published = :f",
                         ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues=values(f=False))


def cancel_event(store: VenueStore, event_id: str, now: datetime) -> None:
    store.db.update_item(TableName=store.table, Key=key(f"EVENT#{event_id}", "EVENT"),
                         UpdateExpression="SET cancelled_at = if_not_exists(cancelled_at, :now)",
                         ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues=values(now=now.isoformat()))


def cancel_performance(store: VenueStore, event_id: str, performance_id: str, now: datetime) -> None:
    store.db.update_item(TableName=store.table, Key=key(f"EVENT#{event_id}", f"PERF#{performance_id}"),
                         UpdateExpression="SET cancelled_at = if_not_exists(cancelled_at, :now)",
                         ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues=values(now=now.isoformat()))


def change_performance(store: VenueStore, before: Performance, *, starts_at: datetime, hall: str | None,
                       capacity: int, box_office_quota: int) -> bool:
    """Start, hall, capacity and the counter's quota; `available` moves with
    the capacity. False (nothing written) if a sale changed the performance
    since `before` was read."""
    delta = capacity - before.capacity
    names = {"#h": "hall", "#c": "capacity"}  # capacity is a reserved word
    expression = "SET starts_at = :s, #c = :c, available = available + :d, box_office_quota = :q"
    vals: dict[str, Any] = {"s": starts_at.isoformat(), "c": capacity, "d": delta, "old": before.capacity,
                            "need": max(0, -delta), "q": box_office_quota}
    if hall:
        expression += ", #h = :h"
        vals["h"] = hall
    else:
        expression += " REMOVE #h"
    try:
        store.db.update_item(TableName=store.table, Key=key(f"EVENT#{before.event_id}", f"PERF#{before.performance_id}"),
                             UpdateExpression=expression, ExpressionAttributeNames=names,
                             # the places sold and held since `before` must still fit
                             ConditionExpression="#c = :old AND available >= :need",
                             ExpressionAttributeValues=values(**vals))
        return True
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise


def _untouched(store: VenueStore, performance: Performance) -> dict[str, Any]:
    return {"Delete": {"TableName": store.table, "Key": key(f"EVENT#{performance.event_id}", f"PERF#{performance.performance_id}"),
                       "ConditionExpression": "available = :cap AND #c = :cap",
                       "ExpressionAttributeNames": {"#c": "capacity"},
                       "ExpressionAttributeValues": values(cap=performance.capacity)}}


def delete_performance(store: VenueStore, performance: Performance) -> bool:
    """False if a place was taken meanwhile (nothing deleted)."""
    return store._transact_if_unchanged([_untouched(store, performance)])


def delete_draft(store: VenueStore, event_id: str, performances: list[Performance]) -> bool:
    """The event and its performances in one transaction, only while it is
    still a draft and no place of it is taken; False otherwise."""
    items = [{"Delete": {"TableName": store.table, "Key": key(f"EVENT#{event_id}", "EVENT"),
                         "ConditionExpression": "published = :f AND attribute_not_exists(first_published_at)",
                         "ExpressionAttributeValues": values(f=False)}}]
    items += [_untouched(store, p) for p in performances]
    return store._transact_if_unchanged(items)


def holds(store: VenueStore) -> list[dict[str, Any]]:
    """Every hold of the venue (held, being paid, sold, released): what the
    sales overview sums. A scan of the venue's own table, reading only the
    hold items' few attributes; see docs/staff.md for when it will need counters."""
    kwargs: dict[str, Any] = {
        "TableName": store.table, "FilterExpression": "begins_with(pk, :h)",
        "ProjectionExpression": "event_id, performance_id, order_id, #s, #l, channel",
        "ExpressionAttributeNames": {"#s": "status", "#l": "lines"}, "ExpressionAttributeValues": values(h="HOLD#")}
    found: list[dict[str, Any]] = []
    while True:
        page = store.db.scan(**kwargs)
        found.extend(unmarshal(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def held_holds(store: VenueStore, event_id: str) -> list[Hold]:
    """The event's holds still in a basket (not yet being paid), from the expiry index."""
    items = query_all(store.db, TableName=store.table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
                      FilterExpression="event_id = :e", ExpressionAttributeValues=values(p=HELD_INDEX_KEY, e=event_id))
    return [Hold.model_validate(item) for item in items]


# -- orders, newest first, a page at a time ------------------------------------------
ORDER_INDEX_KEYS = ("pk", "sk", "gsi1pk", "gsi1sk")


def encode_cursor(item: dict[str, Any]) -> str:
    position = {name: item[name] for name in ORDER_INDEX_KEYS}
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as error:
        raise MalformedRequest("This page cursor is not one Loket gave; start from the first page.") from error
    if (not isinstance(position, dict) or set(position) != set(ORDER_INDEX_KEYS)
            or not all(isinstance(v, str) for v in position.values()) or position["gsi1pk"] != "ORDERS"
            or not position["pk"].startswith("ORDER#")):
        raise MalformedRequest("This page cursor is not one Loket gave; start from the first page.")
    return position


def orders(store: VenueStore, *, after: dict[str, Any] | None = None, batch: int = 100):
    """Yield (order item with its buyer, position) newest first from `after`;
    the position of an order is where the next page starts."""
    kwargs: dict[str, Any] = {"TableName": store.table, "IndexName": "gsi1", "KeyConditionExpression": "gsi1pk = :p",
                              "ExpressionAttributeValues": values(p="ORDERS"), "ScanIndexForward": False,
                              "Limit": batch}
    if after:
        kwargs["ExclusiveStartKey"] = marshal(after)
    while True:
        page = store.db.query(**kwargs)
        for raw in page.get("Items", []):
            item = unmarshal(raw)
            yield without_keys(item), {name: item[name] for name in ORDER_INDEX_KEYS}
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
