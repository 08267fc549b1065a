"""'My tickets' without an account: the one-time link and the short session it opens.

Both are bearer values in the buyer's hands that carry the e-mail address
*encrypted* (AES-256-GCM under a key derived from the stage's token key, one
key per purpose), so a link that lands in a mail server's log, a proxy log or
the browser history shows no address, and a changed character makes it
worthless. The link carries a random id; using it once writes a marker under
that id (no personal data) in the network table, which makes it single use.
The session that the link opens is the same kind of value with another
purpose and a longer life: a reload works, the link is not reusable, and a
session can never be passed off as a link (or the reverse).

Rate limits are counted in windows of fixed length; a client is counted under
a keyed hash of its address *and the window*, so the counters cannot be
linked to one another or to an address without the server's key
(docs/my-tickets.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

LANGUAGES = ("nl", "fr", "en")
LINK_SECONDS = 15 * 60
SESSION_SECONDS = 30 * 60
LINK = "my-tickets-link"
SESSION = "my-tickets-session"

# A request for a link: per client (answered 429) and per known address (silent).
CLIENT_WINDOW_SECONDS = 15 * 60
LINKS_PER_CLIENT = 5
ADDRESS_WINDOW_SECONDS = 15 * 60
LINKS_PER_ADDRESS = 3
# Re-sending an order's confirmation: once per order per this many seconds.
RESEND_COOLDOWN_SECONDS = 10 * 60

_ID_BYTES, _NONCE_BYTES = 16, 12
_MAX_TOKEN_CHARS = 600


@dataclass(frozen=True)
class Opened:
    token_id: str
    email: str
    language: str
    expires_at: int


class TokenExpired(Exception):
    """Genuine, but past its expiry."""


def normalise_email(email: str) -> str:
    """As customer ids are keyed (domain/tickets.py customer_id)."""
    return email.strip().lower()


def language_or_default(language: str | None) -> str:
    return language if language in LANGUAGES else LANGUAGES[0]


def _key(server_key: bytes, purpose: str) -> bytes:
    return hmac.new(server_key, f"aead-key\x00{purpose}".encode(), hashlib.sha256).digest()


def _text(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _bytes(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(server_key: bytes, purpose: str, email: str, language: str, expires_at: int) -> str:
    """A new bearer value for `purpose` (LINK or SESSION) that opens to this address until `expires_at`."""
    token_id, nonce = secrets.token_bytes(_ID_BYTES), secrets.token_bytes(_NONCE_BYTES)
    plain = json.dumps({"e": normalise_email(email), "l": language_or_default(language), "x": int(expires_at)},
                       separators=(",", ":")).encode()
    sealed = AESGCM(_key(server_key, purpose)).encrypt(nonce, plain, purpose.encode() + token_id)
    return _text(token_id + nonce + sealed)


def open_token(server_key: bytes, purpose: str, token: str | None, now: float) -> Opened | None:
    """What a genuine value says; None if it is not one (forged, changed, another purpose).
    Raises TokenExpired for a genuine one past its expiry."""
    if not token or len(token) > _MAX_TOKEN_CHARS:
        return None
    try:
        raw = _bytes(token)
    except (binascii.Error, ValueError):
        return None
    token_id, nonce, sealed = raw[:_ID_BYTES], raw[_ID_BYTES:_ID_BYTES + _NONCE_BYTES], raw[_ID_BYTES + _NONCE_BYTES:]
    if len(sealed) <= 16:
        return None
    try:
        plain = json.loads(AESGCM(_key(server_key, purpose)).decrypt(nonce, sealed, purpose.encode() + token_id))
    except (InvalidTag, ValueError):
        return None
    if int(plain["x"]) <= now:
        raise TokenExpired()
    return Opened(token_id=token_id.hex(), email=plain["e"], language=plain["l"], expires_at=int(plain["x"]))


def window(now: float, seconds: int) -> tuple[int, int]:
    """(start of the fixed window `now` falls in, seconds until the next one)."""
    start = int(now) // seconds * seconds
    return start, max(1, start + seconds - int(now))


def client_key(server_key: bytes, client: str, window_start: int) -> str:
    """A client's counter name for one window: not linkable to the address or to other windows without the key."""
    return hmac.new(server_key, f"my-tickets-client\x00{window_start}\x00{client}".encode(), hashlib.sha256).hexdigest()[:32]
