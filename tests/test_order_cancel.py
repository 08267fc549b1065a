"""Cancelling an online order with the venue's API key (or as its lead): within the
refund policy, the venue's own part of a two-venue basket refunded at the Stripe
emulator and its payout reversed, the door and the stock follow, retries refund
once and announce once (docs/integrations.md "Cancelling an order")."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
import stripe

from chalicelib import bootstrap
from chalicelib.adapters import payments
from local import faults as local_faults
from tests.test_api_keys import make_key
from tests.test_webhooks import endpoint, receivers, run_queue, venues, verified  # noqa: F401 - fixtures

VENUE, OTHER = "cc-reien", "concertzaal"


def _stripe(api):
    return stripe.StripeClient("sk_test_loket_emulator", base_addresses={"api": api.loket.stripe.url})


def _charge(api, basket_id: str):
    """The basket's one charge, read as a person checks the dashboard (not under test: no faults)."""
    client = _stripe(api)
    with local_faults.injected(stripe_error=0.0, stripe_rate_limit=0.0, stripe_timeout=0.0):
        transfers = client.v1.transfers.list(params={"transfer_group": basket_id}).data
        charge = client.v1.charges.retrieve(transfers[0].source_transaction)
    return charge, {t.destination: t for t in transfers}


def _two_venue_basket(api, quantity: int = 2) -> dict:
    """One payment for this venue's `quantity` places and one place at another venue, paid and settled."""
    mine, theirs = api.new_event(VENUE, capacity=10), api.new_event(OTHER, capacity=10)
    checkout = api.checkout([api.hold(mine, quantity).data, api.hold(theirs, 1).data]).data
    assert api.deliver(api.pay(checkout["checkout_url"])).status_code == 200
    api.run_workers()
    basket = api.basket(checkout).data
    assert basket["status"] == "paid", basket
    order = next(o for o in basket["orders"] if o["venue"] == VENUE)
    return {"event": mine, "basket_id": checkout["basket_id"], "order_id": order["order_id"]}


def _available(api, key: str, event: dict) -> int:
    read = api.call("GET", f"/v1/venues/{VENUE}/events/{event['event_id']}", token=key)
    return next(p for p in read.data["performances"] if p["performance_id"] == event["performance_id"])["available"]


def _refund_answer_lost_once(api, monkeypatch) -> None:
    """The next refund: Stripe makes it, then the connection drops before the answer (the
    client's own retries meet the same drop); refunds after that call go through as usual."""
    refund = payments.refund

    def answer_lost(*args, **kwargs):
        monkeypatch.setattr(payments, "refund", refund)
        api.loket.stripe.timeout_phase = "after"
        try:
            with local_faults.injected(stripe_timeout=1.0):
                return refund(*args, **kwargs)
        finally:
            api.loket.stripe.timeout_phase = None

    monkeypatch.setattr(payments, "refund", answer_lost)


def _cancel(api, key: str, order_id: str, idem: str, body=None, venue: str = VENUE):
    """As an integrator does: a 502 (the payment provider did not answer) is sent again, same key."""
    for _ in range(5):
        answer = api.call("POST", f"/v1/venues/{venue}/orders/{order_id}/cancel", body, token=key,
                          headers={"Idempotency-Key": idem})
        if answer.status_code != 502:
            return answer
    return answer


def _accounts():
    return {v: bootstrap.network().get_venue(v)["stripe_account_id"] for v in (VENUE, OTHER)}


