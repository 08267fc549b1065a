"""Outgoing webhooks (docs/integrations.md "Outgoing webhooks"): a venue's
endpoints, emitting events after the fact is written, delivering them from
the venue's own queue with retries, the delivery log, resend and replay.

Every function works on one venue's store (its own role): the gate hands it
to the routes, `bootstrap.worker_store` to the worker. No event ever leaves
for an endpoint of another venue: endpoints are read from the event's own
venue table, on that venue's credentials.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib.adapters import venue_health
from chalicelib.adapters.webhook_store import WebhookStore
from chalicelib.domain import webhooks as rules
from chalicelib.domain.model import utcnow
from chalicelib.errors import IdempotencyKeyReused, InvalidInput, NotFound
from chalicelib.observability import logger
from chalicelib.settings import get_settings

DELIVERY_TIMEOUT_SECONDS = 15.0
# A claimed attempt whose worker went quiet for this long (the queue's 60 s
# visibility timeout) may be made again by the next receipt of its message.
CLAIM_LEASE_SECONDS = 60
INTERNAL_KEYS = {"pk", "sk", "gsi1pk", "gsi1sk", "ttl", "buyer_fingerprint", "fingerprint", "secret"}


def allow_loopback() -> bool:
    """http and loopback targets: local stage by default, or by configuration
    (LOKET_WEBHOOKS_ALLOW_LOOPBACK=1) for a test stage. Never otherwise."""
    setting = os.environ.get("LOKET_WEBHOOKS_ALLOW_LOOPBACK")
    if setting is not None:
        return setting == "1"
    return get_settings().is_local


def _store(store: Any) -> WebhookStore:
    return WebhookStore(store, get_settings().stage)


def _check_url(url: str) -> None:
    from chalicelib.adapters import webhook_http

    try:
        _scheme, host, port = rules.parse_url(url, allow_insecure=allow_loopback())
        rules.check_addresses(webhook_http.resolve(host, port), allow_loopback=allow_loopback())
    except rules.UnsafeUrl as unsafe:
        raise InvalidInput(str(unsafe), errors=[{"field": "url", "message": str(unsafe)}]) from unsafe


def _shown(endpoint: dict[str, Any]) -> dict[str, Any]:
    return rules.Endpoint.model_validate(endpoint).model_dump()


# -- endpoints -------------------------------------------------------------------------------
def list_endpoints(store: Any) -> list[dict[str, Any]]:
    return [_shown(e) for e in _store(store).endpoints()]


def create_endpoint(store: Any, new: rules.NewEndpoint, now: datetime | None = None,
                    idempotency_key: str | None = None) -> dict[str, Any]:
    """With an Idempotency-Key, a repeat answers the endpoint the first made (with its secret)."""
    _check_url(new.url)
    now = now or utcnow()
    webhooks = _store(store)
    endpoint_id = f"ep_{uuid.uuid4().hex[:16]}"
    if idempotency_key:
        endpoint_id = "ep_" + hashlib.sha256(f"{store.venue}:{idempotency_key}".encode()).hexdigest()[:16]
        earlier = webhooks.get_endpoint(endpoint_id)
        if earlier is not None:
            if (earlier["url"], earlier["description"], earlier["event_types"]) != \
                    (new.url, new.description, list(new.event_types)):
                raise IdempotencyKeyReused("This Idempotency-Key was already used to make another endpoint.")
            return {**_shown(earlier), "secret": earlier["secrets"][0]["secret"]}
    secret = rules.new_secret()
    endpoint = {"endpoint_id": endpoint_id, "url": new.url, "description": new.description,
                "event_types": list(new.event_types), "enabled": new.enabled, "created_at": now.isoformat(),
                "secrets": [{"secret": secret, "expires_at": None}]}
    webhooks.put_endpoint(endpoint)
    logger.info("webhook endpoint created", extra={"venue": store.venue, "endpoint_id": endpoint["endpoint_id"]})
    return {**_shown(endpoint), "secret": secret}


def _endpoint(webhooks: WebhookStore, endpoint_id: str) -> dict[str, Any]:
    endpoint = webhooks.get_endpoint(endpoint_id)
    if endpoint is None:
        raise NotFound(f"There is no webhook endpoint '{endpoint_id}'.")
    return endpoint


def update_endpoint(store: Any, endpoint_id: str, change: rules.EndpointChange) -> dict[str, Any]:
    webhooks = _store(store)
    _endpoint(webhooks, endpoint_id)
    changes = change.model_dump(exclude_unset=True, exclude_none=True)
    if "url" in changes:
        _check_url(changes["url"])
    if changes.get("enabled"):
        changes["disabled_reason"] = ""  # re-enabled by the lead: the old reason no longer holds
    if changes and not webhooks.update_endpoint(endpoint_id, **changes):
        raise NotFound(f"There is no webhook endpoint '{endpoint_id}'.")
    return _shown(_endpoint(webhooks, endpoint_id))


def delete_endpoint(store: Any, endpoint_id: str) -> None:
    if not _store(store).delete_endpoint(endpoint_id):
        raise NotFound(f"There is no webhook endpoint '{endpoint_id}'.")


def rotate_secret(store: Any, endpoint_id: str, rotation: rules.SecretRotation,
                  now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    webhooks = _store(store)
    endpoint = _endpoint(webhooks, endpoint_id)
    secret = rules.new_secret()
    webhooks.update_endpoint(endpoint_id, secrets=rules.rotated(endpoint["secrets"], secret, now,
                                                                timedelta(hours=rotation.overlap_hours)),
                             secret_rotated_at=now.isoformat())
    return {**_shown(_endpoint(webhooks, endpoint_id)), "secret": secret}


# -- events ----------------------------------------------------------------------------------
def event_id(venue: str, event_type: str, subject: str) -> str:
    """Derived from what happened: a fact emitted twice is one event for the receiver."""
    return "msg_" + uuid.uuid5(uuid.NAMESPACE_URL, f"loket:{venue}:{event_type}:{subject}").hex


def resource(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item as an integrator sees it: no storage keys or internal fingerprints."""
    return json.loads(json.dumps({k: v for k, v in item.items() if k not in INTERNAL_KEYS}, default=str))


