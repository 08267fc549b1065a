"""The network table: state shared by the whole network, never personal data.

  VENUES / VENUE#{slug}      registry: public profile, branding, Stripe account, status
  BASKET#{basket} / BASKET   which venue orders a payment covers (ids and amounts only)
  UNSETTLED / {basket}       a basket not finished yet, and when the reconciler should look at it
  idempotency#...            Powertools idempotency records of processed Stripe events
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters import aws
from chalicelib.adapters.dynamo import is_condition_failure, key, marshal, query_all, unmarshal, values, without_keys
from chalicelib.settings import get_settings


UNSETTLED = "UNSETTLED"


class NetworkStore:
    def __init__(self, dynamodb: Any = None, table: str | None = None) -> None:
        self.db = dynamodb or aws.client("dynamodb")
        self.table = table or get_settings().network_table

    # -- venue registry -------------------------------------------------------
    def put_venue(self, venue: dict[str, Any], *, only_new: bool = False) -> bool:
        item = {"pk": "VENUES", "sk": f"VENUE#{venue['slug']}", **venue}
        try:
            self.db.put_item(TableName=self.table, Item=marshal(item),
                             **({"ConditionExpression": "attribute_not_exists(pk)"} if only_new else {}))
            return True
        except ClientError as error:
            if only_new and is_condition_failure(error):
                return False
            raise

    def update_venue(self, slug: str, **fields: Any) -> None:
        names = {f"#{k}": k for k in fields}
        self.db.update_item(
            TableName=self.table, Key=key("VENUES", f"VENUE#{slug}"),
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in fields),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names, ExpressionAttributeValues=values(**fields))

    def get_venue(self, slug: str) -> dict[str, Any] | None:
        item = unmarshal(self.db.get_item(TableName=self.table, Key=key("VENUES", f"VENUE#{slug}"),
                                          ConsistentRead=True).get("Item"))
        return without_keys(item) if item else None

    def list_venues(self) -> list[dict[str, Any]]:
        items = query_all(self.db, TableName=self.table, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues=values(p="VENUES"))
        return [without_keys(i) for i in items]

    def delete_venue(self, slug: str) -> None:
        self.db.delete_item(TableName=self.table, Key=key("VENUES", f"VENUE#{slug}"))

    # -- baskets ----------------------------------------------------------------
    def create_basket(self, basket: dict[str, Any], *, reconcile_at: str) -> bool:
        """The basket and its reconciliation marker, together. False if it exists."""
        item = {"pk": f"BASKET#{basket['basket_id']}", "sk": "BASKET", **basket}
        marker = {"pk": UNSETTLED, "sk": basket["basket_id"], "due_at": reconcile_at}
        try:
            self.db.transact_write_items(TransactItems=[
                {"Put": {"TableName": self.table, "Item": marshal(item), "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"TableName": self.table, "Item": marshal(marker)}}])
            return True
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise

    def reconcile_later(self, basket_id: str, due_at: str) -> None:
        self.db.put_item(TableName=self.table, Item=marshal({"pk": UNSETTLED, "sk": basket_id, "due_at": due_at}))

    def finish_basket(self, basket_id: str, **fields: Any) -> None:
        """Final state of a basket; it no longer needs the reconciler."""
        names = {f"#{k}": k for k in fields}
        self.db.transact_write_items(TransactItems=[
            {"Update": {"TableName": self.table, "Key": key(f"BASKET#{basket_id}", "BASKET"),
                        "UpdateExpression": "SET " + ", ".join(f"#{k} = :{k}" for k in fields),
                        "ExpressionAttributeNames": names, "ExpressionAttributeValues": values(**fields)}},
            {"Delete": {"TableName": self.table, "Key": key(UNSETTLED, basket_id)}}])

    def baskets_to_reconcile(self, now: str, limit: int = 100) -> list[str]:
        page = self.db.query(TableName=self.table, KeyConditionExpression="pk = :p", FilterExpression="due_at <= :now",
                             ExpressionAttributeValues=values(p=UNSETTLED, now=now), Limit=limit * 10)
        return [unmarshal(i)["sk"] for i in page.get("Items", [])][:limit]

    def get_basket(self, basket_id: str) -> dict[str, Any] | None:
        item = unmarshal(self.db.get_item(TableName=self.table, Key=key(f"BASKET#{basket_id}", "BASKET"),
                                          ConsistentRead=True).get("Item"))
        return without_keys(item) if item else None

    def update_basket(self, basket_id: str, **fields: Any) -> None:
        self.db.update_item(
            TableName=self.table, Key=key(f"BASKET#{basket_id}", "BASKET"),
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in fields),
            ExpressionAttributeNames={f"#{k}": k for k in fields}, ExpressionAttributeValues=values(**fields))