def test_a_key_cancels_its_venues_part_of_a_two_venue_basket(api, venues, receivers):
    receiver = receivers()
    secret = endpoint(api, VENUE, receiver.url, event_types=["order.cancelled", "order.refunded"])["secret"]
    bought = _two_venue_basket(api, quantity=2)
    key = make_key(api, VENUE, ["orders:write", "orders:read", "catalogue:read", "checkin:write"])["secret"]
    lead = api.token(f"{VENUE}-lead")
    code = api.call("GET", f"/venues/{VENUE}/orders/{bought['order_id']}", token=lead).data["tickets"][0]["code"]
    assert _available(api, key, bought["event"]) == 8
    idem = str(uuid.uuid4())

    first = _cancel(api, key, bought["order_id"], idem, {"reason": "customer_request"})
    assert first.status_code == 200, first.data
    assert first.data["status"] == "cancelled" and first.data["refund_status"] == "refunded"
    assert first.data["refunded"] == 2 * 2500
    again = _cancel(api, key, bought["order_id"], idem, {"reason": "customer_request"})
    assert again.status_code == 200 and again.data == first.data  # a repeat answers the same
    reused = _cancel(api, key, bought["order_id"], idem, {"reason": "duplicate"})
    assert reused.status_code == 422 and reused.data["type"].endswith("/idempotency-key-reused")

    # Stripe: exactly this venue's part back to the buyer, this venue's payout reversed, the other's untouched.
    charge, transfers = _charge(api, bought["basket_id"])
    accounts = _accounts()
    assert charge.amount == 3 * 2500 and charge.amount_refunded == 2 * 2500
    assert transfers[accounts[VENUE]].amount_reversed == 2 * 2500
    assert transfers[accounts[OTHER]].amount_reversed == 0
    # The door refuses its tickets; its places are on sale again.
    door = api.call("POST", f"/v1/venues/{VENUE}/check-ins", {"code": code}, token=key,
                    headers={"Idempotency-Key": str(uuid.uuid4())})
    assert door.status_code == 409, door.data
    assert _available(api, key, bought["event"]) == 10
    order = api.call("GET", f"/venues/{VENUE}/orders/{bought['order_id']}", token=lead).data
    assert order["status"] == "cancelled" and order["refund_status"] == "refunded"
    refunded_orders = api.call("GET", f"/v1/venues/{VENUE}/orders?status=refunded&event={bought['event']['event_id']}",
                               token=key).data["data"]
    assert [o["order_id"] for o in refunded_orders] == [bought["order_id"]], "the integrator finds it as refunded"
    # Each webhook once, with the resource.
    run_queue(VENUE, datetime.now(timezone.utc))
    received = [verified(secret, r) for r in receiver.requests]
    assert sorted(p["type"] for p in received) == ["order.cancelled", "order.refunded"]
    refunded = next(p for p in received if p["type"] == "order.refunded")["data"]
    assert refunded["refunded"] == 5000 and refunded["order"]["order_id"] == bought["order_id"]


def test_a_key_without_the_scope_or_of_another_venue_cancels_nothing(api):
    bought = _two_venue_basket(api, quantity=1)
    reader = make_key(api, VENUE, ["orders:read"])["secret"]
    forbidden = _cancel(api, reader, bought["order_id"], str(uuid.uuid4()))
    assert forbidden.status_code == 403 and forbidden.data["required_scope"] == "orders:write"
    other = make_key(api, OTHER, ["orders:write"])["secret"]
    assert _cancel(api, other, bought["order_id"], str(uuid.uuid4())).status_code == 404
    # Its own venue's path with another venue's order id: no such order there.
    assert _cancel(api, other, bought["order_id"], str(uuid.uuid4()), venue=OTHER).status_code == 404
    assert api.call("POST", f"/v1/venues/{VENUE}/orders/{bought['order_id']}/cancel", token=reader).status_code in (400, 403)
    lead = api.token(f"{VENUE}-lead")
    assert api.call("GET", f"/venues/{VENUE}/orders/{bought['order_id']}", token=lead).data["status"] == "paid"