def emit(store: Any, event_type: str, data: dict[str, Any], subject: str | None,
         now: datetime | None = None) -> str:
    """Called right after the fact is written, outside its transaction: the
    event goes to the venue's webhook queue; if the queue refuses, to the
    venue's outbox, which every minute's sweep sends on. Never raises: the
    request succeeded and keeps its answer."""
    if event_type not in rules.WEBHOOK_EVENTS:
        raise ValueError(f"unknown webhook event type {event_type}")
    # `subject`: what makes this fact one fact (an order id for order.paid); None for facts that
    # may happen again (an event's update, a performance selling out after returns).
    event = {"id": event_id(store.venue, event_type, subject or uuid.uuid4().hex), "type": event_type,
             "timestamp": (now or utcnow()).isoformat(), "data": {"venue": store.venue, **data}}
    try:
        webhooks = _store(store)
        try:
            webhooks.send(event)
        except Exception:  # noqa: BLE001 - kept in the table instead, sent by the sweep
            logger.warning("webhook event queued in the outbox", extra={"venue": store.venue, "type": event_type})
            webhooks.put_outbox(event)
    except Exception:  # noqa: BLE001 - the fact stands; the log says which event is missing
        logger.exception("webhook event lost", extra={"venue": store.venue, "type": event_type, "id": event["id"]})
    return event["id"]


def emit_safely(store: Any, event_type: str, data: dict[str, Any], subject: str | None) -> None:
    """The one-line hook for the sale path: never raises, whatever goes wrong."""
    try:
        emit(store, event_type, data, subject)
    except Exception:  # noqa: BLE001
        logger.exception("webhook event not emitted", extra={"venue": store.venue, "type": event_type})


def sweep_outbox(store: Any) -> int:
    webhooks = _store(store)
    sent = 0
    for event in webhooks.outbox():
        webhooks.send(event)
        webhooks.drop_outbox(event["id"])
        sent += 1
    return sent


# -- delivery ----------------------------------------------------------------------------------
def delivery_id(event_id_: str, endpoint_id: str) -> str:
    return "dlv_" + hashlib.sha256(f"{event_id_}:{endpoint_id}".encode()).hexdigest()[:24]


def handle_message(store: Any, message: dict[str, Any], now: datetime | None = None) -> None:
    """One message of the venue's webhook queue: a new event (fan out to every
    subscribed endpoint, first attempt now) or a retry/resend of one delivery."""
    now = now or utcnow()
    webhooks = _store(store)
    if message.get("kind") == "delivery":
        due = datetime.fromisoformat(message["due_at"])
        if due > now:  # longer than SQS's 15 minutes: wait again for what remains
            webhooks.send(message, (due - now).total_seconds())
            return
        endpoint = webhooks.get_endpoint(message["endpoint_id"])
        if endpoint is not None:
            attempt(webhooks, message["event"], endpoint, message["attempt"], now,
                    run=message.get("run", ""), first_at=message.get("first_at"))
        return
    webhooks.keep_event(message)
    for endpoint in webhooks.endpoints():
        if endpoint["enabled"] and rules.subscribed(endpoint["event_types"], message["type"]) \
                and message["type"] != rules.PING:
            attempt(webhooks, message, endpoint, 1, now)


