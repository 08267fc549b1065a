"""How the sale holds up when the local stack fails like AWS and Stripe do.

Runs in-process against one local stack (moto with IAM, the Stripe
emulator) under the `test` fault preset and counts what a buyer or a venue
would notice:

- false sold-outs: "sold out" answers in rounds of 50 buyers racing for 60
  places (every such answer is false), and oversold places in rounds of 50
  buyers racing for 10;
- other failed answers (5xx) in those races;
- leaked places: places neither sold nor on sale again after the every-minute
  job ran, for each way a purchase can be abandoned.

`python -m bench.sale_under_faults` prints JSON; `make bench` stores it in
bench/results.json.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

ROUNDS = 5
BUYERS = 50
PLACES = 10
ABANDONED_PER_PATH = 3


class LambdaTimeout(BaseException):
    """Stands in for Lambda stopping a function mid-request (cannot run here):
    no `except Exception` or `finally` in the product gets to clean up."""


def _client(app):
    from chalice.test import Client

    return Client(app.app)


def _call(client, method: str, path: str, body: Any = None, headers: dict | None = None):
    response = getattr(client.http, method.lower())(
        path, headers={"Content-Type": "application/json", **(headers or {})},
        body=json.dumps(body) if body is not None else None)
    response.data = json.loads(response.body) if response.body else None
    return response


def _event(client, lead_token: str, venue: str, capacity: int) -> dict:
    auth = {"Authorization": f"Bearer {lead_token}"}
    event = _call(client, "POST", f"/venues/{venue}/events", {
        "title": f"Bench {uuid.uuid4().hex[:6]}", "hall": "Zaal",
        "price_types": [{"code": "normaal", "label": "Normaal", "amount": 2500}]}, auth).data
    starts = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
    performance = _call(client, "POST", f"/venues/{venue}/events/{event['event_id']}/performances",
                        {"starts_at": starts, "capacity": capacity}, auth).data
    _call(client, "POST", f"/venues/{venue}/events/{event['event_id']}/publish", None, auth)
    return {"venue": venue, "event_id": event["event_id"], "performance_id": performance["performance_id"]}


def _places(venue: str, event: dict) -> dict[str, int]:
    """Capacity split into on sale, sold and neither (taken by something)."""
    from chalicelib.adapters import tenancy
    from chalicelib.adapters.dynamo import unmarshal

    db = tenancy.venue_session(venue).client("dynamodb")
    table = tenancy.venue_table_name(venue)
    performance = unmarshal(db.get_item(TableName=table, ConsistentRead=True, Key={
        "pk": {"S": f"EVENT#{event['event_id']}"}, "sk": {"S": f"PERF#{event['performance_id']}"}})["Item"])
    sold = 0
    for page in db.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for raw in page["Items"]:
            item = unmarshal(raw)
            if item["pk"].startswith("HOLD#") and item.get("performance_id") == event["performance_id"] \
                    and item.get("status") == "sold":
                sold += sum(line["quantity"] for line in item["lines"])
    return {"capacity": performance["capacity"], "available": performance["available"], "sold": sold,
            "taken": performance["capacity"] - performance["available"] - sold}


def race(client, token: str, places: int) -> dict[str, int]:
    from local import faults

    with faults.injected(**faults.OFF.__dict__):
        event = _event(client, token, "concertzaal", places)
    outcomes: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(BUYERS)

    def buyer() -> None:
        body = {**event, "tickets": [{"price_type": "normaal", "quantity": 1}]}
        start.wait()
        answer = _call(client, "POST", "/holds", body, {"Idempotency-Key": str(uuid.uuid4())})
        with lock:
            outcomes.append((answer.status_code, (answer.data or {}).get("type", "")))

    threads = [threading.Thread(target=buyer) for _ in range(BUYERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    held = sum(1 for status, _ in outcomes if status == 201)
    sold_out = sum(1 for status, kind in outcomes if kind.endswith("/sold-out"))
    places = _places("concertzaal", event)
    return {"held": held, "sold_out_answers": sold_out, "oversold": max(0, held - places["capacity"]),
            "left_on_sale": places["available"], "failed_answers": sum(1 for status, _ in outcomes if status >= 500)}


def abandoned_paths(client, token: str, stack) -> dict[str, dict[str, int]]:
    from chalicelib.adapters import payments
    from chalicelib.workers import jobs
    from local import faults

    def hold_and_checkout(event: dict) -> Any:
        hold = _call(client, "POST", "/holds", {**event, "tickets": [{"price_type": "normaal", "quantity": 2}]},
                     {"Idempotency-Key": str(uuid.uuid4())})
        if hold.status_code != 201:
            return None
        session = {"X-Buyer-Session": hold.headers["X-Buyer-Session"]} if "X-Buyer-Session" in hold.headers else {}
        return _call(client, "POST", "/checkout", {"holds": [{"venue": event["venue"], "hold_id": hold.data["hold_id"]}],
                                                   "buyer": {"name": "Bench Koper", "email": "bench@example.be"}},
                     {"Idempotency-Key": str(uuid.uuid4()), **session})

    def expired_event_lost(event: dict) -> None:
        hold_and_checkout(event)  # the session expires at Stripe; its webhook ends in the DLQ

    def payment_provider_down(event: dict) -> None:
        with faults.injected(stripe_error=1.0):
            hold_and_checkout(event)

    def lambda_timeout_mid_checkout(event: dict) -> None:
        original = payments.create_checkout

        def stopped(**kwargs):
            raise LambdaTimeout()

        payments.create_checkout = stopped
        try:
            hold_and_checkout(event)
        except LambdaTimeout:
            pass
        finally:
            payments.create_checkout = original

    def async_payment_failed(event: dict) -> None:
        import requests

        checkout = hold_and_checkout(event)
        if checkout is None or checkout.status_code != 201 or not hasattr(stack.stripe, "settle_async"):
            return
        session_id = checkout.data["checkout_url"].rsplit("/", 1)[-1]
        requests.post(checkout.data["checkout_url"] + "/complete?method=bank_transfer", allow_redirects=False,
                      timeout=10)
        stack.stripe.settle_async(session_id, succeeded=False)
        for stripe_event in stack.stripe.events():
            if stripe_event["data"]["object"].get("id") == session_id:
                _deliver(client, stack, stripe_event)

    paths: dict[str, Callable[[dict], None]] = {
        "expired_webhook_lost": expired_event_lost,
        "payment_provider_down_at_checkout": payment_provider_down,
        "lambda_timeout_mid_checkout": lambda_timeout_mid_checkout,
        "async_payment_failed": async_payment_failed,
    }
    results = {}
    for name, abandon in paths.items():
        with faults.injected(**faults.OFF.__dict__):
            event = _event(client, token, "cc-reien", 100)
        for _ in range(ABANDONED_PER_PATH):
            try:
                abandon(event)
            except Exception:  # what a buyer meets as an error page; the places are counted below
                pass
        stack.stripe.expire_due(now=datetime.now(timezone.utc).timestamp() + 25 * 3600)  # nothing delivered
        _drain(stack)
        for minutes in (20, 40, 90, 180):  # the every-minute job, run as time passes
            jobs.every_minute(now=datetime.now(timezone.utc) + timedelta(minutes=minutes))
        results[name] = _places("cc-reien", event)
    return results


def _deliver(client, stack, stripe_event: dict) -> None:
    from local.stripe_emulator import sign_payload

    payload = stack.stripe.event_payload(stripe_event["id"])
    client.http.post("/stripe/webhook", body=payload, headers={
        "Content-Type": "application/json", "Stripe-Signature": sign_payload(payload.decode(), "whsec_loket_emulator")})
    _drain(stack)


def _drain(stack) -> None:
    """The SQS event source: a batch that fails as a whole stays queued (Lambda would retry it)."""
    from local.runner import drain

    import app as chalice_app

    for _ in range(3):
        try:
            drain(stack.outputs["PaymentEventsQueueUrl"], chalice_app.payment_events)
            return
        except Exception:
            continue


def main() -> dict[str, Any]:
    from local import demo, faults, moto_support, stack as local_stack

    stack = local_stack.start(webhook_url=None)
    try:
        demo.seed()
        import app as chalice_app

        faults.configure(faults.TEST)
        with _client(chalice_app) as client:
            token = _call(client, "POST", "/staff/session",
                          {"username": "concertzaal-lead", "password": demo.DEMO_PASSWORD}).data["id_token"]
            scarce = [race(client, token, PLACES) for _ in range(ROUNDS)]
            plenty = [race(client, token, BUYERS + PLACES) for _ in range(ROUNDS)]
            cc_token = _call(client, "POST", "/staff/session",
                             {"username": "cc-reien-lead", "password": demo.DEMO_PASSWORD}).data["id_token"]
            leaks = abandoned_paths(client, cc_token, stack)
        faults.configure(faults.OFF)
        return {
            "fault_rates": faults.TEST.__dict__,
            "race_for_scarce_places": {"rounds": ROUNDS, "buyers": BUYERS, "places": PLACES,
                                       "held": sum(r["held"] for r in scarce),
                                       "oversold": sum(r["oversold"] for r in scarce),
                                       "failed_answers": sum(r["failed_answers"] for r in scarce)},
            "race_with_places_for_all": {"rounds": ROUNDS, "buyers": BUYERS, "places": BUYERS + PLACES,
                                         "false_sold_outs": sum(r["sold_out_answers"] for r in plenty),
                                         "failed_answers": sum(r["failed_answers"] for r in plenty)},
            "leaked_places": {name: p["taken"] for name, p in leaks.items()},
            "abandoned_per_path": {"purchases": ABANDONED_PER_PATH, "places_each": 2},
            "stand_in_refusals": dict(moto_support.refused),
        }
    finally:
        stack.stop()


if __name__ == "__main__":
    import sys

    results = main()
    if len(sys.argv) > 1:  # the app logs to stdout; the numbers also go to a file
        Path(sys.argv[1]).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
