"""The only place that mints a venue's AWS credentials.

Every venue-scoped request or job calls `venue_session(venue)` after the
caller was authorised for that venue; the session assumes the venue's own IAM
role, whose policy names only that venue's table and queues. Credentials are
cached per venue and refreshed shortly before they expire.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import boto3

from chalicelib.adapters import aws
from chalicelib.settings import get_settings

REFRESH_MARGIN_SECONDS = 300
SESSION_SECONDS = 3600


@dataclass
class _Cached:
    session: boto3.Session
    expires_at: float


_cache: dict[str, _Cached] = {}
_lock = threading.Lock()


def venue_role_arn(venue: str) -> str:
    settings = get_settings()
    account = settings.api_principal_arn.split(":")[4]
    return f"arn:aws:iam::{account}:role/loket-{settings.stage}-venue-{venue}"


def venue_table_name(venue: str) -> str:
    return f"loket-{get_settings().stage}-venue-{venue}"


def venue_session(venue: str, *, now: float | None = None) -> boto3.Session:
    now = time.time() if now is None else now
    with _lock:
        cached = _cache.get(venue)
        if cached and cached.expires_at - REFRESH_MARGIN_SECONDS > now:
            return cached.session
    credentials = aws.client("sts").assume_role(
        RoleArn=venue_role_arn(venue),
        RoleSessionName=f"loket-{venue}"[:64],
        DurationSeconds=SESSION_SECONDS,
    )["Credentials"]
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=get_settings().region,
    )
    with _lock:
        _cache[venue] = _Cached(session, credentials["Expiration"].timestamp())
    return session


def forget(venue: str) -> None:
    """Drop cached credentials, e.g. after offboarding."""
    with _lock:
        _cache.pop(venue, None)
