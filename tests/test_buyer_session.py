"""Reservations belong to the buyer session that made them, and nobody gets
a buyer's basket from a guessable or logged value."""

import base64
import hashlib
import hmac
import uuid

from chalicelib import bootstrap


def _available(event):
    return bootstrap.worker_store(event["venue"]).get_performance(event["event_id"], event["performance_id"]).available


def test_another_buyer_cannot_see_cancel_or_pay_for_my_reservation(api):
    event = api.new_event("club-kaap", capacity=5)
    mine = api.hold(event, 2).data
    other = api.hold(api.new_event("club-kaap"), 1, buyer="").headers["X-Buyer-Session"]
    assert other and other != api.buyer_session
    path = f"/holds/club-kaap/{mine['hold_id']}"
    assert api.call("GET", path, buyer=other).status_code == 404
    assert api.call("DELETE", path, buyer=other).status_code == 404
    stolen = api.call("POST", "/checkout", {"holds": [{"venue": "club-kaap", "hold_id": mine["hold_id"]}],
                                            "buyer": {"name": "X", "email": "x@example.be"}},
                      headers={"Idempotency-Key": str(uuid.uuid4())}, buyer=other)
    assert stolen.status_code == 404
    assert api.call("GET", path).data["status"] == "held", "still mine"
    assert _available(event) == 3


def test_a_session_loket_did_not_issue_is_refused(api):
    event = api.new_event("club-kaap", capacity=5)
    forged = "made-up-session.AAAAAAAAAAAAAAAAAAAAAA"
    answer = api.hold(event, 1, buyer=forged)
    assert answer.status_code == 401 and answer.headers["Content-Type"] == "application/problem+json"
    assert _available(event) == 5


def test_one_buyer_holds_at_most_twenty_places_per_performance(api):
    event = api.new_event("concertzaal", capacity=100)
    first = api.hold(event, 15)
    assert first.status_code == 201
    too_many = api.hold(event, 6)
    assert too_many.status_code == 409 and too_many.data["type"].endswith("/too-many-places")
    assert _available(event) == 85, "nothing was taken"
    assert api.hold(event, 6, buyer="").status_code == 201, "another buyer may"
    assert api.call("DELETE", f"/holds/concertzaal/{first.data['hold_id']}").status_code == 204
    assert api.hold(event, 20).status_code == 201, "a cancelled reservation frees the allowance"


def test_the_checkout_key_alone_does_not_open_the_basket(api):
    event = api.new_event("cc-reien", capacity=5)
    key = "predictable-key-0000000001"
    checkout = api.checkout([api.hold(event, 1).data], key=key).data
    # what a token derived from the Idempotency-Key alone would be (the old scheme)
    guessed = base64.urlsafe_b64encode(hmac.new(key.encode(), b"loket basket token", hashlib.sha256).digest())
    guessed = guessed.decode().rstrip("=")
    assert api.call("GET", f"/baskets/{checkout['basket_id']}", headers={"X-Basket-Token": guessed}).status_code == 404
    assert uuid.uuid5(uuid.UUID("5b0c7c1e-6f5e-4c55-9a53-4c6f6b657421"), f"basket/{key}").hex != checkout["basket_id"]
    assert api.basket(checkout).status_code == 200
