"""Outgoing webhooks as an integrator meets them (docs/integrations.md
"Outgoing webhooks"): real HTTP receivers on 127.0.0.1 (the local stage
allows loopback), each venue's own moto queue drained by the worker on the
venue's own role, signatures checked with the independent `standardwebhooks`
package. Time is injected: a retry is handled at the moment its queue
message says it is due, so three days of backoff take a second."""

from __future__ import annotations

import json
import statistics
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import standardwebhooks

from chalicelib import bootstrap
from chalicelib.adapters import webhook_http, webhook_store
from chalicelib.domain import webhooks as rules
from chalicelib.services import webhooks as service
from chalicelib.workers import webhooks as worker
from local.runner import consume_webhooks, drain, webhook_queue_url
from waiting import until

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


class Receiver:
    """An integrator's endpoint: records every request; answers from a script
    (status, headers, body) or, with `hang`, never in time."""

    def __init__(self, answers=None, hang: float = 0.0) -> None:
        self.answers = list(answers or [])
        self.hang = hang
        self.closed = threading.Event()  # a hanging answer ends when the test is done with the receiver
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body.decode(),
                                          "arrived": time.monotonic()})
                if receiver.hang:  # an endpoint that answers after the sender's timeout (or never)
                    receiver.closed.wait(receiver.hang)
                status, headers, text = receiver.answers.pop(0) if receiver.answers else (200, {}, "ok")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/loket"

    def close(self) -> None:
        self.closed.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(*args, **kwargs) -> Receiver:
        made.append(Receiver(*args, **kwargs))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def venues(api, monkeypatch):
    """Venues with no endpoints and empty webhook queues; SQS delays off (the
    handler below injects the time instead)."""
    monkeypatch.setattr(webhook_store, "SQS_MAX_DELAY_SECONDS", 0)
    used = ["stadsloket", "concertzaal", "cc-reien"]
    for venue in used:
        store = bootstrap.worker_store(venue)
        for endpoint in service.list_endpoints(store):
            service.delete_endpoint(store, endpoint["endpoint_id"])
        drain(webhook_queue_url(venue), lambda event, context: {})
    return used


def run_queue(venue: str, now: datetime = T0) -> list[datetime]:
    """Drain the venue's webhook queue; each message is handled when it is due
    (its `due_at`), as SQS's delay would hand it over. Returns those moments."""
    moments: list[datetime] = []

    def handler(event, context):
        failures = []
        for record in event["Records"]:
            body = json.loads(record["body"])
            at = max(now, datetime.fromisoformat(body["due_at"])) if "due_at" in body else now
            moments.append(at)
            failures += worker.handle({"Records": [record]}, context, now=at)["batchItemFailures"]
        return {"batchItemFailures": failures}

    drain(webhook_queue_url(venue), handler, max_batches=200)
    return moments


def endpoint(api, venue: str, url: str, **fields) -> dict:
    answer = api.call("POST", f"/venues/{venue}/webhooks/endpoints", {"url": url, **fields},
                      token=api.token(f"{venue}-lead"))
    assert answer.status_code == 201, answer.data
    return answer.data


def order_paid(venue: str, order_id: str = "ord_1", at: datetime = T0) -> str:
    return service.emit(bootstrap.worker_store(venue), "order.paid",
                        {"order": {"order_id": order_id, "status": "paid", "total": 2500}}, order_id, now=at)