def test_outside_the_refund_policy_nothing_is_written_and_no_money_moves(api):
    bought = _two_venue_basket(api, quantity=1)
    key = make_key(api, VENUE, ["orders:write", "catalogue:read"])["secret"]
    lead = api.token(f"{VENUE}-lead")
    policy = api.call("GET", f"/venues/{VENUE}/box-office/policy", token=lead).data
    idem = str(uuid.uuid4())
    # The event is 30 days away; this venue refunds only until 40 days before.
    assert api.call("PUT", f"/venues/{VENUE}/box-office/policy", {"hours_before": 40 * 24}, token=lead).status_code == 200
    try:
        refused = _cancel(api, key, bought["order_id"], idem)
    finally:
        api.call("PUT", f"/venues/{VENUE}/box-office/policy", policy, token=lead)
    assert refused.status_code == 409 and refused.data["type"].endswith("/refund-not-allowed"), refused.data
    assert "40" in refused.data["detail"] or "960" in refused.data["detail"]
    order = api.call("GET", f"/venues/{VENUE}/orders/{bought['order_id']}", token=lead).data
    assert order["status"] == "paid" and not order.get("refund_status")
    assert _available(api, key, bought["event"]) == 9
    charge, _ = _charge(api, bought["basket_id"])
    assert charge.amount_refunded == 0
    # The refused request left no record of its key: within the policy it goes through.
    assert _cancel(api, key, bought["order_id"], idem).status_code == 200


def test_a_stripe_failure_after_the_cancel_is_retried_to_exactly_one_refund(api, venues, receivers, monkeypatch):
    receiver = receivers()
    secret = endpoint(api, VENUE, receiver.url, event_types=["order.cancelled", "order.refunded"])["secret"]
    bought = _two_venue_basket(api, quantity=2)
    key = make_key(api, VENUE, ["orders:write"])["secret"]
    idem = str(uuid.uuid4())
    _refund_answer_lost_once(api, monkeypatch)
    failed = api.call("POST", f"/v1/venues/{VENUE}/orders/{bought['order_id']}/cancel", token=key,
                      headers={"Idempotency-Key": idem})
    assert failed.status_code == 502 and failed.data["refund_status"] == "pending", failed.data
    lead = api.token(f"{VENUE}-lead")
    order = api.call("GET", f"/venues/{VENUE}/orders/{bought['order_id']}", token=lead).data
    assert order["status"] == "cancelled" and order["refund_status"] == "pending"  # the cancel was written first

    retried = _cancel(api, key, bought["order_id"], idem)
    assert retried.status_code == 200 and retried.data["refund_status"] == "refunded", retried.data
    later = _cancel(api, key, bought["order_id"], str(uuid.uuid4()))  # a later call with another key
    assert later.status_code == 200 and later.data["refunded"] == 5000
    charge, transfers = _charge(api, bought["basket_id"])
    assert charge.amount_refunded == 5000  # one refund, not two
    assert transfers[_accounts()[VENUE]].amount_reversed == 5000
    run_queue(VENUE, datetime.now(timezone.utc))
    received = sorted(verified(secret, r)["type"] for r in receiver.requests)
    assert received == ["order.cancelled", "order.refunded"]


def test_the_lead_cancels_an_online_order_and_the_counter_keeps_its_own(api):
    bought = _two_venue_basket(api, quantity=1)
    path = f"/venues/{VENUE}/orders/{bought['order_id']}/cancel"
    assert api.call("POST", path, token=api.token(f"{VENUE}-kassa"),
                    headers={"Idempotency-Key": str(uuid.uuid4())}).status_code == 403
    idem = str(uuid.uuid4())
    for _ in range(5):
        done = api.call("POST", path, token=api.token(f"{VENUE}-lead"), headers={"Idempotency-Key": idem})
        if done.status_code != 502:
            break
    assert done.status_code == 200 and done.data["refunded"] == 2500, done.data
    # An online order is not the counter's to refund, nor a counter order the API's.
    counter = api.call("POST", f"/venues/{VENUE}/box-office/orders/{bought['order_id']}/cancel",
                       token=api.token(f"{VENUE}-kassa"))
    assert counter.status_code == 409


