"""Writes the public catalogue as static JSON into the site bucket.

Browsing reads these files from S3 (behind CloudFront); no Lambda runs.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters import aws
from chalicelib.settings import get_settings

PREFIX = "catalogue/"


def put_document(path: str, document: dict[str, Any], *, max_age: int = 60) -> None:
    aws.client("s3").put_object(
        Bucket=get_settings().site_bucket,
        Key=PREFIX + path,
        Body=json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode(),
        ContentType="application/json; charset=utf-8",
        CacheControl=f"public, max-age={max_age}",
    )


def get_document(path: str) -> dict[str, Any] | None:
    s3 = aws.client("s3")
    try:
        body = s3.get_object(Bucket=get_settings().site_bucket, Key=PREFIX + path)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    return json.loads(body)


def delete_document(path: str) -> None:
    aws.client("s3").delete_object(Bucket=get_settings().site_bucket, Key=PREFIX + path)
