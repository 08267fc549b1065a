"""Bearer values the buyer holds: unguessable without the server's key.

A buyer session ties reservations to the browser that made them; basket ids
and basket tokens derive from the checkout's Idempotency-Key *and* the
server's key, so a predictable key, or a log that recorded the header, gives
nobody a basket. Only hashes of bearer values are stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SESSION_BYTES = 18


def _mac(key: bytes, purpose: str, value: str) -> bytes:
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()


def _text(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def new_buyer_session(key: bytes) -> str:
    session = secrets.token_urlsafe(SESSION_BYTES)
    return f"{session}.{_text(_mac(key, 'buyer-session', session))[:22]}"


def buyer_of(key: bytes, session: str | None) -> str | None:
    """The stored identity (a hash) of a session this server issued; None otherwise."""
    if not session or session.count(".") != 1 or len(session) > 100:
        return None
    value, signature = session.split(".")
    if not hmac.compare_digest(signature, _text(_mac(key, "buyer-session", value))[:22]):
        return None
    return hashlib.sha256(session.encode()).hexdigest()[:32]


def derived_id(key: bytes, *parts: str) -> str:
    """The same id for the same request parts, unpredictable without the key."""
    return _mac(key, "id", "/".join(parts)).hex()[:32]


def basket_token(key: bytes, idempotency_key: str) -> str:
    """The buyer's key to their order: a retried checkout whose answer was lost gets the same one."""
    return _text(_mac(key, "basket-token", idempotency_key))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def queue_token(key: bytes, entry_id: str, event_id: str, performance_id: str, buyer: str, expires_at: int) -> str:
    """A place in a waiting room's line, for the buyer session that joined.

    It names the entry and its performance and (by its signature) the buyer
    session: forged, expired or used with another session, it is refused.
    The place itself (the position) is kept server-side with the entry, so no
    token can claim a better one."""
    body = f"{entry_id}.{event_id}.{performance_id}.{expires_at}"
    return f"{body}.{_text(_mac(key, 'queue', f'{body}.{buyer}'))}"


def verify_queue_token(key: bytes, token: str | None, buyer: str | None, now: int) -> tuple[str, str, str] | None:
    """(entry_id, event_id, performance_id) of a valid token for this buyer; None otherwise."""
    if not token or not buyer or token.count(".") != 4 or len(token) > 300:
        return None
    entry_id, event_id, performance_id, expires_at, signature = token.split(".")
    body = f"{entry_id}.{event_id}.{performance_id}.{expires_at}"
    if not hmac.compare_digest(signature, _text(_mac(key, "queue", f"{body}.{buyer}"))):
        return None
    if not expires_at.isdigit() or int(expires_at) <= now:
        return None
    return entry_id, event_id, performance_id