def dead_letters(venue: str) -> list[dict]:
    """Take every message out of the venue's webhook DLQ (read on the venue's own role)."""
    store = bootstrap.worker_store(venue)
    sqs, url = store.session.client("sqs"), webhook_store.WebhookStore(store, "local").queue_url("webhooks_dead_letters")
    # By content: the local stack's injected duplicates (sqs_duplicate) are second copies with ids of their own.
    taken: dict[str, dict] = {}
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            taken[message["Body"]] = json.loads(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return list(taken.values())


def verified(secret: str, request: dict) -> dict:
    """What the independent library makes of a request (raises if the signature is wrong)."""
    headers = {k.lower(): v for k, v in request["headers"].items()}
    timestamp = datetime.fromtimestamp(int(headers["webhook-timestamp"]), timezone.utc)
    webhook = standardwebhooks.Webhook(secret)
    # The library checks the timestamp against its own clock: ours is injected.
    webhook_verify = webhook.verify
    import standardwebhooks.webhooks as library

    original = library.datetime
    class Frozen(original):  # noqa: E306
        @classmethod
        def now(cls, tz=None):
            return timestamp.astimezone(tz) if tz else timestamp.replace(tzinfo=None)
    library.datetime = Frozen
    try:
        return webhook_verify(request["body"], headers)
    finally:
        library.datetime = original


# -- endpoints --------------------------------------------------------------------------------
def test_a_lead_manages_endpoints_and_sees_the_secret_once(api, venues, receivers):
    lead = api.token("stadsloket-lead")
    created = endpoint(api, "stadsloket", receivers().url, description="CRM", event_types=["order.paid"])
    assert created["secret"].startswith("whsec_") and created["event_types"] == ["order.paid"]

    listed = api.call("GET", "/venues/stadsloket/webhooks/endpoints", token=lead).data["endpoints"]
    assert [e["endpoint_id"] for e in listed] == [created["endpoint_id"]]
    assert "whsec_" not in json.dumps(listed) and all("secret" not in e for e in listed)

    path = f"/venues/stadsloket/webhooks/endpoints/{created['endpoint_id']}"
    changed = api.call("PATCH", path, {"description": "Boekhouding", "enabled": False}, token=lead)
    assert changed.status_code == 200 and changed.data["enabled"] is False and "secret" not in changed.data
    assert api.call("PATCH", path, {"event_types": ["order.nonsense"]}, token=lead).status_code == 422
    # A clerk may not; another venue's lead does not even see it exists.
    assert api.call("GET", "/venues/stadsloket/webhooks/endpoints", token=api.token("stadsloket-kassa")).status_code == 403
    assert api.call("DELETE", path, token=api.token("concertzaal-lead")).status_code == 404
    assert api.call("DELETE", path, token=lead).status_code == 200
    assert api.call("DELETE", path, token=lead).status_code == 404


def test_url_rules_in_production():
    allow = {"allow_loopback": False}
    for private in (["10.0.0.8"], ["192.168.1.4"], ["127.0.0.1"], ["169.254.169.254"], ["::1"], ["fe80::1"],
                    ["::ffff:10.0.0.1"], ["100.64.0.1"], ["93.184.216.34", "10.0.0.8"], []):
        with pytest.raises(rules.UnsafeUrl):
            rules.check_addresses(private, **allow)
    assert rules.check_addresses(["93.184.216.34", "2606:2800:220:1::1"], **allow)
    assert rules.check_addresses(["127.0.0.1"], allow_loopback=True)
    with pytest.raises(rules.UnsafeUrl):
        rules.parse_url("http://example.com/hook", allow_insecure=False)
    with pytest.raises(rules.UnsafeUrl):
        rules.parse_url("https://user:pw@example.com/hook", allow_insecure=False)
    assert rules.parse_url("https://example.com:8443/hook", allow_insecure=False) == ("https", "example.com", 8443)


def test_private_targets_are_refused_at_registration_and_again_at_delivery(api, venues, receivers, monkeypatch):
    receiver = receivers()
    created = endpoint(api, "stadsloket", receiver.url)  # loopback allowed on the local stage
    monkeypatch.setenv("LOKET_WEBHOOKS_ALLOW_LOOPBACK", "0")  # production rules from here on
    lead = api.token("stadsloket-lead")
    for url in ("https://127.0.0.1/hook", "https://169.254.169.254/latest/meta-data", "https://10.1.2.3/",
                "http://example.com/hook", "https://localhost/hook"):
        answer = api.call("POST", "/venues/stadsloket/webhooks/endpoints", {"url": url}, token=lead)
        assert answer.status_code == 422, (url, answer.data)
    # The registered host now resolves to a private address (DNS rebinding): no request leaves.
    monkeypatch.delenv("LOKET_WEBHOOKS_ALLOW_LOOPBACK")
    monkeypatch.setattr(webhook_http, "resolve", lambda host, port: ["10.0.0.7"])
    order_paid("stadsloket", "ord_rebind")
    run_queue("stadsloket")
    assert receiver.requests == []
    delivery = service.list_deliveries(bootstrap.worker_store("stadsloket"), created["endpoint_id"])[0]
    assert delivery["status"] == "dead" and "public internet address" in delivery["error"]


def test_an_integration_manages_endpoints_with_the_webhooks_scope(api, venues, receivers):
    lead = api.token("stadsloket-lead")
    keys = {}
    for scopes in (["webhooks:manage"], ["orders:read"]):
        made = api.call("POST", "/venues/stadsloket/api-keys", {"label": f"crm {scopes[0]}", "scopes": scopes},
                        token=lead)
        assert made.status_code == 201, made.data
        keys[scopes[0]] = made.data["secret"]
    body, url = {"url": receivers().url}, "/v1/venues/stadsloket/webhooks/endpoints"
    first = api.call("POST", url, body, token=keys["webhooks:manage"], headers={"Idempotency-Key": "crm-setup-0001"})
    again = api.call("POST", url, body, token=keys["webhooks:manage"], headers={"Idempotency-Key": "crm-setup-0001"})
    assert first.status_code == 201 and again.data == first.data  # a retried create makes one endpoint
    assert api.call("GET", url, token=keys["orders:read"]).status_code == 403
    assert api.call("GET", "/v1/venues/concertzaal/webhooks/endpoints", token=keys["webhooks:manage"]).status_code == 404
    listed = api.call("GET", url, token=keys["webhooks:manage"]).data["endpoints"]
    assert [e["endpoint_id"] for e in listed] == [first.data["endpoint_id"]]


# -- delivery -----------------------------------------------------------------------------------
def test_signed_events_reach_only_their_venues_subscribed_endpoints(api, venues, receivers):
    mine, filtered, neighbour = receivers(), receivers(), receivers()
    secret = endpoint(api, "stadsloket", mine.url)["secret"]
    endpoint(api, "stadsloket", filtered.url, event_types=["event.published"])
    endpoint(api, "concertzaal", neighbour.url)

    event_id = order_paid("stadsloket", "ord_42")
    run_queue("stadsloket")
    run_queue("concertzaal")

    assert len(mine.requests) == 1 and filtered.requests == [] and neighbour.requests == []
    request = mine.requests[0]
    payload = verified(secret, request)
    assert payload["type"] == "order.paid" and payload["data"]["venue"] == "stadsloket"
    assert payload["data"]["order"]["order_id"] == "ord_42"  # the resource, not only its id
    assert request["headers"]["webhook-id"] == event_id
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        verified(rules.new_secret(), request)


def test_the_sale_path_emits_its_events_with_the_resources(api, venues, receivers):
    receiver = receivers()
    secret = endpoint(api, "stadsloket", receiver.url)["secret"]
    event = api.new_event("stadsloket", capacity=2)
    bought = api.buy(event, quantity=2)  # the last two places: the performance sells out
    run_queue("stadsloket", datetime.now(timezone.utc))

    received = [verified(secret, r) for r in receiver.requests]
    by_type = {}
    for payload in received:
        by_type.setdefault(payload["type"], []).append(payload["data"])
    assert {"event.published", "order.created", "order.paid", "performance.sold_out"} <= set(by_type)
    assert by_type["event.published"][0]["event"]["event_id"] == event["event_id"]
    order_id = bought["basket"]["orders"][0]["order_id"]
    paid = by_type["order.paid"][0]["order"]
    assert paid["order_id"] == order_id and paid["status"] == "paid" and paid["lines"][0]["quantity"] == 2
    assert "an.peeters@example.be" not in json.dumps(received)  # orders as the API shows them: no buyer
    assert by_type["performance.sold_out"][0]["performance"]["performance_id"] == event["performance_id"]

    # At the door: one ticket.checked_in per ticket, however often it is scanned.
    code = bought["basket"]["orders"][0]["tickets"][0]["code"]
    for _ in range(2):
        api.call("POST", "/venues/stadsloket/tickets/check", {
            "code": code, "performance_id": event["performance_id"], "door": "Hoofdingang",
            "nonce": uuid.uuid4().hex, "scanned_at": datetime.now(timezone.utc).isoformat()},
            token=api.token("stadsloket-kassa"))
    run_queue("stadsloket", datetime.now(timezone.utc))
    admitted = [verified(secret, r)["data"] for r in receiver.requests[len(received):]]
    assert [a["ticket"]["result"] for a in admitted] == ["valid"]
    assert admitted[0]["ticket"]["performance_id"] == event["performance_id"]


def test_a_counter_cancel_and_an_event_change_are_announced(api, venues, receivers):
    receiver = receivers()
    secret = endpoint(api, "stadsloket", receiver.url, event_types=["order.cancelled", "order.refunded",
                                                                     "event.updated"])["secret"]
    clerk, lead = api.token("stadsloket-kassa"), api.token("stadsloket-lead")
    event = api.new_event("stadsloket", capacity=10, days=10)
    if api.call("GET", "/venues/stadsloket/box-office/shift", token=clerk).data["shift"] is None:
        assert api.call("POST", "/venues/stadsloket/box-office/shift", {"float": 10000}, token=clerk).status_code == 201
    sale = api.call("POST", "/venues/stadsloket/box-office/sales", {
        "event_id": event["event_id"], "performance_id": event["performance_id"],
        "tickets": [{"price_type": "normaal", "quantity": 2}], "method": "cash"}, token=clerk,
        headers={"Idempotency-Key": str(uuid.uuid4())})
    assert sale.status_code == 201, sale.data
    order_id = sale.data["order_id"]
    cancelled = api.call("POST", f"/venues/stadsloket/box-office/orders/{order_id}/cancel", token=clerk)
    assert cancelled.status_code == 200, cancelled.data
    changed = api.call("PUT", f"/venues/stadsloket/events/{event['event_id']}", {
        "title": "Nieuwe titel", "hall": "Grote zaal",
        "price_types": [{"code": "normaal", "label": "Normaal", "amount": 2500}]}, token=lead)
    assert changed.status_code == 200, changed.data
    run_queue("stadsloket", datetime.now(timezone.utc))

    received = {p["type"]: p["data"] for p in (verified(secret, r) for r in receiver.requests)}
    assert set(received) == {"order.cancelled", "order.refunded", "event.updated"}
    assert received["order.cancelled"]["order"]["order_id"] == order_id
    assert received["order.cancelled"]["order"]["status"] == "cancelled"
    assert received["order.refunded"]["refunded"] == 5000
    assert received["event.updated"]["event"]["title"] == "Nieuwe titel"


def test_an_erasure_is_announced_as_customer_anonymized(api, venues, receivers):
    receiver = receivers()
    secret = endpoint(api, "stadsloket", receiver.url, event_types=["customer.anonymized"])["secret"]
    email = f"wis.mij.{uuid.uuid4().hex[:6]}@example.be"
    order_id = api.buy(api.new_event("stadsloket"), email=email)["basket"]["orders"][0]["order_id"]
    erased = api.call("POST", "/venues/stadsloket/privacy/erasures",
                      {"email": email, "confirm": True, "reason": "asked by the buyer"},
                      token=api.token("stadsloket-lead"))
    assert erased.status_code == 200, erased.data
    run_queue("stadsloket", datetime.now(timezone.utc))
    [announced] = [verified(secret, r) for r in receiver.requests]
    assert announced["type"] == "customer.anonymized" and announced["data"]["order_ids"] == [order_id]
    assert email not in json.dumps(announced)


def test_an_event_the_queue_refused_is_sent_by_the_sweep(api, venues, receivers, monkeypatch):
    receiver = receivers()
    endpoint(api, "stadsloket", receiver.url)
    monkeypatch.setattr(webhook_store.WebhookStore, "send", lambda self, *a, **k: 1 / 0)
    order_paid("stadsloket", "ord_outboxed")
    monkeypatch.undo()
    monkeypatch.setattr(webhook_store, "SQS_MAX_DELAY_SECONDS", 0)
    run_queue("stadsloket")
    assert receiver.requests == []
    assert service.sweep_outbox(bootstrap.worker_store("stadsloket")) == 1
    run_queue("stadsloket")
    assert [json.loads(r["body"])["data"]["order"]["order_id"] for r in receiver.requests] == ["ord_outboxed"]


def test_a_redelivered_queue_message_is_not_delivered_again(api, venues, receivers):
    receiver = receivers()
    endpoint(api, "stadsloket", receiver.url)
    order_paid("stadsloket", "ord_twice")
    url = webhook_queue_url("stadsloket")
    kept = []

    def handle_twice(event, context):  # SQS handed the same message over twice (at-least-once)
        kept.append(event)
        worker.handle(event, context, now=T0)
        return worker.handle(event, context, now=T0)

    drain(url, handle_twice)
    assert len(kept) == 1 and len(receiver.requests) == 1
    order_paid("stadsloket", "ord_twice")  # the sale path emitted the same fact again
    run_queue("stadsloket")
    assert len(receiver.requests) == 1


def test_retries_follow_the_schedule_then_the_dlq_and_the_endpoint_is_disabled(api, venues, receivers):
    receiver = receivers([(500, {}, "<html><b>Internal error</b> token whsec_abcdef0123 \x00\x07</html>")] * 20)
    created = endpoint(api, "stadsloket", receiver.url)
    order_paid("stadsloket", "ord_failing")
    dead_letters("stadsloket")  # left by other tests

    run_queue("stadsloket")

    stamps = [int(r["headers"]["webhook-timestamp"]) for r in receiver.requests]
    assert len(stamps) == rules.MAX_ATTEMPTS == 10, [(r["headers"]["webhook-id"], r["headers"]["webhook-timestamp"], r["body"][:80]) for r in receiver.requests]
    gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:])]
    for gap, planned in zip(gaps, rules.SCHEDULE[1:]):
        assert planned.total_seconds() * 0.9 - 1 <= gap <= planned.total_seconds() * 1.1 + 1, (gaps, planned)
    assert 2.6 * 86400 < stamps[-1] - stamps[0] < 3.3 * 86400  # about three days
    assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 1  # the same message each time

    store = bootstrap.worker_store("stadsloket")
    delivery = service.list_deliveries(store, created["endpoint_id"])[0]
    assert (delivery["status"], delivery["attempt"], delivery["response_code"]) == ("dead", 10, 500)
    assert "whsec_abcdef" not in delivery["response_excerpt"] and "<" not in delivery["response_excerpt"]
    assert "\x00" not in delivery["response_excerpt"] and "Internal error" in delivery["response_excerpt"]
    assert [m["endpoint_id"] for m in dead_letters("stadsloket")] == [created["endpoint_id"]]

    lead = api.token("stadsloket-lead")
    shown = api.call("GET", "/venues/stadsloket/webhooks/endpoints", token=lead).data["endpoints"][0]
    assert shown["enabled"] is False and "failed" in shown["disabled_reason"]
    health = api.call("GET", "/venues/stadsloket/health", token=lead).data
    assert any(e["kind"] == "WebhookEndpointDisabled" for e in health["recent_errors"])
    order_paid("stadsloket", "ord_after_disable")
    run_queue("stadsloket")
    assert len(receiver.requests) == 10  # a disabled endpoint is not called


