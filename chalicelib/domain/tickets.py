"""Ticket codes that cannot be forged or guessed.

A code is `<ticket id>-<signature>`: the signature is an HMAC-SHA256 of the
venue and ticket id under the venue's own secret, so changing any character
makes it invalid, and one venue's key says nothing about another's tickets.
Customer ids are keyed hashes of the e-mail address under the same secret:
stable within a venue, meaningless across venues.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SIGNATURE_CHARS = 16


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def new_ticket_id() -> str:
    return _b32(secrets.token_bytes(10))  # 16 characters


def derived_ticket_id(secret: bytes, *parts: object) -> str:
    """A ticket id that is the same every time for the same place of an order
    (so re-issuing after a crash writes the same ticket) and unguessable
    without the venue's secret."""
    seed = hmac.new(secret, ("ticket:" + ":".join(map(str, parts))).encode(), hashlib.sha256).digest()
    return _b32(seed[:10])


def sign(venue: str, ticket_id: str, key: bytes) -> str:
    mac = hmac.new(key, f"{venue}:{ticket_id}".encode(), hashlib.sha256).digest()
    return f"{ticket_id}-{_b32(mac)[:SIGNATURE_CHARS]}"


def verify(venue: str, code: str, key: bytes) -> str | None:
    """The ticket id if `code` was signed by this venue, else None."""
    ticket_id, _, _ = code.strip().upper().partition("-")
    if not ticket_id or not code.isascii():  # compare_digest refuses non-ASCII text: such a code is no code
        return None
    return ticket_id if hmac.compare_digest(sign(venue, ticket_id, key), code.strip().upper()) else None


def customer_id(email: str, key: bytes) -> str:
    return hmac.new(key, b"customer:" + email.strip().lower().encode(), hashlib.sha256).hexdigest()[:24]