def test_the_emulator_refuses_a_reversal_beyond_what_is_left_of_the_transfer(api):
    bought = _two_venue_basket(api, quantity=1)
    _, transfers = _charge(api, bought["basket_id"])
    transfer = transfers[_accounts()[VENUE]]
    client = _stripe(api)
    with local_faults.injected(stripe_error=0.0, stripe_rate_limit=0.0, stripe_timeout=0.0):
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.transfers.reversals.create(transfer.id, params={"amount": transfer.amount + 1})
        client.v1.transfers.reversals.create(transfer.id, params={"amount": transfer.amount})
        assert client.v1.transfers.retrieve(transfer.id).reversed is True
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.transfers.reversals.create(transfer.id, params={"amount": 1})


def _pending_marker(order_id: str) -> dict | None:
    from chalicelib.adapters.box_office_store import BoxOfficeStore

    return next((m for m in BoxOfficeStore(bootstrap.worker_store(VENUE)).pending_refunds()
                 if m["order_id"] == order_id), None)


def test_a_refund_stripe_did_not_make_is_made_by_the_every_minute_job_exactly_once(api, monkeypatch):
    """Stripe makes the refund but its answer is lost, and nobody asks again:
    the scheduled job sends the same requests under the same keys, so the
    money goes back once, and the order says so."""
    from chalicelib.workers import jobs

    bought = _two_venue_basket(api, quantity=2)
    key = make_key(api, VENUE, ["orders:write", "orders:read"])["secret"]
    _refund_answer_lost_once(api, monkeypatch)
    failed = api.call("POST", f"/v1/venues/{VENUE}/orders/{bought['order_id']}/cancel", token=key,
                      headers={"Idempotency-Key": str(uuid.uuid4())})  # once: the integrator does not retry
    assert failed.status_code == 502 and failed.data["refund_status"] == "pending", failed.data
    assert _pending_marker(bought["order_id"]) is not None
    from datetime import timedelta

    jobs.retry_pending_refunds(datetime.now(timezone.utc))  # too soon: the request may still be at Stripe
    assert _charge(api, bought["basket_id"])[0].amount_refunded == 5000 and _pending_marker(bought["order_id"]), \
        "made once by the lost answer, and not asked again yet"
    for minutes in (3, 4):
        jobs.retry_pending_refunds(datetime.now(timezone.utc) + timedelta(minutes=minutes))
    order = api.call("GET", f"/v1/venues/{VENUE}/orders/{bought['order_id']}", token=key).data
    assert order["status"] == "cancelled" and order["refund_status"] == "refunded"
    charge, transfers = _charge(api, bought["basket_id"])
    assert charge.amount_refunded == 5000, "one refund, not two"
    assert transfers[_accounts()[VENUE]].amount_reversed == 5000
    assert _pending_marker(bought["order_id"]) is None


def test_a_refund_still_pending_after_stripes_key_window_is_left_to_an_operator(api):
    """Past 23 hours the job stops asking: Stripe forgets an idempotency key
    after 24, and a retry could then refund twice."""
    from datetime import timedelta

    from chalicelib.services import order_cancellation

    bought = _two_venue_basket(api, quantity=2)
    key = make_key(api, VENUE, ["orders:write"])["secret"]
    with local_faults.injected(stripe_error=1.0):
        failed = api.call("POST", f"/v1/venues/{VENUE}/orders/{bought['order_id']}/cancel", token=key,
                          headers={"Idempotency-Key": str(uuid.uuid4())})
    assert failed.status_code == 502 and failed.data["refund_status"] == "pending", failed.data
    tomorrow = datetime.now(timezone.utc) + timedelta(hours=24)
    order_cancellation.retry_pending_refunds(bootstrap.network(), bootstrap.worker_store(VENUE), tomorrow)
    assert _pending_marker(bought["order_id"])["stale"] is True
    order_cancellation.retry_pending_refunds(bootstrap.network(), bootstrap.worker_store(VENUE),
                                             tomorrow + timedelta(minutes=1))
    charge, _ = _charge(api, bought["basket_id"])
    assert charge.amount_refunded == 0, "no request after the window, not even a minute later"