def test_410_disables_at_once_and_429_retry_after_slows_down(api, venues, receivers):
    gone, busy = receivers([(410, {}, "gone")]), receivers([(429, {"Retry-After": "600"}, ""), (200, {}, "")])
    gone_endpoint = endpoint(api, "stadsloket", gone.url)
    endpoint(api, "stadsloket", busy.url)
    order_paid("stadsloket", "ord_410")
    run_queue("stadsloket")

    assert len(gone.requests) == 1
    store = bootstrap.worker_store("stadsloket")
    shown = {e["endpoint_id"]: e for e in service.list_endpoints(store)}[gone_endpoint["endpoint_id"]]
    assert shown["enabled"] is False and "410" in shown["disabled_reason"]
    stamps = [int(r["headers"]["webhook-timestamp"]) for r in busy.requests]
    assert len(stamps) == 2 and stamps[1] - stamps[0] >= 600  # not the schedule's 5 s


def test_rotation_keeps_the_old_secret_signing_through_the_overlap(api, venues, receivers):
    receiver = receivers()
    created = endpoint(api, "stadsloket", receiver.url)
    rotated = api.call("POST", f"/venues/stadsloket/webhooks/endpoints/{created['endpoint_id']}/rotate-secret",
                       {"overlap_hours": 2}, token=api.token("stadsloket-lead"))
    assert rotated.status_code == 200 and rotated.data["secret"] != created["secret"]
    now = datetime.now(timezone.utc)
    order_paid("stadsloket", "ord_during_overlap", at=now)
    run_queue("stadsloket", now)
    order_paid("stadsloket", "ord_after_overlap", at=now + timedelta(hours=3))
    run_queue("stadsloket", now + timedelta(hours=3))

    during, after = receiver.requests
    assert len(during["headers"]["webhook-signature"].split()) == 2
    assert verified(created["secret"], during) and verified(rotated.data["secret"], during)
    assert verified(rotated.data["secret"], after)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        verified(created["secret"], after)


