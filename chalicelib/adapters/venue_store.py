"""A venue's own DynamoDB table, reached only with that venue's credentials.

Single-table layout (pk / sk):
  SETTINGS / SETTINGS              venue secret for ticket codes and customer ids
  SETTINGS / PROFILE               the venue's public profile: name, address, colours, logo, ticket texts
  EVENT#{event} / EVENT            event, price types, published flag
  EVENT#{event} / PERF#{perf}      performance with its capacity counter `available`
  EVENT#{event} / BUYER#{perf}#{b} places buyer session b holds for that performance (per-buyer limit)
  HOLD#{hold} / HOLD               reservation; gsi1 HELD/{expires_at} while held, CHECKOUT/{expires_at}
                                   while being paid: every unfinished hold is in an expiry index
  ORDER#{order} / ORDER            order with the buyer's name and e-mail
  TICKET#{ticket} / TICKET         issued ticket; gsi1 ORDER#{order}
  DOOR#{perf} / TICKET#{ticket}    the ticket's line on the door list: its admission (adapters/door_store.py)
  CUSTOMER#{id} / CUSTOMER         the venue's own customer record, with the ids of its paid orders
  IDEMPOTENCY#... / ...            results of retried writes
Capacity is only ever changed by conditional writes in the same transaction
as the hold or order it belongs to, so it cannot be oversold or leaked.
"""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import (
    cancellation_reasons,
    is_condition_failure,
    key,
    marshal,
    query_all,
    unmarshal,
    values,
    without_keys,
)
from chalicelib.domain.model import Event, Hold, HoldStatus, Order, OrderStatus, Performance, Ticket, VenueProfile
from chalicelib.errors import HoldExpired, IdempotencyKeyReused, TooManyPlaces

HELD_INDEX_KEY = "HELD"
CHECKOUT_INDEX_KEY = "CHECKOUT"


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def hold_item(hold: Hold, fingerprint: str) -> dict[str, Any]:
    """A new held reservation, in the expiry index until it is checked out or released."""
    item = {"pk": f"HOLD#{hold.hold_id}", "sk": "HOLD", "fingerprint": fingerprint,
            "gsi1pk": HELD_INDEX_KEY, "gsi1sk": _iso(hold.expires_at)}
    item.update(hold.model_dump(mode="json"))
    return item


def door_entry_item(ticket: Ticket) -> dict[str, Any]:
    """A sold ticket's line on its performance's door list, not yet admitted (adapters/door_store.py)."""
    return {"pk": f"DOOR#{ticket.performance_id}", "sk": f"TICKET#{ticket.ticket_id}", "ticket_id": ticket.ticket_id,
            "order_id": ticket.order_id, "label": ticket.label, "price_type": ticket.price_type}


