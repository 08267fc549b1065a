"""Outgoing webhooks, the rules (docs/integrations.md "Outgoing webhooks"):
event types and their payload models, the Standard Webhooks signature, the
retry schedule, what an endpoint's answer means, which URLs may be called.
Plain Python and pydantic; nothing here opens a socket or touches AWS.
"""

import base64
import hashlib
import hmac
import ipaddress
import random
import re
import secrets
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.domain.model import Model, Strict

# -- event types and payloads --------------------------------------------------------------


class Resource(Model):
    """A resource as Loket shows it (an order, a ticket, an event, a
    performance): open, because the resource's own model describes it."""

    model_config = ConfigDict(extra="allow", defer_build=True)


class OrderPayload(Model):
    venue: str
    order: Resource


class TicketPayload(Model):
    venue: str
    ticket: Resource


class EventPayload(Model):
    venue: str
    event: Resource


class PerformancePayload(Model):
    venue: str
    event_id: str
    performance: Resource


class CustomerAnonymizedPayload(Model):
    venue: str
    customer_id: str
    order_ids: list[str]
    anonymized_at: str


class PingPayload(Model):
    venue: str
    endpoint_id: str
    message: str


# Event type -> the model of its `data` (read by the OpenAPI description).
WEBHOOK_EVENTS: dict[str, type[Model]] = {
    "order.created": OrderPayload,
    "order.paid": OrderPayload,
    "order.cancelled": OrderPayload,
    "order.refunded": OrderPayload,
    "ticket.checked_in": TicketPayload,
    "event.published": EventPayload,
    "event.updated": EventPayload,
    "performance.sold_out": PerformancePayload,
    "customer.anonymized": CustomerAnonymizedPayload,
}
PING = "webhook.ping"  # sent only on request, to one endpoint, whatever its filter

EventType = Literal[tuple(WEBHOOK_EVENTS)]  # type: ignore[valid-type]


class WebhookEvent(Model):
    """The body every endpoint receives (Standard Webhooks: type, timestamp, data)."""

    type: str
    timestamp: str
    data: dict[str, Any]


# -- management requests and answers -------------------------------------------------------
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=2000)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class NewEndpoint(Strict):
    url: Url
    description: Description = ""
    event_types: Annotated[list[EventType], Field(max_length=len(WEBHOOK_EVENTS))] = []  # empty: every type
    enabled: bool = True


class EndpointChange(Strict):
    url: Url | None = None
    description: Description | None = None
    event_types: Annotated[list[EventType], Field(max_length=len(WEBHOOK_EVENTS))] | None = None
    enabled: bool | None = None


class SecretRotation(Strict):
    overlap_hours: Annotated[int, Field(ge=0, le=7 * 24)] = 24


class Replay(Strict):
    endpoint_id: Annotated[str, StringConstraints(pattern=r"^ep_[a-f0-9]{16}$")]
    since: datetime
    until: datetime


class Endpoint(Model):
    """An endpoint as the lead sees it: never its secret."""

    endpoint_id: str
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None = None
    created_at: str
    secret_rotated_at: str | None = None


class EndpointWithSecret(Endpoint):
    secret: str  # shown once, on create and on rotation


class Delivery(Model):
    delivery_id: str
    event_id: str
    event_type: str
    endpoint_id: str
    status: Literal["pending", "succeeded", "retrying", "failed", "dead"]
    attempt: int
    response_code: int | None = None
    latency_ms: int | None = None
    response_excerpt: str = ""
    error: str | None = None
    next_attempt_at: str | None = None
    updated_at: str


def subscribed(event_types: list[str], event_type: str) -> bool:
    return event_type == PING or not event_types or event_type in event_types