def test_ping_resend_and_replay(api, venues, receivers):
    receiver = receivers([(503, {}, "")])  # the first delivery fails once, then all is well
    created = endpoint(api, "stadsloket", receiver.url, event_types=["order.paid"])
    lead, base = api.token("stadsloket-lead"), "/venues/stadsloket/webhooks"

    ping = api.call("POST", f"{base}/endpoints/{created['endpoint_id']}/ping", token=lead)
    assert ping.status_code == 202
    run_queue("stadsloket")
    assert verified(created["secret"], receiver.requests[-1])["type"] == "webhook.ping"
    assert len(receiver.requests) == 2  # the 503, then the retry

    now = datetime.now(timezone.utc)
    first = order_paid("stadsloket", "ord_r1", at=now - timedelta(hours=3))
    second = order_paid("stadsloket", "ord_r2", at=now - timedelta(hours=1))
    service.emit(bootstrap.worker_store("stadsloket"), "event.updated", {"event": {"event_id": "ev"}}, "ev:1",
                 now=now - timedelta(hours=1))  # not subscribed: not replayed
    run_queue("stadsloket", now)
    assert [r["headers"]["webhook-id"] for r in receiver.requests[2:]] == [first, second]

    log = api.call("GET", f"{base}/deliveries?endpoint_id={created['endpoint_id']}&status=succeeded", token=lead)
    assert log.status_code == 200 and {d["event_id"] for d in log.data["deliveries"]} >= {first, second}
    assert all(d["latency_ms"] is not None and d["response_code"] == 200 for d in log.data["deliveries"])
    delivery = next(d for d in log.data["deliveries"] if d["event_id"] == first)
    assert api.call("POST", f"{base}/deliveries/{delivery['delivery_id']}/resend", token=lead).status_code == 202
    run_queue("stadsloket", now)
    assert receiver.requests[-1]["headers"]["webhook-id"] == first  # sent again although it succeeded

    replay = api.call("POST", f"{base}/replay", {"endpoint_id": created["endpoint_id"],
                                                 "since": (now - timedelta(minutes=61)).isoformat(),
                                                 "until": (now - timedelta(minutes=59)).isoformat()}, token=lead)
    assert replay.status_code == 202 and replay.data["queued"] == 1
    run_queue("stadsloket", now)
    assert receiver.requests[-1]["headers"]["webhook-id"] == second


