"""The box office's items in the venue's own table, on the venue's own role.

Items (docs/staff.md, "Box office"):
  COUNTER#{order} / SALE      a counter sale: clerk, shift, payment method, amounts, the request's
                              fingerprint (a retried submit finds it and gets the same answer)
  TILL#{clerk} / OPEN         the clerk's open shift (one at a time: a conditional put)
  SHIFT#{shift} / SHIFT       a shift's drawer: float, opened/closed, counted; gsi1 SHIFTS#{day}
  MOVES#{day} / {kind}#{order}  one sale or refund of a shift, signed amount per payment method:
                              written once (conditional), so a retry never counts twice
  SETTINGS#BOXOFFICE / REFUND the venue's refund policy
  CANCEL-REQUEST#{hash} / REQUEST  a cancel asked by a lead or an API key with an Idempotency-Key
  REFUNDS#PENDING / ORDER#{order}  a cancelled order whose Stripe refund is not done yet, with
                              what to ask Stripe (same keys); gone once it is refunded
Cancelling an order (paid -> cancelled, its places back on sale, its refund
move, the request) is one transaction; any paid order, not only the counter's
(services/order_cancellation.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import is_condition_failure, key, marshal, query_all, values, without_keys, written_if
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain.model import Hold, Order, OrderStatus, Ticket

SHIFTS_INDEX = "SHIFTS#"
# Cancelled orders whose Stripe refund is not done yet: the every-minute job retries them.
PENDING_REFUNDS = "REFUNDS#PENDING"


class BoxOfficeStore:
    def __init__(self, store: VenueStore) -> None:
        self.store = store
        self.db = store.db
        self.table = store.table

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self.store._get(pk, sk)
        return without_keys(item) if item else None

    # -- sales --------------------------------------------------------------------
    def get_sale(self, order_id: str) -> dict[str, Any] | None:
        return self._get(f"COUNTER#{order_id}", "SALE")

    def record_sale(self, sale: dict[str, Any], move: dict[str, Any] | None) -> None:
        """The sale and (when paid) its move in the drawer, each once."""
        items = [{"Put": {"TableName": self.table,
                          "Item": marshal({"pk": f"COUNTER#{sale['order_id']}", "sk": "SALE", **sale}),
                          "ConditionExpression": "attribute_not_exists(pk)"}}]
        if move:
            items.append(self._move_put(move))
        try:
            self.db.transact_write_items(TransactItems=items)
        except ClientError as error:
            if not is_condition_failure(error):
                raise

    def record_move(self, move: dict[str, Any]) -> None:
        """A move of a sale recorded earlier (a payment link, once paid), once."""
        put = self._move_put(move)["Put"]
        try:
            self.db.put_item(**put)
        except ClientError as error:
            if not is_condition_failure(error):
                raise

    def _move_put(self, move: dict[str, Any]) -> dict[str, Any]:
        return {"Put": {"TableName": self.table,
                        "Item": marshal({"pk": f"MOVES#{move['day']}", "sk": f"{move['kind']}#{move['order_id']}", **move}),
                        "ConditionExpression": "attribute_not_exists(pk)"}}

    def moves_of_day(self, day: str) -> list[dict[str, Any]]:
        items = query_all(self.db, TableName=self.table, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues=values(p=f"MOVES#{day}"), ConsistentRead=True)
        return [without_keys(i) for i in items]

    def claim_mail(self, order_id: str, request_hash: str, at: datetime) -> bool:
        """True the first time a counter mail request (its Idempotency-Key) is seen for this order."""
        try:
            self.db.put_item(TableName=self.table, Item=marshal({"pk": f"COUNTER#{order_id}", "sk": f"MAIL#{request_hash}",
                                                                 "at": at.isoformat()}),
                             ConditionExpression="attribute_not_exists(pk)")
            return True
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise

    # -- shifts ---------------------------------------------------------------------
    def open_shift_of(self, clerk: str) -> dict[str, Any] | None:
        pointer = self._get(f"TILL#{clerk}", "OPEN")
        return self.get_shift(pointer["shift_id"]) if pointer else None

    def get_shift(self, shift_id: str) -> dict[str, Any] | None:
        return self._get(f"SHIFT#{shift_id}", "SHIFT")

    def open_shift(self, shift: dict[str, Any]) -> bool:
        """False if the clerk already has an open shift (nothing written)."""
        items = [
            {"Put": {"TableName": self.table, "Item": marshal({"pk": f"TILL#{shift['clerk']}", "sk": "OPEN",
                                                               "shift_id": shift["shift_id"]}),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": self.table,
                     "Item": marshal({"pk": f"SHIFT#{shift['shift_id']}", "sk": "SHIFT",
                                      "gsi1pk": f"{SHIFTS_INDEX}{shift['day']}", "gsi1sk": shift["opened_at"], **shift}),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
        return self.store._transact_if_unchanged(items)

    def close_shift(self, shift: dict[str, Any], counted: int, closed_at: datetime) -> bool:
        """False if this shift was closed meanwhile."""
        items = [
            {"Delete": {"TableName": self.table, "Key": key(f"TILL#{shift['clerk']}", "OPEN"),
                        "ConditionExpression": "shift_id = :s", "ExpressionAttributeValues": values(s=shift["shift_id"])}},
            {"Update": {"TableName": self.table, "Key": key(f"SHIFT#{shift['shift_id']}", "SHIFT"),
                        "UpdateExpression": "SET counted = :c, closed_at = :at",
                        "ConditionExpression": "attribute_not_exists(closed_at)",
                        "ExpressionAttributeValues": values(c=counted, at=closed_at.isoformat())}},
        ]
        return self.store._transact_if_unchanged(items)

    def shifts_of_day(self, day: str) -> list[dict[str, Any]]:
        items = query_all(self.db, TableName=self.table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
                          ExpressionAttributeValues=values(p=f"{SHIFTS_INDEX}{day}"))
        return [without_keys(i) for i in items]

    # -- refund policy ----------------------------------------------------------------
    def get_refund_policy(self) -> dict[str, Any] | None:
        return self._get("SETTINGS#BOXOFFICE", "REFUND")

    def put_refund_policy(self, policy: dict[str, Any]) -> None:
        self.db.put_item(TableName=self.table, Item=marshal({"pk": "SETTINGS#BOXOFFICE", "sk": "REFUND", **policy}))

    # -- cancelling ---------------------------------------------------------------------
    # Used by services/order_cancellation.py for the counter, the lead and an API key alike.
    def cancel_order(self, order: Order, holds: list[Hold], tickets: list[Ticket], refund: dict[str, Any] | None,
                     cancelled_by: str, at: datetime, *, refund_status: str = "refunded",
                     request: dict[str, Any] | None = None, pending_refund: dict[str, Any] | None = None) -> bool:
        """paid -> cancelled, every place back on sale, its tickets off the door
        lists (not sold any more), the counter's refund move (if any), the
        request that asked for it (if any), and whether its money is back yet
        ("pending" until Stripe refunded it, with `pending_refund`, what to ask
        Stripe, kept where the scheduled retry finds it): at once. False
        (nothing written) if the order was no longer paid or the request was
        already recorded."""
        items: list[dict[str, Any]] = [{"Update": {
            "TableName": self.table, "Key": key(f"ORDER#{order.order_id}", "ORDER"),
            "UpdateExpression": "SET #s = :cancelled, cancelled_at = :at, cancelled_by = :by, refund_status = :r",
            "ConditionExpression": "#s = :paid", "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": values(cancelled=OrderStatus.CANCELLED.value, paid=OrderStatus.PAID.value,
                                                at=at.isoformat(), by=cancelled_by, r=refund_status)}}]
        items += self.store.places_back(order, holds)
        items += [{"Delete": {"TableName": self.table, "Key": key(f"DOOR#{t.performance_id}", f"TICKET#{t.ticket_id}"),
                              # an admission at a door at this very moment wins; the cancel is refused
                              "ConditionExpression": "attribute_not_exists(admitted_at)"}}
                  for t in tickets]
        if refund:
            items.append(self._move_put(refund))
        if request:
            items.append({"Put": {"TableName": self.table,
                                  "Item": marshal({"pk": f"CANCEL-REQUEST#{request['key_hash']}", "sk": "REQUEST",
                                                   **request}),
                                  "ConditionExpression": "attribute_not_exists(pk)"}})
        if pending_refund:
            items.append({"Put": {"TableName": self.table, "Item": marshal({
                "pk": PENDING_REFUNDS, "sk": f"ORDER#{order.order_id}", "order_id": order.order_id,
                "cancelled_at": at.isoformat(), "stripe": pending_refund})}})
        return self.store._transact_if_unchanged(items)

    def pending_refunds(self) -> list[dict[str, Any]]:
        """Cancelled orders whose money Stripe has not given back yet (few: one partition is enough)."""
        return query_all(self.db, TableName=self.table, KeyConditionExpression="pk = :p",
                         ExpressionAttributeValues=values(p=PENDING_REFUNDS), ConsistentRead=True)

    def forget_pending_refund(self, order_id: str) -> None:
        self.db.delete_item(TableName=self.table, Key=key(PENDING_REFUNDS, f"ORDER#{order_id}"))

    def mark_pending_refund_stale(self, order_id: str) -> bool:
        """True once: the retry has given up on it (an operator finishes it)."""
        return written_if(self.db.update_item, TableName=self.table, Key=key(PENDING_REFUNDS, f"ORDER#{order_id}"),
                          UpdateExpression="SET stale = :yes",
                          ConditionExpression="attribute_exists(pk) AND attribute_not_exists(stale)",
                          ExpressionAttributeValues=values(yes=True))

    def get_cancel_request(self, key_hash: str) -> dict[str, Any] | None:
        """A cancel asked with an Idempotency-Key (its hash): the order and the request's fingerprint."""
        return self._get(f"CANCEL-REQUEST#{key_hash}", "REQUEST")

    def mark_refunded(self, order_id: str, refund: dict[str, Any]) -> bool:
        """pending -> refunded with Stripe's ids; False if an earlier call already recorded it."""
        try:
            self.db.update_item(TableName=self.table, Key=key(f"ORDER#{order_id}", "ORDER"),
                                UpdateExpression="SET refund_status = :done, refund = :refund",
                                ConditionExpression="#s = :cancelled AND (attribute_not_exists(refund_status) "
                                                    "OR refund_status <> :done)",
                                ExpressionAttributeNames={"#s": "status"},
                                ExpressionAttributeValues=values(done="refunded", refund=refund,
                                                                 cancelled=OrderStatus.CANCELLED.value))
            return True
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
