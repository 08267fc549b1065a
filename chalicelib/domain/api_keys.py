"""A venue's API keys for its own integrations: scopes, the key's shape, its hash.

A key reads `lk_live_<random>` on the production stage and `lk_test_<random>`
on every other stage, so an integrator (and a secret scanner) can tell at a
glance which system a leaked key opens. Loket keeps only the key's SHA-256:
the key carries 256 random bits, so a fast hash is as safe as a slow one and
the gate can check a key with one lookup. The secret is shown once, when it
is made.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# What a key may be allowed to do. A route declares the one scope it needs.
SCOPES = ("catalogue:read", "events:write", "orders:read", "orders:write", "customers:read",
          "webhooks:manage", "reports:read", "checkin:write")
Scope = Literal["catalogue:read", "events:write", "orders:read", "orders:write", "customers:read",
                "webhooks:manage", "reports:read", "checkin:write"]

LIVE_STAGES = ("prod",)
PREFIXES = ("lk_live_", "lk_test_")

# How long the old key of a rotation keeps working unless the lead says otherwise:
# long enough to roll the new key out to every integration, short enough to matter.
DEFAULT_ROTATION_OVERLAP = timedelta(hours=24)
MAX_ROTATION_OVERLAP = timedelta(days=7)


def prefix_for(stage: str) -> str:
    return "lk_live_" if stage in LIVE_STAGES else "lk_test_"


def new_secret(stage: str) -> str:
    return prefix_for(stage) + secrets.token_urlsafe(32)


def new_key_id() -> str:
    return "key_" + secrets.token_hex(8)


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_key(value: str) -> bool:
    return value.startswith(PREFIXES) and 20 <= len(value) <= 128


class NewApiKey(BaseModel):
    """What a lead asks for: a label of their choosing (no personal data) and the scopes."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=80, examples=["Website agenda"])
    scopes: list[Scope] = Field(min_length=1, max_length=len(SCOPES), examples=[["catalogue:read", "orders:read"]])

    @field_validator("scopes")
    @classmethod
    def _unique(cls, scopes: list[str]) -> list[str]:
        return sorted(set(scopes))


class Rotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_minutes: int = Field(default=int(DEFAULT_ROTATION_OVERLAP.total_seconds() // 60), ge=0,
                                 le=int(MAX_ROTATION_OVERLAP.total_seconds() // 60))


class ApiKey(BaseModel):
    """A key as its lead sees it: never the secret."""

    key_id: str
    label: str
    scopes: list[str]
    prefix: str
    created_at: str
    last_used_at: str | None = None
    expires_at: str | None = None
    revoked_at: str | None = None
    rotated_to: str | None = None
    active: bool


class NewSecret(ApiKey):
    """The answer that carries the secret: the only one."""

    secret: str = Field(examples=["lk_test_9aQm3X…"])
    replaces: str | None = None
    old_key_works_until: str | None = None


class ApiKeyCaller(BaseModel):
    """Who called a route with a key: what the gate hands the view as `caller`."""

    key_id: str
    venue: str
    scopes: list[str]

    @property
    def username(self) -> str:  # the audit log's actor
        return self.key_id


def usable(record: dict, now: datetime) -> bool:
    """A key works until it is revoked or, after a rotation, its overlap ends."""
    if record.get("revoked_at"):
        return False
    expires = record.get("expires_at")
    return not expires or datetime.fromisoformat(expires) > now


class RateWindow:
    """A fixed one-second window counter per key: cheap, in process, no I/O.

    In AWS, API Gateway's usage plan is the per-key limit across every
    instance; this counter is what `chalice local` and the tests enforce, and a
    backstop per Lambda instance."""

    def __init__(self, per_second: int, burst: int) -> None:
        self.per_second, self.burst = per_second, burst
        self._counts: dict[str, tuple[int, int]] = {}
        # `chalice local` serves requests on threads: read-count-write must not interleave.
        self._lock = threading.Lock()

    def take(self, key_id: str, now: float) -> int:
        """0 if the request may go, else the seconds to wait."""
        with self._lock:
            return self._take(key_id, now)

    def _take(self, key_id: str, now: float) -> int:
        second = int(now)
        window, count = self._counts.get(key_id, (second, 0))
        if second > window:  # a request that read the clock before a newer one took the lock counts in the newer window
            window, count = second, 0
        if count >= self.per_second + self.burst:
            return 1
        self._counts[key_id] = (window, count + 1)
        if len(self._counts) > 10_000:  # forget old windows; a key that stops calling costs nothing
            self._counts = {k: v for k, v in self._counts.items() if v[0] == second}
        return 0
