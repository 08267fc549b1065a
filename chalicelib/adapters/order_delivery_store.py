"""What a paid order's buyer receives, on the venue's own credentials: the
ticket documents in the documents bucket under the venue's prefix, and the
delivery state in the venue's own table. Wraps a `VenueStore` (its table,
client and session), as `onsale_store.py` does.

Items (venue table):
  ORDER#{order} / DELIVERY          documents (file names, S3 keys), mail state
                                    (sending | sent | retry | failed), attempts,
                                    SES message id
  MAILMSG#{message id} / MAILMSG    which order a sent mail belongs to (for bounces)
  MAILEVENT#{message id} / {at}#{type}  a bounce or complaint SES reported;
                                    gsi1 MAILEVENTS / {at}
Objects (documents bucket): venues/{venue}/orders/{order}/{file name}. Keys
come from the order, so a retried delivery overwrites the same objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import is_condition_failure, key, marshal, unmarshal, values, without_keys
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.settings import get_settings

MAIL_EVENTS_INDEX_KEY = "MAILEVENTS"
# Presigned links are SigV4 (the only kind S3 accepts for assumed-role credentials in every region).
_SIGNED = Config(signature_version="s3v4", retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=3,
                 read_timeout=10)
# One S3 client per venue session (building one costs tens of milliseconds,
# and the order page asks for links every few seconds until they are ready).
_s3_clients: dict[str, tuple[Any, Any]] = {}


class OrderDeliveryStore:
    def __init__(self, store: VenueStore) -> None:
        self.venue = store.venue
        self.db = store.db
        self.table = store.table
        self.session = store.session
        self.bucket = get_settings().documents_bucket

    @property
    def s3(self):
        cached = _s3_clients.get(self.venue)
        if cached is None or cached[0] is not self.session:
            cached = (self.session, self.session.client("s3", config=_SIGNED))
            _s3_clients[self.venue] = cached
        return cached[1]

    # -- documents ------------------------------------------------------------------
    def document_key(self, order_id: str, filename: str) -> str:
        return f"venues/{self.venue}/orders/{order_id}/{filename}"

    def put_document(self, order_id: str, filename: str, body: bytes, content_type: str) -> str:
        object_key = self.document_key(order_id, filename)
        self.s3.put_object(Bucket=self.bucket, Key=object_key, Body=body, ContentType=content_type,
                           CacheControl="private, no-store")
        return object_key

    def get_document(self, object_key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=object_key)["Body"].read()

    def signed_link(self, object_key: str, filename: str, content_type: str, seconds: int) -> str:
        """A GET link valid for `seconds`, signed with the venue's role (which
        may read only its own prefix)."""
        return self.s3.generate_presigned_url("get_object", ExpiresIn=seconds, Params={
            "Bucket": self.bucket, "Key": object_key, "ResponseContentType": content_type,
            "ResponseContentDisposition": f'inline; filename="{filename}"'})

    # -- delivery state ---------------------------------------------------------------------
    def get(self, order_id: str) -> dict[str, Any] | None:
        item = self.db.get_item(TableName=self.table, Key=key(f"ORDER#{order_id}", "DELIVERY"),
                                ConsistentRead=True).get("Item")
        return without_keys(unmarshal(item)) if item else None

    def record_documents(self, order_id: str, documents: list[dict[str, str]], now: datetime) -> None:
        self.db.update_item(TableName=self.table, Key=key(f"ORDER#{order_id}", "DELIVERY"),
                            UpdateExpression="SET documents = :d, documents_at = :at",
                            ExpressionAttributeValues=values(d=documents, at=now.isoformat()))

    def claim_mail(self, order_id: str, now: datetime) -> bool:
        """Take the right to send this order's mail: True for exactly one
        caller while no mail was sent or is being sent (a 'retry' may be claimed again)."""
        try:
            self.db.update_item(
                TableName=self.table, Key=key(f"ORDER#{order_id}", "DELIVERY"),
                UpdateExpression="SET mail_state = :sending, mail_claimed_at = :at ADD mail_attempts :one",
                ConditionExpression="attribute_not_exists(mail_state) OR mail_state = :retry",
                ExpressionAttributeValues=values(sending="sending", at=now.isoformat(), one=1, retry="retry"))
            return True
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise

    def mail_sent(self, order_id: str, message_id: str, now: datetime) -> None:
        self.db.transact_write_items(TransactItems=[
            {"Update": {"TableName": self.table, "Key": key(f"ORDER#{order_id}", "DELIVERY"),
                        "UpdateExpression": "SET mail_state = :sent, mail_message_id = :m, mail_sent_at = :at",
                        "ExpressionAttributeValues": values(sent="sent", m=message_id, at=now.isoformat())}},
            {"Put": {"TableName": self.table, "Item": marshal(
                {"pk": f"MAILMSG#{message_id}", "sk": "MAILMSG", "order_id": order_id})}},
        ])

    def mail_not_sent(self, order_id: str, *, final: bool, reason: str) -> None:
        """SES answered and did not take the mail: try again later, or stop."""
        self.db.update_item(TableName=self.table, Key=key(f"ORDER#{order_id}", "DELIVERY"),
                            UpdateExpression="SET mail_state = :s, mail_error = :r",
                            ExpressionAttributeValues=values(s="failed" if final else "retry", r=reason[:200]))

    # -- bounces and complaints --------------------------------------------------------------
    def order_of_message(self, message_id: str) -> str | None:
        item = self.db.get_item(TableName=self.table, Key=key(f"MAILMSG#{message_id}", "MAILMSG")).get("Item")
        return unmarshal(item)["order_id"] if item else None

    def record_mail_event(self, event: dict[str, Any]) -> bool:
        """Once per (message, time, type): a redelivered notification changes nothing."""
        item = {"pk": f"MAILEVENT#{event['message_id']}", "sk": f"{event['at']}#{event['type']}",
                "gsi1pk": MAIL_EVENTS_INDEX_KEY, "gsi1sk": event["at"], **event}
        try:
            self.db.put_item(TableName=self.table, Item=marshal(item), ConditionExpression="attribute_not_exists(pk)")
            return True
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise

    def mail_events(self, limit: int = 100) -> list[dict[str, Any]]:
        page = self.db.query(TableName=self.table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
                             ExpressionAttributeValues=values(p=MAIL_EVENTS_INDEX_KEY), ScanIndexForward=False,
                             Limit=limit)
        return [without_keys(unmarshal(item)) for item in page.get("Items", [])]
