"""A venue's table as files in S3, and back (docs/operations.md "Nothing lost").

The format is what DynamoDB's own S3 export writes (DYNAMODB_JSON: one
`{"Item": {...}}` per line, attribute values typed as DynamoDB types it), so
an operator can also load it with DynamoDB's import-from-S3 or read it with
any tool that knows that format. Export runs on the venue's own role (it may
scan its own table and write only its own prefix of the backups bucket);
restore on the operator's.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Iterator


def scan_items(db: Any, table: str) -> Iterator[dict[str, Any]]:
    """Every item, typed, with strongly consistent reads (nothing written
    before the export started is missed)."""
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = db.scan(**request)
        yield from page.get("Items", [])
        if not page.get("LastEvaluatedKey"):
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def lines_of(items: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps({"Item": item}, sort_keys=True) + "\n" for item in items).encode()


def write_export(s3: Any, bucket: str, prefix: str, items: list[dict[str, Any]], manifest: dict[str, Any]) -> dict:
    """items.jsonl, then manifest.json (written last: an export without a
    manifest is incomplete and restore refuses it)."""
    body = lines_of(items)
    s3.put_object(Bucket=bucket, Key=f"{prefix}/items.jsonl", Body=body, ContentType="application/x-ndjson")
    manifest = {**manifest, "items_key": f"{prefix}/items.jsonl", "sha256": hashlib.sha256(body).hexdigest(),
                "bytes": len(body)}
    s3.put_object(Bucket=bucket, Key=f"{prefix}/manifest.json", Body=json.dumps(manifest, indent=2).encode(),
                  ContentType="application/json")
    return manifest


def read_export(s3: Any, bucket: str, prefix: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The manifest and the typed items; refuses an export whose items do not
    match their manifest."""
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=f"{prefix}/manifest.json")["Body"].read())
    body = s3.get_object(Bucket=bucket, Key=manifest["items_key"])["Body"].read()
    if hashlib.sha256(body).hexdigest() != manifest["sha256"]:
        raise ValueError(f"export {prefix}: items.jsonl does not match its manifest")
    items = [json.loads(line)["Item"] for line in body.decode().splitlines() if line.strip()]
    if len(items) != manifest["item_count"]:
        raise ValueError(f"export {prefix}: {len(items)} items, the manifest says {manifest['item_count']}")
    return manifest, items


def write_items(db: Any, table: str, items: list[dict[str, Any]]) -> int:
    """Batch-write typed items (25 per call), retrying what DynamoDB leaves unprocessed."""
    written = 0
    for start in range(0, len(items), 25):
        request = {table: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
        for attempt in range(10):
            request = db.batch_write_item(RequestItems=request).get("UnprocessedItems") or None
            if not request:
                break
            time.sleep(min(1.0, 0.05 * 2 ** attempt))
        else:
            raise RuntimeError(f"DynamoDB left items of {table} unprocessed after 10 attempts")
        written += len(items[start:start + 25])
    return written
