"""What "my tickets" needs from a venue's own table and from the network table.

In the venue's table (on the venue's role, through its VenueStore):
  CUSTOMER#{id} / CUSTOMER             the venue's customer; `order_ids` lists its paid orders
                                       (written with the order in VenueStore.mark_paid; orders
                                       paid before that are linked on the first look)
  CUSTOMER#{id} / MYTICKETS#{window}   link requests for this known address in one window
                                       (`sent`, `request_keys`; expires with `ttl`)
  ORDER#{order} / MYTICKETS#RESEND     the last re-send of the order's confirmation
In the network table (no personal data):
  MYTICKETS#LINK#{token id} / USED     a link that was used (single use), with a hash of the request's
                                       Idempotency-Key (a lost answer may be asked again); expires with the link
  MYTICKETS#CLIENT#{key} / {window}    link requests of one client in one window, under a
                                       keyed hash of client and window (domain/my_tickets.py)
Nothing here joins one venue's customers to another's: each venue is asked
on its own, under its own secret, with its own credentials.
"""

from __future__ import annotations

import hmac
from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import is_condition_failure, key, marshal, query_all, values
from chalicelib.adapters.network_store import NetworkStore
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain import tickets as ticket_codes
from chalicelib.domain.model import Order, OrderStatus, Ticket


class CustomerTickets:
    """One venue's answer to "which tickets does this address hold here?"."""

    def __init__(self, store: VenueStore) -> None:
        self.store = store
        self.venue = store.venue
        self.db, self.table = store.db, store.table

    def customer_of(self, email: str) -> str | None:
        """The venue's customer id for this address, if it sold to it."""
        customer_id = ticket_codes.customer_id(email, self.store.secret())
        customer = self.store.get_customer(customer_id)
        if not customer or not hmac.compare_digest(str(customer.get("email", "")).strip().lower(), email):
            return None
        return customer_id

    def paid_orders(self, customer_id: str) -> list[tuple[Order, list[Ticket]]]:
        customer = self.store.get_customer(customer_id) or {}
        order_ids = set(customer.get("order_ids") or ())
        if int(customer.get("order_count", 0)) > len(order_ids):
            order_ids |= self._link_older_orders(customer_id, order_ids)
        found = []
        for order_id in sorted(order_ids):
            order = self.store.get_order(order_id)
            if order and order.status == OrderStatus.PAID and order.customer_id == customer_id:
                found.append((order, self.store.tickets_of_order(order_id)))
        return sorted(found, key=lambda pair: pair[0].paid_at or pair[0].created_at, reverse=True)

    def _link_older_orders(self, customer_id: str, linked: set[str]) -> set[str]:
        """Orders paid before customers listed their orders (order_count says
        some are missing): found once by reading the venue's order index, then
        listed on the customer, so the next look is direct again."""
        older = {item["order_id"] for item in query_all(
            self.db, TableName=self.table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
            FilterExpression="customer_id = :c AND #s = :paid", ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values(p="ORDERS", c=customer_id, paid=OrderStatus.PAID.value))} - linked
        for order_id in sorted(older):
            try:
                self.db.update_item(
                    TableName=self.table, Key=key(f"CUSTOMER#{customer_id}", "CUSTOMER"),
                    UpdateExpression="SET order_ids = list_append(if_not_exists(order_ids, :none), :o)",
                    ConditionExpression="attribute_exists(pk) AND NOT contains(order_ids, :id)",
                    ExpressionAttributeValues=values(none=[], o=[order_id], id=order_id))
            except ClientError as error:
                if not is_condition_failure(error):
                    raise
        return older

    def paid_order_of(self, customer_id: str, order_id: str) -> Order | None:
        order = self.store.get_order(order_id)
        if order is None or order.status != OrderStatus.PAID or not hmac.compare_digest(order.customer_id, customer_id):
            return None
        return order

    def count_link_request(self, customer_id: str, window_start: int, request_key: str, limit: int,
                           expires_at: int) -> bool:
        """Count one link mail for this address in this window. False (nothing
        counted) when the window's limit is reached or this request was
        counted before (a retry): then no mail goes out."""
        try:
            self.db.update_item(
                TableName=self.table, Key=key(f"CUSTOMER#{customer_id}", f"MYTICKETS#{window_start}"),
                UpdateExpression="ADD sent :one, request_keys :k SET #ttl = :ttl",
                ConditionExpression="(attribute_not_exists(sent) OR sent < :limit) AND "
                                    "(attribute_not_exists(request_keys) OR NOT contains(request_keys, :key))",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues=values(one=1, k={request_key}, key=request_key, limit=limit, ttl=expires_at))
            return True
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise

    def claim_resend(self, order_id: str, request_key: str, now: int, cooldown: int) -> tuple[str, int]:
        """("new", 0) when this request may send; ("repeat", 0) for a retry of
        the request that did; ("wait", seconds) while the cooldown runs."""
        try:
            self.db.put_item(
                TableName=self.table,
                Item=marshal({"pk": f"ORDER#{order_id}", "sk": "MYTICKETS#RESEND", "sent_at": now,
                              "request_key": request_key, "ttl": now + cooldown}),
                ConditionExpression="attribute_not_exists(pk) OR sent_at <= :due",
                ExpressionAttributeValues=values(due=now - cooldown))
            return "new", 0
        except ClientError as error:
            if not is_condition_failure(error):
                raise
        earlier = self.store._get(f"ORDER#{order_id}", "MYTICKETS#RESEND") or {}
        if hmac.compare_digest(str(earlier.get("request_key", "")), request_key):
            return "repeat", 0
        return "wait", max(1, int(earlier.get("sent_at", now)) + cooldown - now)

    def forget_resend(self, order_id: str, request_key: str) -> None:
        """The mail could not be sent: the buyer may try again at once."""
        try:
            self.db.delete_item(TableName=self.table, Key=key(f"ORDER#{order_id}", "MYTICKETS#RESEND"),
                                ConditionExpression="request_key = :k", ExpressionAttributeValues=values(k=request_key))
        except ClientError as error:
            if not is_condition_failure(error):
                raise


class LinkLedger:
    """The network-level part: used links and per-client counters, no personal data."""

    def __init__(self, network: NetworkStore) -> None:
        self.db, self.table = network.db, network.table

    def use_once(self, token_id: str, expires_at: int, request_key_hash: str) -> bool:
        """True the first time a link is used, and for a retry of that same
        request (its Idempotency-Key, hashed); False for anyone else."""
        try:
            self.db.put_item(TableName=self.table,
                             Item=marshal({"pk": f"MYTICKETS#LINK#{token_id}", "sk": "USED", "ttl": expires_at,
                                           "request_key_hash": request_key_hash}),
                             ConditionExpression="attribute_not_exists(pk) OR request_key_hash = :k",
                             ExpressionAttributeValues=values(k=request_key_hash))
            return True
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise

    def count_client(self, client_key: str, window_start: int, limit: int, expires_at: int) -> bool:
        """Count one request of this client in this window; False once the limit is reached."""
        try:
            self.db.update_item(
                TableName=self.table, Key=key(f"MYTICKETS#CLIENT#{client_key}", str(window_start)),
                UpdateExpression="ADD requests :one SET #ttl = :ttl",
                ConditionExpression="attribute_not_exists(requests) OR requests < :limit",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues=values(one=1, limit=limit, ttl=expires_at))
            return True
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