def attempt(webhooks: WebhookStore, event: dict[str, Any], endpoint: dict[str, Any], number: int,
            now: datetime, *, run: str = "", first_at: str | None = None) -> str:
    """Send `event` to `endpoint` (attempt `number`) and decide what follows. Returns the delivery's status."""
    from chalicelib.adapters import webhook_http

    delivery = delivery_id(event["id"], endpoint["endpoint_id"])
    if webhooks.is_done(delivery, run):  # a redelivered queue message: the receiver has it already
        return "succeeded"
    if not endpoint["enabled"]:
        return "failed"
    if not webhooks.claim_attempt(delivery, run, number, now, CLAIM_LEASE_SECONDS):
        return "duplicate"
    first_at = first_at or now.isoformat()
    body = json.dumps({"type": event["type"], "timestamp": event["timestamp"], "data": event["data"]})
    timestamp = int(now.timestamp())
    headers = {"Content-Type": "application/json", "User-Agent": "Loket-Webhooks/1",
               "webhook-id": event["id"], "webhook-timestamp": str(timestamp),
               "webhook-signature": rules.signature_header(rules.live_secrets(endpoint["secrets"], now),
                                                           event["id"], timestamp, body)}
    try:
        answer = webhook_http.post(endpoint["url"], body, headers, timeout=DELIVERY_TIMEOUT_SECONDS,
                                   allow_loopback=allow_loopback())
    except rules.UnsafeUrl as unsafe:  # resolved to a private address since it was registered
        answer = webhook_http.Answer(None, 0, error=str(unsafe))
    result = rules.outcome(answer.status)
    record = {"delivery_id": delivery, "event_id": event["id"], "event_type": event["type"],
              "endpoint_id": endpoint["endpoint_id"], "attempt": number, "response_code": answer.status,
              "latency_ms": answer.latency_ms, "response_excerpt": rules.excerpt(answer.body), "error": answer.error,
              "updated_at": now.isoformat(), "first_at": first_at}
    history = {"attempt": number, "at": now.isoformat(), "response_code": answer.status,
               "latency_ms": answer.latency_ms, "error": answer.error}
    log = {"venue": webhooks.venue, "endpoint_id": endpoint["endpoint_id"], "delivery_id": delivery,
           "attempt": number, "response_code": answer.status, "latency_ms": answer.latency_ms}
    if result == "succeeded":
        webhooks.put_delivery({**record, "status": "succeeded"}, history)
        webhooks.mark_done(delivery, run)
        webhooks.update_endpoint(endpoint["endpoint_id"], last_success_at=now.isoformat())
        logger.info("webhook delivered", extra=log)
        return "succeeded"
    if result == "gone":
        webhooks.put_delivery({**record, "status": "failed"}, history)
        _disable(webhooks, endpoint, "The endpoint answered 410 Gone.", now)
        return "failed"
    wait = rules.next_delay(number, rules.retry_after(answer.status, answer.retry_after, now))
    if wait is None:
        webhooks.put_delivery({**record, "status": "dead"}, history)
        webhooks.dead_letter({"kind": "delivery", "event": event, "endpoint_id": endpoint["endpoint_id"],
                              "attempt": number, "run": run, "first_at": first_at})
        if (endpoint.get("last_success_at") or "") < first_at:  # nothing got through since this one began
            _disable(webhooks, endpoint, f"Every attempt since {first_at} failed.", now)
        logger.warning("webhook delivery gave up", extra=log)
        return "dead"
    due = now + wait
    webhooks.put_delivery({**record, "status": "retrying", "next_attempt_at": due.isoformat()}, history)
    webhooks.send({"kind": "delivery", "event": event, "endpoint_id": endpoint["endpoint_id"], "attempt": number + 1,
                   "due_at": due.isoformat(), "run": run, "first_at": first_at}, wait.total_seconds())
    logger.info("webhook delivery failed, will retry", extra=log)
    return "retrying"


def _disable(webhooks: WebhookStore, endpoint: dict[str, Any], reason: str, now: datetime) -> None:
    """Stop calling the endpoint and tell the venue, once per disable: a line on its health page and a
    mail to its contact address."""
    if not webhooks.disable_endpoint(endpoint["endpoint_id"], reason, now.isoformat()):
        return  # disabled already (a duplicated message, a second chain): told then
    venue_health.record_error(webhooks.db, webhooks.table, request_id=endpoint["endpoint_id"],
                              route=f"webhook endpoint {endpoint['endpoint_id']} disabled", kind="WebhookEndpointDisabled",
                              at=now)
    logger.warning("webhook endpoint disabled", extra={"venue": webhooks.venue, "endpoint_id": endpoint["endpoint_id"]})
    _mail_disabled(webhooks, endpoint, reason)


