"""Venues' API keys in the network table (hashes only; no personal data).

  APIKEY#{sha256 of the key} / APIKEY          the key index the gate reads: venue, key id, scopes,
                                               created, last used, expires (after a rotation), and
                                               the API Gateway key of its usage plan (AWS only)
  VENUE-APIKEYS#{venue} / KEY#{key_id}         the venue's list of its keys (label, scopes, hash,
                                               created, revoked, expires), for its lead

Both are written in one transaction. Revoking deletes the index item, so the
gate, which reads it consistently on every request, refuses the key at once.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import is_condition_failure, key, marshal, query_all, unmarshal, values, without_keys


def _index(key_hash: str) -> dict[str, Any]:
    return key(f"APIKEY#{key_hash}", "APIKEY")


def _listing(venue: str, key_id: str) -> dict[str, Any]:
    return key(f"VENUE-APIKEYS#{venue}", f"KEY#{key_id}")


class ApiKeyStore:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self.db, self.table = dynamodb, table

    def create(self, record: dict[str, Any], key_hash: str) -> None:
        index = {"pk": f"APIKEY#{key_hash}", "sk": "APIKEY", **{k: record[k] for k in
                                                              ("key_id", "venue", "scopes", "created_at",
                                                               "gateway_key_id") if k in record}}
        listing = {"pk": f"VENUE-APIKEYS#{record['venue']}", "sk": f"KEY#{record['key_id']}", **record,
                   "key_hash": key_hash}
        self.db.transact_write_items(TransactItems=[
            {"Put": {"TableName": self.table, "Item": marshal(index), "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": self.table, "Item": marshal(listing), "ConditionExpression": "attribute_not_exists(pk)"}}])

    def by_hash(self, key_hash: str) -> dict[str, Any] | None:
        """Read on every request, consistently: a revoke is seen at once."""
        item = unmarshal(self.db.get_item(TableName=self.table, Key=_index(key_hash), ConsistentRead=True).get("Item"))
        return without_keys(item) if item else None

    def touch(self, key_hash: str, at: str, not_since: str) -> None:
        """Record the last use, at most once per period (one write per minute, not per request)."""
        try:
            self.db.update_item(TableName=self.table, Key=_index(key_hash), UpdateExpression="SET last_used_at = :at",
                                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(last_used_at) "
                                                    "OR last_used_at < :since)",
                                ExpressionAttributeValues=values(at=at, since=not_since))
        except ClientError as error:
            if not is_condition_failure(error):
                raise

    def of_venue(self, venue: str) -> list[dict[str, Any]]:
        items = query_all(self.db, TableName=self.table, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues=values(p=f"VENUE-APIKEYS#{venue}"), ConsistentRead=True)
        return [without_keys(i) for i in items]

    def get(self, venue: str, key_id: str) -> dict[str, Any] | None:
        item = unmarshal(self.db.get_item(TableName=self.table, Key=_listing(venue, key_id),
                                          ConsistentRead=True).get("Item"))
        return without_keys(item) if item else None

    def revoke(self, venue: str, key_id: str, key_hash: str, at: str) -> None:
        self.db.transact_write_items(TransactItems=[
            {"Delete": {"TableName": self.table, "Key": _index(key_hash)}},
            {"Update": {"TableName": self.table, "Key": _listing(venue, key_id),
                        "UpdateExpression": "SET revoked_at = :at", "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": values(at=at)}}])

    def expire(self, venue: str, key_id: str, key_hash: str, at: str, ttl: int) -> None:
        """The old key of a rotation: it works until `at`; DynamoDB removes the index item after `ttl`."""
        self.db.transact_write_items(TransactItems=[
            {"Update": {"TableName": self.table, "Key": _index(key_hash),
                        "UpdateExpression": "SET expires_at = :at, #ttl = :ttl", "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeNames": {"#ttl": "ttl"}, "ExpressionAttributeValues": values(at=at, ttl=ttl)}},
            {"Update": {"TableName": self.table, "Key": _listing(venue, key_id),
                        "UpdateExpression": "SET expires_at = :at", "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": values(at=at)}}])