class VenueStore:
    def __init__(self, venue: str, dynamodb: Any, table: str, session: Any = None) -> None:
        self.venue = venue
        self.db = dynamodb
        self.table = table
        # The venue's own AWS session, for its other resources (the on-sale queue).
        self.session = session
        self._signing_key: bytes | None = None

    # -- settings ---------------------------------------------------------
    def initialise(self) -> None:
        """Create the venue's secret once; later calls keep the existing one."""
        try:
            self.db.put_item(
                TableName=self.table,
                Item=marshal({"pk": "SETTINGS", "sk": "SETTINGS", "secret": secrets.token_hex(32)}),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise

    def secret(self) -> bytes:
        if self._signing_key is None:
            item = self._get("SETTINGS", "SETTINGS")
            if item is None:
                raise RuntimeError(f"venue {self.venue} is not initialised")
            self._signing_key = bytes.fromhex(item["secret"])
        return self._signing_key

    # -- events -----------------------------------------------------------
    def put_event(self, event: Event) -> None:
        item = {"pk": f"EVENT#{event.event_id}", "sk": "EVENT", "gsi1pk": "EVENTS", "gsi1sk": _iso(event.created_at)}
        item.update(event.model_dump(mode="json"))
        self.db.put_item(TableName=self.table, Item=marshal(item))

    def get_event(self, event_id: str) -> Event | None:
        item = self._get(f"EVENT#{event_id}", "EVENT")
        return Event.model_validate(item) if item else None

    def list_events(self) -> list[Event]:
        items = query_all(
            self.db,
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues=values(p="EVENTS"),
        )
        return [Event.model_validate(i) for i in items]

    def mark_published(self, event_id: str) -> None:
        self.db.update_item(
            TableName=self.table,
            Key=key(f"EVENT#{event_id}", "EVENT"),
            # first_published_at: an event once published is no draft any more (never deleted)
            UpdateExpression="SET published = :t, first_published_at = if_not_exists(first_published_at, :now)",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=values(t=True, now=_iso(datetime.now(timezone.utc))),
        )

    def put_performance(self, performance: Performance) -> None:
        item = {"pk": f"EVENT#{performance.event_id}", "sk": f"PERF#{performance.performance_id}"}
        item.update(performance.model_dump(mode="json"))
        self.db.put_item(TableName=self.table, Item=marshal(item))

    def list_performances(self, event_id: str) -> list[Performance]:
        items = query_all(
            self.db,
            TableName=self.table,
            KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
            ExpressionAttributeValues=values(p=f"EVENT#{event_id}", s="PERF#"),
            ConsistentRead=True,
        )
        return sorted((Performance.model_validate(i) for i in items), key=lambda p: p.starts_at)

    def get_performance(self, event_id: str, performance_id: str) -> Performance | None:
        item = self._get(f"EVENT#{event_id}", f"PERF#{performance_id}")
        return Performance.model_validate(item) if item else None

    # -- holds --------------------------------------------------------------
    def create_hold(self, hold: Hold, fingerprint: str, *, buyer_limit: int, keep: int = 0) -> Hold | None:
        """Take the places and record the hold in one transaction.

        The service has already decided (Performance.reserve) that enough
        places are left; the condition only guards against a concurrent sale
        in between. Returns the hold, the existing one for a retry with the
        same id, or None if the places were taken meanwhile (nothing written).
        Raises TooManyPlaces if the buyer session would hold more than `buyer_limit`.
        `keep`: places the sale must leave (Performance.kept_from its channel).
        """
        try:
            self.db.transact_write_items(
                TransactItems=[
                    {"Update": {
                        "TableName": self.table,
                        "Key": key(f"EVENT#{hold.event_id}", f"PERF#{hold.performance_id}"),
                        "UpdateExpression": "SET available = available - :q",
                        "ConditionExpression": "available >= :need",
                        "ExpressionAttributeValues": values(q=hold.quantity, need=hold.quantity + keep),
                    }},
                    {"Put": {
                        "TableName": self.table,
                        "Item": marshal(hold_item(hold, fingerprint)),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }},
                    {"Update": {
                        "TableName": self.table,
                        "Key": self._buyer_key(hold),
                        "UpdateExpression": "ADD held :q",
                        "ConditionExpression": "attribute_not_exists(held) OR held <= :room",
                        "ExpressionAttributeValues": values(q=hold.quantity, room=buyer_limit - hold.quantity),
                    }},
                ]
            )
            return hold
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            reasons = cancellation_reasons(error)
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                return self.existing_hold(hold.hold_id, fingerprint)
            if len(reasons) > 2 and reasons[2] == "ConditionalCheckFailed" and reasons[0] != "ConditionalCheckFailed":
                raise TooManyPlaces(f"You can hold at most {buyer_limit} places for one performance at a time. "
                                    "Check out or cancel a reservation first.")
            return None

    def _buyer_key(self, hold: Hold) -> dict[str, Any]:
        return key(f"EVENT#{hold.event_id}", f"BUYER#{hold.performance_id}#{hold.buyer or '-'}")

    def _buyer_change(self, holds: list[Hold], sign: int) -> list[dict[str, Any]]:
        """Give a buyer's places back to their per-performance allowance."""
        per_buyer: Counter[tuple[str, str, str]] = Counter()
        for hold in holds:
            per_buyer[(hold.event_id, hold.performance_id, hold.buyer or "-")] += hold.quantity
        return [{"Update": {
            "TableName": self.table, "Key": key(f"EVENT#{event_id}", f"BUYER#{performance_id}#{buyer}"),
            "UpdateExpression": "ADD held :q", "ExpressionAttributeValues": values(q=sign * quantity)}}
            for (event_id, performance_id, buyer), quantity in per_buyer.items()]

    def existing_hold(self, hold_id: str, fingerprint: str) -> Hold | None:
        """The hold a retried request made before, if any; refuses a reused key."""
        existing = self.get_hold_item(hold_id)
        if existing is None:
            return None
        if existing.get("fingerprint") != fingerprint:
            raise IdempotencyKeyReused("This Idempotency-Key was already used for another reservation.")
        return Hold.model_validate(existing)

    def get_hold_item(self, hold_id: str) -> dict[str, Any] | None:
        return self._get(f"HOLD#{hold_id}", "HOLD")

    def get_hold(self, hold_id: str) -> Hold | None:
        item = self.get_hold_item(hold_id)
        return Hold.model_validate(item) if item else None

    def release_hold(self, hold: Hold, *, only_if_expired_before: datetime | None = None) -> bool:
        """Give a held reservation's places back. False if it was no longer held."""
        condition = "#s = :held"
        vals = {"held": HoldStatus.HELD.value, "released": HoldStatus.RELEASED.value}
        if only_if_expired_before is not None:
            condition += " AND expires_at <= :now"
            vals["now"] = _iso(only_if_expired_before)
        return self._transact_if_unchanged([
            {"Update": {
                "TableName": self.table,
                "Key": key(f"HOLD#{hold.hold_id}", "HOLD"),
                "UpdateExpression": "SET #s = :released REMOVE gsi1pk, gsi1sk",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": values(**vals),
            }},
            self._capacity_change(hold.event_id, hold.performance_id, hold.quantity),
            *self._buyer_change([hold], -1),
        ])

    def expired_held_holds(self, now: datetime, limit: int = 100) -> list[Hold]:
        return self._holds_due(HELD_INDEX_KEY, now, limit)

    def stale_checkout_holds(self, before: datetime, limit: int = 100) -> list[Hold]:
        """Holds whose payment should have ended before `before`."""
        return self._holds_due(CHECKOUT_INDEX_KEY, before, limit)

    def _holds_due(self, index_key: str, due: datetime, limit: int) -> list[Hold]:
        page = self.db.query(
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p AND gsi1sk <= :due",
            ExpressionAttributeValues=values(p=index_key, due=_iso(due)),
            Limit=limit,
        )
        return [Hold.model_validate(unmarshal(i)) for i in page.get("Items", [])]

    def extend_checkout(self, order: Order, holds: list[Hold], until: datetime) -> None:
        """A payment that takes days (bank transfer) keeps its places; look again at `until`."""
        for hold in holds:
            try:
                self.db.update_item(
                    TableName=self.table, Key=key(f"HOLD#{hold.hold_id}", "HOLD"),
                    UpdateExpression="SET gsi1sk = :until", ConditionExpression="#s = :checkout AND order_id = :o",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues=values(until=_iso(until), checkout=HoldStatus.CHECKOUT.value,
                                                     o=order.order_id))
            except ClientError as error:
                if not is_condition_failure(error):
                    raise

    def _capacity_change(self, event_id: str, performance_id: str, delta: int) -> dict[str, Any]:
        return {"Update": {
            "TableName": self.table,
            "Key": key(f"EVENT#{event_id}", f"PERF#{performance_id}"),
            "UpdateExpression": "SET available = available + :q",
            "ExpressionAttributeValues": values(q=delta),
        }}

    # -- orders ---------------------------------------------------------------
    def start_checkout(self, order: Order, buyer: dict[str, str], holds: list[Hold], now: datetime,
                       expires_at: datetime) -> bool:
        """Write the pending order and move its holds into checkout, atomically.

        False if this order already exists (a retry); raises HoldExpired if any
        hold is no longer held."""
        order_item = {"pk": f"ORDER#{order.order_id}", "sk": "ORDER", "gsi1pk": "ORDERS",
                      "gsi1sk": _iso(order.created_at), "buyer": buyer}
        order_item.update(order.model_dump(mode="json"))
        items: list[dict[str, Any]] = [{"Put": {
            "TableName": self.table, "Item": marshal(order_item), "ConditionExpression": "attribute_not_exists(pk)"}}]
        for hold in holds:
            items.append({"Update": {
                "TableName": self.table,
                "Key": key(f"HOLD#{hold.hold_id}", "HOLD"),
                "UpdateExpression": "SET #s = :checkout, order_id = :o, expires_at = :exp, gsi1pk = :g, gsi1sk = :exp",
                "ConditionExpression": "#s = :held AND expires_at > :now",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": values(checkout=HoldStatus.CHECKOUT.value, o=order.order_id,
                                                    exp=_iso(expires_at), held=HoldStatus.HELD.value, now=_iso(now),
                                                    g=CHECKOUT_INDEX_KEY),
            }})
        try:
            self.db.transact_write_items(TransactItems=items)
            return True
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            existing = self.get_order(order.order_id)
            if existing and existing.basket_id == order.basket_id:
                return False
            raise HoldExpired("One of your reservations has expired or was already used. Please reserve again.")

    def cancel_checkout(self, order: Order, holds: list[Hold]) -> bool:
        """Undo start_checkout (the payment session could not be created): the
        order goes, the holds are held again. False if the order was no longer pending."""
        items: list[dict[str, Any]] = [{"Delete": {
            "TableName": self.table, "Key": key(f"ORDER#{order.order_id}", "ORDER"),
            "ConditionExpression": "#s = :pending", "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": values(pending=OrderStatus.PENDING.value)}}]
        for hold in holds:
            items.append({"Update": {
                "TableName": self.table, "Key": key(f"HOLD#{hold.hold_id}", "HOLD"),
                "UpdateExpression": "SET #s = :held, expires_at = :exp, gsi1pk = :g, gsi1sk = :exp REMOVE order_id",
                "ConditionExpression": "#s = :checkout AND order_id = :o",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": values(held=HoldStatus.HELD.value, exp=_iso(hold.expires_at), g=HELD_INDEX_KEY,
                                                    checkout=HoldStatus.CHECKOUT.value, o=order.order_id),
            }})
        return self._transact_if_unchanged(items)

    def abandon_checkout(self, order: Order, holds: list[Hold], held_until: datetime) -> bool:
        """The buyer left the payment page and checks out again: the old order
        expires, its holds are held again (places stay taken). False if the
        order was no longer pending."""
        items: list[dict[str, Any]] = [{"Update": {
            "TableName": self.table, "Key": key(f"ORDER#{order.order_id}", "ORDER"),
            "UpdateExpression": "SET #s = :expired", "ConditionExpression": "#s = :pending",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": values(expired=OrderStatus.EXPIRED.value, pending=OrderStatus.PENDING.value)}}]
        for hold in holds:
            items.append({"Update": {
                "TableName": self.table, "Key": key(f"HOLD#{hold.hold_id}", "HOLD"),
                "UpdateExpression": "SET #s = :held, expires_at = :exp, gsi1pk = :g, gsi1sk = :exp REMOVE order_id",
                "ConditionExpression": "#s = :checkout AND order_id = :o",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": values(held=HoldStatus.HELD.value, exp=_iso(held_until), g=HELD_INDEX_KEY,
                                                    checkout=HoldStatus.CHECKOUT.value, o=order.order_id)}})
        return self._transact_if_unchanged(items)

    def get_order_item(self, order_id: str) -> dict[str, Any] | None:
        item = self._get(f"ORDER#{order_id}", "ORDER")
        return without_keys(item) if item else None

    def get_order(self, order_id: str) -> Order | None:
        item = self.get_order_item(order_id)
        return Order.model_validate(item) if item else None

    def list_orders(self, limit: int = 100) -> list[dict[str, Any]]:
        page = self.db.query(TableName=self.table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
                             ExpressionAttributeValues=values(p="ORDERS"), ScanIndexForward=False, Limit=limit)
        return [without_keys(unmarshal(i)) for i in page.get("Items", [])]

    def mark_paid(self, order: Order, holds: list[Hold], customer: dict[str, Any] | None, paid_at: datetime) -> bool:
        """pending -> paid, holds -> sold, customer upserted (none for an
        anonymous counter sale). False if already paid."""
        items: list[dict[str, Any]] = [{"Update": {
            "TableName": self.table, "Key": key(f"ORDER#{order.order_id}", "ORDER"),
            "UpdateExpression": "SET #s = :paid, paid_at = :at",
            "ConditionExpression": "#s = :pending",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": values(paid=OrderStatus.PAID.value, at=_iso(paid_at),
                                                pending=OrderStatus.PENDING.value)}}]
        for hold in holds:
            items.append({"Update": {
                "TableName": self.table, "Key": key(f"HOLD#{hold.hold_id}", "HOLD"),
                "UpdateExpression": "SET #s = :sold REMOVE gsi1pk, gsi1sk", "ConditionExpression": "order_id = :o",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": values(sold=HoldStatus.SOLD.value, o=order.order_id)}})
        items += [] if customer is None else [{"Update": {
            "TableName": self.table, "Key": key(f"CUSTOMER#{customer['customer_id']}", "CUSTOMER"),
            "UpdateExpression": "SET email = :e, #n = :n, last_order_at = :at, customer_id = :c, "
                                "first_order_at = if_not_exists(first_order_at, :at), gsi1pk = :g, gsi1sk = :e, "
                                # the buyer's "my tickets" (adapters/my_tickets_store.py); once per order,
                                # as the order's condition lets this run once
                                "order_ids = list_append(if_not_exists(order_ids, :none), :o) "
                                "ADD order_count :one",
            "ExpressionAttributeNames": {"#n": "name"},
            "ExpressionAttributeValues": values(e=customer["email"], n=customer["name"], at=_iso(paid_at),
                                                c=customer["customer_id"], one=1, g="CUSTOMERS",
                                                none=[], o=[order.order_id])}}]
        items += self._buyer_change(holds, -1)
        return self._transact_if_unchanged(items)

    def record_transfer(self, order_id: str, *, transfer_id: str | None = None, failed_attempt: bool = False) -> None:
        """The venue's payout for a paid order: its Stripe transfer, or one more refused attempt
        (the next attempt then uses a new idempotency key: Stripe stores a refusal under the old one)."""
        if transfer_id:
            expression, vals = "SET transfer_id = :t", values(t=transfer_id)
        elif failed_attempt:
            expression, vals = "ADD transfer_attempt :one", values(one=1)
        else:
            return
        self.db.update_item(TableName=self.table, Key=key(f"ORDER#{order_id}", "ORDER"), UpdateExpression=expression,
                            ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues=vals)

    def expire_order(self, order: Order, holds: list[Hold]) -> bool:
        """pending -> expired and every place back on sale. False if not pending."""
        items: list[dict[str, Any]] = [{"Update": {
            "TableName": self.table, "Key": key(f"ORDER#{order.order_id}", "ORDER"),
            "UpdateExpression": "SET #s = :expired", "ConditionExpression": "#s = :pending",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": values(expired=OrderStatus.EXPIRED.value, pending=OrderStatus.PENDING.value)}}]
        items += self.places_back(order, holds)
        items += self._buyer_change(holds, -1)
        return self._transact_if_unchanged(items)

    def places_back(self, order: Order, holds: list[Hold]) -> list[dict[str, Any]]:
        """Transaction items: the order's holds released and their places on
        sale again (an expired order; a cancelled counter order, adapters/box_office_store.py).
        The caller adds the order's own change, which carries the condition."""
        items: list[dict[str, Any]] = []
        per_performance: Counter[tuple[str, str]] = Counter()
        for hold in holds:
            per_performance[(hold.event_id, hold.performance_id)] += hold.quantity
            items.append({"Update": {
                "TableName": self.table, "Key": key(f"HOLD#{hold.hold_id}", "HOLD"),
                "UpdateExpression": "SET #s = :released REMOVE gsi1pk, gsi1sk", "ConditionExpression": "order_id = :o",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": values(released=HoldStatus.RELEASED.value, o=order.order_id)}})
        for (event_id, performance_id), quantity in per_performance.items():
            items.append(self._capacity_change(event_id, performance_id, quantity))
        return items

    # -- tickets and customers --------------------------------------------------
    def put_ticket_once(self, ticket: Ticket) -> None:
        item = {"pk": f"TICKET#{ticket.ticket_id}", "sk": "TICKET", "gsi1pk": f"ORDER#{ticket.order_id}",
                "gsi1sk": ticket.ticket_id}
        item.update(ticket.model_dump(mode="json"))
        # The ticket, then its line on the performance's door list (adapters/door_store.py):
        # each only if absent, so a retried settlement writes what a crash left out.
        for written in (item, door_entry_item(ticket)):
            try:
                self.db.put_item(TableName=self.table, Item=marshal(written),
                                 ConditionExpression="attribute_not_exists(pk)")
            except ClientError as error:
                if not is_condition_failure(error):
                    raise

    def tickets_of_order(self, order_id: str) -> list[Ticket]:
        items = query_all(self.db, TableName=self.table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
                          ExpressionAttributeValues=values(p=f"ORDER#{order_id}"))
        return [Ticket.model_validate(i) for i in items]

    def get_ticket(self, ticket_id: str) -> Ticket | None:
        item = self._get(f"TICKET#{ticket_id}", "TICKET")
        return Ticket.model_validate(item) if item else None

    def get_customer(self, customer_id: str) -> dict[str, Any] | None:
        return self._get(f"CUSTOMER#{customer_id}", "CUSTOMER")

    def list_customers(self, limit: int = 100) -> list[dict[str, Any]]:
        page = self.db.query(TableName=self.table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
                             ExpressionAttributeValues=values(p="CUSTOMERS"), Limit=limit)
        return [without_keys(unmarshal(i)) for i in page.get("Items", [])]

    def _transact_if_unchanged(self, items: list[dict[str, Any]]) -> bool:
        """Run a transaction; False (and nothing written) if a condition failed."""
        try:
            self.db.transact_write_items(TransactItems=items)
            return True
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return unmarshal(self.db.get_item(TableName=self.table, Key=key(pk, sk), ConsistentRead=True).get("Item"))

    # -- public profile (lead-editable; services/venue_profile.py) -----------------------
    def get_profile(self) -> VenueProfile | None:
        item = self._get("SETTINGS", "PROFILE")
        return VenueProfile.model_validate(without_keys(item)) if item else None

    def put_profile(self, profile: VenueProfile) -> None:
        self.db.put_item(TableName=self.table, Item=marshal(
            {"pk": "SETTINGS", "sk": "PROFILE", **profile.model_dump(mode="json", exclude_none=True)}))

    # -- staff policy and audit --------------------------------------------------------
    # SETTINGS / STAFF_POLICY          what the venue lets its clerks see (lead-editable)
    # AUDIT / {at}#{entry_id}          who read buyer data, when, why (ids only; adapters/audit_log.py)
    def get_staff_policy(self) -> dict[str, Any]:
        item = self._get("SETTINGS", "STAFF_POLICY") or {}
        return {"clerks_see_buyer": bool(item.get("clerks_see_buyer", False)),
                "updated_by": item.get("updated_by"), "updated_at": item.get("updated_at")}

    def put_staff_policy(self, *, clerks_see_buyer: bool, updated_by: str, updated_at: datetime) -> None:
        self.db.put_item(TableName=self.table, Item=marshal({
            "pk": "SETTINGS", "sk": "STAFF_POLICY", "clerks_see_buyer": clerks_see_buyer,
            "updated_by": updated_by, "updated_at": _iso(updated_at)}))

    def put_audit_entry(self, entry: dict[str, Any]) -> None:
        item = {"pk": "AUDIT", "sk": f"{entry['at']}#{entry['entry_id']}", **entry}
        self.db.put_item(TableName=self.table, Item=marshal(item), ConditionExpression="attribute_not_exists(pk)")

    def list_audit_entries(self, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first."""
        page = self.db.query(TableName=self.table, KeyConditionExpression="pk = :p",
                             ExpressionAttributeValues=values(p="AUDIT"), ScanIndexForward=False, Limit=limit,
                             ConsistentRead=True)
        return [without_keys(unmarshal(i)) for i in page.get("Items", [])]
