"""Capacity: never oversold under contention, always given back on expiry."""

from datetime import datetime, timedelta, timezone

from chalicelib import bootstrap
from chalicelib.workers import jobs
from conftest import race


def _available(event):
    return bootstrap.worker_store(event["venue"]).get_performance(event["event_id"], event["performance_id"]).available


def test_fifty_parallel_holds_racing_for_the_last_ten_places_never_oversell(api):
    event = api.new_event("concertzaal", capacity=10)
    outcomes = race(event, 50)
    assert outcomes.count("held") == 10 and outcomes.count("sold_out") == 40
    assert _available(event) == 0


def test_an_expired_hold_gives_its_places_back(api):
    event = api.new_event("club-kaap", capacity=5)
    hold = api.hold(event, 3).data
    assert _available(event) == 2
    assert jobs.release_expired_holds(now=datetime.now(timezone.utc))["club-kaap"] == 0
    later = datetime.now(timezone.utc) + timedelta(minutes=16)
    assert jobs.release_expired_holds(now=later)["club-kaap"] >= 3
    assert _available(event) == 5
    assert api.call("GET", f"/holds/club-kaap/{hold['hold_id']}").data["status"] == "released"
    late = api.checkout([hold])
    assert late.status_code == 409 and late.data["type"].endswith("/hold-expired")


def test_an_expired_checkout_gives_its_places_back_and_cannot_be_paid(api, loket):
    event = api.new_event("stadsloket", capacity=4)
    checkout = api.checkout([api.hold(event, 4).data]).data
    assert _available(event) == 0
    expired = loket.stripe.expire_due(now=datetime.now(timezone.utc).timestamp() + 36 * 60)
    assert expired, "the emulator expires the session"
    stripe_event = [e for e in loket.stripe.events() if e["type"] == "checkout.session.expired"][-1]
    assert api.deliver(stripe_event).status_code == 200
    api.run_workers()
    assert _available(event) == 4
    basket = api.basket(checkout).data
    assert basket["status"] == "expired" and basket["orders"][0]["status"] == "expired"
    # the places are sellable again
    assert api.hold(event, 4).status_code == 201


def test_cancelling_a_hold_returns_its_places_once(api):
    event = api.new_event("cc-reien", capacity=6)
    hold = api.hold(event, 2).data
    assert api.call("DELETE", f"/holds/cc-reien/{hold['hold_id']}").status_code == 204
    assert api.call("DELETE", f"/holds/cc-reien/{hold['hold_id']}").status_code == 204
    assert _available(event) == 6


def test_after_cancelling_on_the_payment_page_the_buyer_can_check_out_again(api):
    event = api.new_event("concertzaal", capacity=3)
    hold = api.hold(event, 3).data
    first = api.checkout([hold]).data
    # 'Annuleren' on the payment page only returns the buyer to the basket
    second = api.checkout([hold])
    assert second.status_code == 201, second.data
    assert second.data["basket_id"] != first["basket_id"]
    api.deliver(api.pay(second.data["checkout_url"]))
    api.run_workers()
    assert api.basket(second.data).data["status"] == "paid"
    assert _available(event) == 0, "the places were neither released nor sold twice"
    expired_first = [e for e in api.loket.stripe.events() if e["type"] == "checkout.session.expired"
                     and e["data"]["object"]["id"] in first["checkout_url"]]
    assert expired_first, "the abandoned payment attempt was closed at Stripe"
    api.deliver(expired_first[-1])
    api.run_workers()
    assert _available(event) == 0
    assert api.basket(first).data["orders"][0]["status"] == "expired"