# -- the bulkhead ---------------------------------------------------------------------------------
EVENTS_PER_VENUE = 5


def _delays(api, venues, receivers, failing_neighbour: bool) -> list[float]:
    """Seconds from emit to arrival at the healthy venues' receivers, with the
    venues' queues consumed as in `make run` (one consumer per venue)."""
    healthy = {venue: receivers() for venue in venues[:2]}
    for venue, receiver in healthy.items():
        endpoint(api, venue, receiver.url)
    if failing_neighbour:  # answers only after the delivery timeout; then 500 on everything
        endpoint(api, venues[2], receivers([(500, {}, "")] * 100, hang=service.DELIVERY_TIMEOUT_SECONDS + 1).url)
    stopping = threading.Event()
    consumers = [threading.Thread(target=consume_webhooks, args=(venue, stopping), daemon=True) for venue in venues]
    for consumer in consumers:
        consumer.start()
    sent: dict[str, float] = {}
    try:
        for n in range(EVENTS_PER_VENUE):
            for venue in reversed(venues):  # the failing venue's events go first
                event_id = order_paid(venue, f"ord_bulk_{failing_neighbour}_{n}", at=datetime.now(timezone.utc))
                sent[event_id] = time.monotonic()
        until(lambda: sum(len(r.requests) for r in healthy.values()) >= 2 * EVENTS_PER_VENUE,
              "every healthy venue's events delivered", seconds=30, every=0.05)
    finally:
        stopping.set()
        for consumer in consumers:
            consumer.join(timeout=service.DELIVERY_TIMEOUT_SECONDS + 5)
    arrivals = [r for receiver in healthy.values() for r in receiver.requests]
    assert len(arrivals) == 2 * EVENTS_PER_VENUE
    return [r["arrived"] - sent[r["headers"]["webhook-id"]] for r in arrivals]


