"""A performance's door list in the venue's own table, on the venue's credentials.

Items:
  DOOR#{perf} / TICKET#{ticket}   one per sold ticket (written when it is issued,
                                  venue_store.door_entry_item): label, order; once
                                  admitted also admitted_at, door and the scan's nonce
  DOOR#{perf} / LATER#{nonce}     an admission made offline after the first one
                                  (a duplicate), keyed by its nonce so a re-sync
                                  records it once
The door list is one partition per performance: the check-in list and its
counts are one query. An admission changes the ticket's line and the ticket
(`checked_in_at`, which "my tickets" shows) in one transaction whose condition
is "the line is as I read it": two doors admitting the same ticket at once
admit it once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamo import key, marshal, query_all, values, without_keys
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain.door import Admission, moment
from chalicelib.domain.model import OrderStatus, Ticket


class DoorStore:
    def __init__(self, store: VenueStore) -> None:
        self.store = store
        self.db = store.db
        self.table = store.table

    def admission(self, performance_id: str, ticket_id: str) -> Admission | None:
        item = self.db.get_item(TableName=self.table, Key=key(f"DOOR#{performance_id}", f"TICKET#{ticket_id}"),
                                ConsistentRead=True).get("Item")
        if not item or "admitted_at" not in item:
            return None
        return Admission(ticket_id=ticket_id, performance_id=performance_id, at=item["admitted_at"]["S"],
                         door=item["door"]["S"], nonce=item["nonce"]["S"])

    def admit(self, ticket: Ticket, at: datetime, door: str, nonce: str, replacing: Admission | None) -> bool:
        """Record this scan as the ticket's admission, if the line is still as
        read (`replacing`: the admission an earlier offline scan takes over,
        kept as a later one). False, with nothing written, if it changed."""
        line = {"TableName": self.table, "Key": key(f"DOOR#{ticket.performance_id}", f"TICKET#{ticket.ticket_id}"),
                "UpdateExpression": "SET admitted_at = :at, door = :door, nonce = :nonce, ticket_id = :t, "
                                    "order_id = :o, label = :l, price_type = :p"}
        shown = dict(at=moment(at), door=door, nonce=nonce, t=ticket.ticket_id, o=ticket.order_id, l=ticket.label,
                     p=ticket.price_type)
        if replacing is None:
            line["ConditionExpression"] = "attribute_not_exists(admitted_at)"
            line["ExpressionAttributeValues"] = values(**shown)
        else:
            line["ConditionExpression"] = "admitted_at = :seen_at AND nonce = :seen_nonce"
            line["ExpressionAttributeValues"] = values(**shown, seen_at=moment(replacing.at), seen_nonce=replacing.nonce)
        items: list[dict[str, Any]] = [
            {"Update": line},
            {"Update": {"TableName": self.table, "Key": key(f"TICKET#{ticket.ticket_id}", "TICKET"),
                        "UpdateExpression": "SET checked_in_at = :at", "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": values(at=moment(at))}},
        ]
        # Only while the order is paid: a cancel at the counter and an admission never both succeed
        # (the cancel's removal of the door line requires it not admitted).
        items.append({"ConditionCheck": {
            "TableName": self.table, "Key": key(f"ORDER#{ticket.order_id}", "ORDER"),
            "ConditionExpression": "#s = :paid", "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": values(paid=OrderStatus.PAID.value)}})
        if replacing is not None:
            items.append({"Put": {"TableName": self.table, "Item": marshal(self._later_item(replacing))}})
        return self.store._transact_if_unchanged(items)

    def record_later(self, later: Admission) -> None:
        """An offline admission after the first one: kept once per scan, shown as a duplicate."""
        self.db.put_item(TableName=self.table, Item=marshal(self._later_item(later)))

    def door_list(self, performance_id: str) -> list[dict[str, Any]]:
        return [without_keys({**item, "kind": item["sk"].partition("#")[0]}) for item in query_all(
            self.db, TableName=self.table, KeyConditionExpression="pk = :p",
            ExpressionAttributeValues=values(p=f"DOOR#{performance_id}"), ConsistentRead=True)]

    @staticmethod
    def _later_item(later: Admission) -> dict[str, Any]:
        return {"pk": f"DOOR#{later.performance_id}", "sk": f"LATER#{later.nonce}", "ticket_id": later.ticket_id,
                "admitted_at": moment(later.at), "door": later.door}
