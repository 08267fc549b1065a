"""A venue's API keys: made, listed, rotated and revoked by its lead; checked by the route gate."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters import gateway_keys
from chalicelib.adapters.api_key_store import ApiKeyStore
from chalicelib.adapters.network_store import NetworkStore
from chalicelib.domain import api_keys as rules
from chalicelib.domain.model import utcnow
from chalicelib.errors import Forbidden, NotAuthenticated, NotFound, TooManyRequests

# Per key, locally and per Lambda instance (in AWS the usage plan is the limit across
# instances: docs/integrations.md). 10 requests a second with a burst of 20, as the plan.
RATE_PER_SECOND, RATE_BURST = 10, 10
_rate = rules.RateWindow(RATE_PER_SECOND, RATE_BURST)
_clock = time.time  # the rate window's clock (a test holds it still)
LAST_USED_GRANULARITY = timedelta(minutes=1)


def _store(network: NetworkStore) -> ApiKeyStore:
    return ApiKeyStore(network.db, network.table)


def _view(record: dict[str, Any], now: datetime) -> dict[str, Any]:
    shown = {k: record.get(k) for k in ("key_id", "label", "scopes", "prefix", "created_at", "last_used_at",
                                          "expires_at", "revoked_at", "rotated_to")}
    shown["active"] = rules.usable(record, now)
    return shown


def create(network: NetworkStore, venue: str, stage: str, request: rules.NewApiKey,
           now: datetime | None = None) -> dict[str, Any]:
    """The new key, with its secret: the only time anyone sees it."""
    moment = now or utcnow()
    secret = rules.new_secret(stage)
    record = {"key_id": rules.new_key_id(), "venue": venue, "label": request.label, "scopes": request.scopes,
              "prefix": rules.prefix_for(stage), "created_at": moment.isoformat()}
    # The usage plan's key first: the index never names a key that does not exist (a failed write
    # after it leaves an API Gateway key no Loket key maps to, which opens nothing).
    gateway_key_id = gateway_keys.create(record["key_id"])
    if gateway_key_id:
        record["gateway_key_id"] = gateway_key_id
    _store(network).create(record, rules.key_hash(secret))
    return {**_view(record, moment), "secret": secret}


def list_keys(network: NetworkStore, venue: str, now: datetime | None = None) -> list[dict[str, Any]]:
    moment = now or utcnow()
    keys = _store(network)
    shown = []
    for record in sorted(keys.of_venue(venue), key=lambda r: r["created_at"]):
        index = keys.by_hash(record["key_hash"]) if not record.get("revoked_at") else None
        shown.append(_view({**record, "last_used_at": (index or {}).get("last_used_at")}, moment))
    return shown


def _own(keys: ApiKeyStore, venue: str, key_id: str) -> dict[str, Any]:
    record = keys.get(venue, key_id)
    if record is None:
        raise NotFound("This venue has no such API key.")
    return record


def revoke(network: NetworkStore, venue: str, key_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Refused from the next request on: the gate reads the index on every request."""
    moment = now or utcnow()
    keys = _store(network)
    record = _own(keys, venue, key_id)
    if not record.get("revoked_at"):
        keys.revoke(venue, key_id, record["key_hash"], moment.isoformat())
        record["revoked_at"] = moment.isoformat()
    gateway_keys.delete(record.get("gateway_key_id"))  # after the gate refuses it; again on a repeat
    return _view(record, moment)


def rotate(network: NetworkStore, venue: str, stage: str, key_id: str, rotation: rules.Rotation,
           now: datetime | None = None) -> dict[str, Any]:
    """A new key with the same label and scopes; the old one keeps working for the overlap, then not."""
    moment = now or utcnow()
    keys = _store(network)
    old = _own(keys, venue, key_id)
    if not rules.usable(old, moment):
        raise NotFound("This key is revoked or expired; make a new one instead.")
    new = create(network, venue, stage, rules.NewApiKey(label=old["label"], scopes=old["scopes"]), moment)
    ends = moment + timedelta(minutes=rotation.overlap_minutes)
    keys.expire(venue, key_id, old["key_hash"], ends.isoformat(), int(ends.timestamp()) + 86400)
    if rotation.overlap_minutes == 0:
        gateway_keys.delete(old.get("gateway_key_id"))
    return {**new, "replaces": key_id, "old_key_works_until": ends.isoformat()}


def authenticate(network: NetworkStore, secret: str, venue: str, scope: str,
                 now: datetime | None = None) -> rules.ApiKeyCaller:
    """The gate's check of `Authorization: Bearer lk_...` for a route of `venue` needing `scope`."""
    moment = now or utcnow()
    if not rules.looks_like_key(secret):
        raise NotAuthenticated("Send your venue's API key as 'Authorization: Bearer lk_...'.")
    keys = _store(network)
    hashed = rules.key_hash(secret)
    record = identify(network, secret, moment)
    if record is None:
        raise NotAuthenticated("This API key is not valid: it was revoked, it expired after a rotation, or it "
                               "never existed.")
    if record["venue"] != venue:
        raise NotFound(f"There is no venue '{venue}'.")  # as for a missing venue: a 403 would confirm it exists
    if scope not in record["scopes"]:
        raise Forbidden(f"This API key lacks the scope '{scope}'. Its lead can make a key that has it.",
                        required_scope=scope)
    wait = _rate.take(record["key_id"], _clock())
    if wait:
        raise TooManyRequests(f"This API key may make {RATE_PER_SECOND} requests a second (bursts of "
                              f"{RATE_PER_SECOND + RATE_BURST}). Wait and send it again.", retry_after=wait)
    keys.touch(hashed, moment.isoformat(), (moment - LAST_USED_GRANULARITY).isoformat())
    return rules.ApiKeyCaller(key_id=record["key_id"], venue=record["venue"], scopes=record["scopes"])


def identify(network: NetworkStore, secret: str, now: datetime | None = None) -> dict[str, Any] | None:
    """The key's index record if `secret` is a usable key, else None. What the gate checks first, and
    all the API key authorizer (api/authorizer.py) asks: it decides nothing more."""
    if not rules.looks_like_key(secret):
        return None
    record = _store(network).by_hash(rules.key_hash(secret))
    return record if record is not None and rules.usable(record, now or utcnow()) else None