def test_one_venues_failing_endpoint_does_not_delay_the_others(api, venues, receivers, monkeypatch, capsys):
    monkeypatch.setattr(service, "DELIVERY_TIMEOUT_SECONDS", 3.0)  # the production 15 s, shortened for the test
    monkeypatch.setattr(webhook_store, "SQS_MAX_DELAY_SECONDS", 900)  # real clock here: retries wait in SQS
    alone = _delays(api, venues, receivers, failing_neighbour=False)
    for venue in venues:
        for found in service.list_endpoints(bootstrap.worker_store(venue)):
            service.delete_endpoint(bootstrap.worker_store(venue), found["endpoint_id"])
    with_neighbour = _delays(api, venues, receivers, failing_neighbour=True)
    with capsys.disabled():
        print(f"\nbulkhead: healthy venues' delivery delay without a failing neighbour: median "
              f"{statistics.median(alone):.3f} s, max {max(alone):.3f} s; with one: median "
              f"{statistics.median(with_neighbour):.3f} s, max {max(with_neighbour):.3f} s "
              f"(the neighbour's timeout {service.DELIVERY_TIMEOUT_SECONDS} s x {EVENTS_PER_VENUE} events)")
    # Serialised behind the neighbour they would wait its timeout per event (15 s in production).
    assert max(with_neighbour) < service.DELIVERY_TIMEOUT_SECONDS
    assert statistics.median(with_neighbour) < statistics.median(alone) + 1.0