# -- secrets and signatures (Standard Webhooks) ---------------------------------------------
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` with the secret's bytes."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(signing_secrets: list[str], message_id: str, timestamp: int, body: str) -> str:
    """Every live secret signs (space separated): a receiver holding either the
    old or the new secret during a rotation's overlap verifies."""
    return " ".join(sign(s, message_id, timestamp, body) for s in signing_secrets)


def live_secrets(stored: list[dict[str, Any]], now: datetime) -> list[str]:
    return [s["secret"] for s in stored if not s.get("expires_at") or datetime.fromisoformat(s["expires_at"]) > now]


def rotated(stored: list[dict[str, Any]], new: str, now: datetime, overlap: timedelta) -> list[dict[str, Any]]:
    """The new secret first; the current one signs on until the overlap ends; older ones are dropped."""
    kept = [{**s, "expires_at": s.get("expires_at") or (now + overlap).isoformat()}
            for s in stored if s["secret"] in live_secrets(stored, now)][:1]
    return [{"secret": new, "expires_at": None}] + ([s for s in kept] if overlap > timedelta(0) else [])


# -- retries ---------------------------------------------------------------------------------
# The Standard Webhooks example schedule: the wait before attempt n+1 (about 3 days in all).
SCHEDULE = (timedelta(0), timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
            timedelta(hours=5), timedelta(hours=10), timedelta(hours=14), timedelta(hours=20), timedelta(hours=24))
MAX_ATTEMPTS = len(SCHEDULE)
JITTER = 0.1  # +-10 %: endpoints that failed together do not all come back at the same second
SLOW_DOWN = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = timedelta(hours=24)


def next_delay(attempt: int, retry_after: timedelta | None = None, rng: random.Random | None = None) -> timedelta | None:
    """The wait after failed attempt `attempt` (1-based), or None when it was the last.
    A Retry-After longer than the schedule's wait is honoured (up to a day)."""
    if attempt >= MAX_ATTEMPTS:
        return None
    planned = SCHEDULE[attempt] * (1 + (rng or random).uniform(-JITTER, JITTER))
    if retry_after is not None:
        planned = max(planned, min(retry_after, MAX_RETRY_AFTER))
    return planned


Outcome = Literal["succeeded", "retry", "gone"]


def outcome(status: int | None) -> Outcome:
    """2xx delivered; 410 Gone: the receiver asks us to stop (endpoint disabled);
    anything else, a timeout or no connection: try again later."""
    if status is not None and 200 <= status < 300:
        return "succeeded"
    if status == 410:
        return "gone"
    return "retry"


def retry_after(status: int | None, header: str | None, now: datetime) -> timedelta | None:
    """Retry-After (seconds or an HTTP date) of a 429/502/503/504; other answers do not slow us down."""
    if status not in SLOW_DOWN or not header:
        return None
    header = header.strip()
    if header.isdigit():
        return timedelta(seconds=int(header))
    from email.utils import parsedate_to_datetime

    try:
        return max(timedelta(0), parsedate_to_datetime(header) - now)
    except (TypeError, ValueError):
        return None


EXCERPT_CHARS = 200
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]+")
_SECRETISH = re.compile(r"(whsec_|sk_|pk_|Bearer\s+)[A-Za-z0-9+/=_.-]+", re.IGNORECASE)


def excerpt(body: bytes) -> str:
    """A short, printable excerpt of an endpoint's answer for the delivery log:
    no control characters, no markup, nothing that looks like a credential."""
    text = body[: EXCERPT_CHARS * 4].decode("utf-8", "replace")
    text = re.sub(r"<[^>]*>", " ", text)
    text = _SECRETISH.sub(r"\1[removed]", _UNPRINTABLE.sub(" ", text))
    return " ".join(text.split())[:EXCERPT_CHARS]


# -- which URLs may be called ----------------------------------------------------------------
class UnsafeUrl(ValueError):
    pass


def parse_url(url: str, *, allow_insecure: bool) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable URL, else UnsafeUrl."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_insecure and parts.scheme == "http"):
        raise UnsafeUrl("The URL must start with https://.")
    if not parts.hostname or parts.username or parts.password:
        raise UnsafeUrl("The URL must name a host, without a user name or password.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeUrl("The URL's port is not a number.") from error
    return parts.scheme, parts.hostname, port


def check_addresses(addresses: list[str], *, allow_loopback: bool) -> list[str]:
    """The addresses a host resolved to, if every one is public (one private
    address among public ones is a way in, so all must pass)."""
    if not addresses:
        raise UnsafeUrl("The host does not resolve.")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if address.is_loopback and allow_loopback:
            continue
        if not address.is_global or address.is_multicast:
            raise UnsafeUrl("The URL must point to a public internet address, not a private, loopback or "
                            "link-local one.")
    return addresses


# -- for the OpenAPI description (api/openapi.py) ------------------------------------------------
# Models its description names, and its entries for the webhook routes: each for the
# lead (/venues/...) and for an API key with webhooks:manage (/v1/venues/...).
OPENAPI_MODELS: dict[str, type[Model]] = {
    "NewEndpoint": NewEndpoint, "EndpointChange": EndpointChange, "SecretRotation": SecretRotation,
    "Replay": Replay, "Endpoint": Endpoint, "EndpointWithSecret": EndpointWithSecret, "Delivery": Delivery}


def openapi_routes() -> dict[tuple[str, str], dict[str, Any]]:
    def ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{name}"}

    def listed(key: str, name: str) -> dict[str, Any]:
        return {"type": "object", "required": [key], "properties": {key: {"type": "array", "items": ref(name)}}}

    queued = {"type": "object", "properties": {"delivery_id": {"type": "string"}}}
    base = "/venues/{venue}/webhooks"
    routes = {
        ("GET", base + "/endpoints"): {"summary": "The venue's webhook endpoints (never their secrets)",
                                       "response": listed("endpoints", "Endpoint")},
        ("POST", base + "/endpoints"): {
            "summary": "Register a webhook endpoint (the whsec_ secret is shown once)", "request": "NewEndpoint",
            "response": ref("EndpointWithSecret"), "status": "201",
            "request_example": {"url": "https://crm.example.be/hooks/loket", "description": "CRM",
                                "event_types": ["order.paid", "order.cancelled"]}},
        ("PATCH", base + "/endpoints/{endpoint_id}"): {"summary": "Change an endpoint", "request": "EndpointChange",
                                                       "response": ref("Endpoint"), "status": "200"},
        ("DELETE", base + "/endpoints/{endpoint_id}"): {"summary": "Delete an endpoint",
                                                        "response": {"type": "object"}},
        ("POST", base + "/endpoints/{endpoint_id}/rotate-secret"): {
            "summary": "A new secret (shown once); the old one signs too until the overlap ends",
            "request": "SecretRotation", "response": ref("EndpointWithSecret"), "status": "200"},
        ("POST", base + "/endpoints/{endpoint_id}/ping"): {"summary": "Queue a webhook.ping to this endpoint",
                                                           "response": queued, "status": "202"},
        ("GET", base + "/deliveries"): {
            "summary": "The delivery log, newest first",
            "query": {"endpoint_id": {"type": "string"},
                      "status": {"type": "string", "enum": ["succeeded", "retrying", "failed", "dead"]}},
            "response": listed("deliveries", "Delivery")},
        ("POST", base + "/deliveries/{delivery_id}/resend"): {"summary": "Send one delivery's event again",
                                                              "response": queued, "status": "202"},
        ("POST", base + "/replay"): {"summary": "Send again every kept event of a time range to one endpoint",
                                     "request": "Replay", "status": "202", "response": {"type": "object"}},
    }
    return {**routes, **{(method, "/v1" + path): info for (method, path), info in routes.items()}}


def disabled_notice(*, venue_name: str, venue: str, endpoint_id: str, url: str, reason: str) -> tuple[str, str, str]:
    """The mail that tells a venue one of its endpoints was switched off: (subject, text, html). Dutch
    first, then English. Only the URL's host: its path or query may carry a token of the receiver."""
    from html import escape
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or "?"
    enable = f"PATCH /venues/{venue}/webhooks/endpoints/{endpoint_id} {{\"enabled\": true}}"
    replay = f"POST /venues/{venue}/webhooks/replay"
    subject = f"Webhook uitgeschakeld: {host} / Webhook endpoint disabled"
    text = (f"Beste {venue_name},\n\n"
            f"Loket heeft uw webhook-endpoint op {host} ({endpoint_id}) uitgeschakeld: {reason}\n"
            f"Er worden geen gebeurtenissen meer naartoe gestuurd. Zet het weer aan zodra het werkt "
            f"(als ticketingverantwoordelijke of met een API-sleutel met webhooks:manage):\n    {enable}\n"
            f"Gemiste gebeurtenissen van de voorbije 30 dagen stuurt u opnieuw met\n    {replay}\n\n"
            f"---\n\n"
            f"Loket disabled your webhook endpoint at {host} ({endpoint_id}): {reason}\n"
            f"No more events are sent to it. Enable it again once it works (as the ticketing lead, or with an "
            f"API key with webhooks:manage):\n    {enable}\n"
            f"Send the events it missed (kept 30 days) again with\n    {replay}\n")
    html = "".join(f"<p>{escape(paragraph).replace(chr(10), '<br>')}</p>" for paragraph in text.split("\n\n"))
    return subject, text, html
