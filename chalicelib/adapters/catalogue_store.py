"""Writes the public catalogue as static JSON into the site bucket.

Browsing reads these files from S3 (behind CloudFront); no Lambda runs.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

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


# S3 answers 403, not 404, for a missing key to a caller without
# s3:ListBucket, and the API may not list the site bucket. It may read every
# catalogue/ key, so here a 403 can only mean "not published".
_MISSING = {"NoSuchKey", "404", "AccessDenied", "403"}


def get_document(path: str) -> dict[str, Any] | None:
    try:
        body = aws.client("s3").get_object(Bucket=get_settings().site_bucket, Key=PREFIX + path)["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _MISSING:
            return None
        raise
    return json.loads(body)


def delete_document(path: str) -> None:
    aws.client("s3").delete_object(Bucket=get_settings().site_bucket, Key=PREFIX + path)
