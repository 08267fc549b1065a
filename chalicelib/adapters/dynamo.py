"""Thin helpers over the low-level DynamoDB client (thread-safe, unlike
boto3 resources): marshalling and recognising failed conditions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _dynamo_safe(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, list):
        return [_dynamo_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _dynamo_safe(v) for k, v in value.items() if v is not None}
    return value


def marshal(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_dynamo_safe(v)) for k, v in item.items() if v is not None}


def unmarshal(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


TABLE_KEYS = ("pk", "sk", "gsi1pk", "gsi1sk")


def without_keys(item: dict[str, Any]) -> dict[str, Any]:
    """An item as callers see it: the table's key attributes are storage detail."""
    return {k: v for k, v in item.items() if k not in TABLE_KEYS}


def values(**named: Any) -> dict[str, Any]:
    """ExpressionAttributeValues from keyword arguments: values(q=1) -> {':q': {'N': '1'}}."""
    return {f":{k}": _serializer.serialize(_dynamo_safe(v)) for k, v in named.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def written_if(write, **request: Any) -> bool:
    """A conditional write (`db.put_item`, `db.update_item`, ...): True if it
    was made, False if its condition was false; any other error is raised."""
    try:
        write(**request)
        return True
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise


def is_condition_failure(error: ClientError) -> bool:
    """A write refused because its condition was false: an answer about the
    data. A transaction cancelled for contention alone is not one (those are
    retried by the client, adapters/aws.py, and end in 503 if they persist)."""
    code = error.response.get("Error", {}).get("Code")
    if code == "TransactionCanceledException":
        return "ConditionalCheckFailed" in cancellation_reasons(error)
    return code == "ConditionalCheckFailedException"


def cancellation_reasons(error: ClientError) -> list[str]:
    """Per-item codes of a cancelled transaction ('None', 'ConditionalCheckFailed', ...)."""
    reasons = error.response.get("CancellationReasons")
    if reasons:
        return [r.get("Code", "None") for r in reasons]
    message = error.response.get("Error", {}).get("Message", "")
    if "[" in message:  # moto and older SDKs only put them in the message
        return [r.strip() for r in message[message.rindex("[") + 1 : message.rindex("]")].split(",")]
    return []


def query_all(client: Any, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = client.query(**kwargs)
        items.extend(unmarshal(i) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