def _mail_disabled(webhooks: WebhookStore, endpoint: dict[str, Any], reason: str) -> None:
    """As the venue itself (its own mail identity, on its role), to its profile's reply-to address, as
    its buyers' mails are answered (services/order_delivery.py). No address, no mail: the health page
    still says it. A mail that fails is logged; the disable stands."""
    from chalicelib.adapters import mail

    try:
        profile = webhooks.store.get_profile()
        if profile is None or not profile.reply_to:
            logger.info("webhook endpoint disabled, venue has no contact address", extra={"venue": webhooks.venue})
            return
        subject, text, html = rules.disabled_notice(venue_name=profile.display_name, venue=webhooks.venue,
                                                    endpoint_id=endpoint["endpoint_id"], url=endpoint["url"],
                                                    reason=reason)
        mail.send(mail.venue_ses(webhooks.store), sender=mail.venue_sender(webhooks.venue, profile.display_name),
                  to=str(profile.reply_to), subject=subject, html=html, text=text,
                  headers={"X-Loket-Webhook-Endpoint": endpoint["endpoint_id"]})
    except Exception:  # noqa: BLE001
        logger.exception("mail about a disabled webhook endpoint not sent", extra={"venue": webhooks.venue})


# -- the lead's tools: log, ping, resend, replay ----------------------------------------------------
def list_deliveries(store: Any, endpoint_id: str | None = None, status: str | None = None,
                    limit: int = 100) -> list[dict[str, Any]]:
    found = [d for d in _store(store).deliveries()
             if (not endpoint_id or d["endpoint_id"] == endpoint_id) and (not status or d["status"] == status)]
    return [rules.Delivery.model_validate(d).model_dump() for d in found[:limit]]


def _queue_delivery(webhooks: WebhookStore, event: dict[str, Any], endpoint_id: str, now: datetime) -> str:
    run = uuid.uuid4().hex[:12]  # a resend is a new run: delivered again even after a success
    webhooks.send({"kind": "delivery", "event": event, "endpoint_id": endpoint_id, "attempt": 1,
                   "due_at": now.isoformat(), "run": run})
    return delivery_id(event["id"], endpoint_id)


def ping(store: Any, endpoint_id: str, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    webhooks = _store(store)
    _endpoint(webhooks, endpoint_id)
    event = {"id": f"msg_{uuid.uuid4().hex}", "type": rules.PING, "timestamp": now.isoformat(),
             "data": {"venue": store.venue, "endpoint_id": endpoint_id, "message": "Loket test ping"}}
    return {"delivery_id": _queue_delivery(webhooks, event, endpoint_id, now), "event_id": event["id"]}


def resend(store: Any, delivery: str, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    webhooks = _store(store)
    found = webhooks.get_delivery(delivery)
    if found is None:
        raise NotFound(f"There is no delivery '{delivery}'.")
    _endpoint(webhooks, found["endpoint_id"])
    events = [e for e in webhooks.events_between(datetime.fromisoformat(found["first_at"]) - timedelta(days=31), now)
              if e["id"] == found["event_id"]]
    if not events:
        raise NotFound("The event of this delivery is no longer kept (30 days).")
    return {"delivery_id": _queue_delivery(webhooks, events[0], found["endpoint_id"], now)}


def replay(store: Any, request: rules.Replay, now: datetime | None = None) -> dict[str, Any]:
    """Every kept event of the range that the endpoint subscribes to, sent again."""
    now = now or utcnow()
    # Without an offset a time is taken as UTC.
    since, until = (t if t.tzinfo else t.replace(tzinfo=timezone.utc) for t in (request.since, request.until))
    if until <= since:
        raise InvalidInput("'until' must be after 'since'.")
    webhooks = _store(store)
    endpoint = _endpoint(webhooks, request.endpoint_id)
    events = [e for e in webhooks.events_between(since.astimezone(timezone.utc), until.astimezone(timezone.utc))
              if rules.subscribed(endpoint["event_types"], e["type"])]
    ids = [_queue_delivery(webhooks, e, endpoint["endpoint_id"], now) for e in events]
    return {"endpoint_id": endpoint["endpoint_id"], "queued": len(ids), "delivery_ids": ids}
