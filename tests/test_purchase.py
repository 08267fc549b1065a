"""A buyer's whole purchase over HTTP, with the signed Stripe webhook, and
what must never happen around it."""

import json

from local.stripe_emulator import sign_payload


def _available(api, event):
    doc = api.call("GET", f"/venues/{event['venue']}/events/{event['event_id']}",
                   token=api.token(f"{event['venue']}-lead")).data
    return doc["performances"][0]["available"]


def test_a_buyer_pays_and_gets_valid_tickets(api):
    event = api.new_event("concertzaal", capacity=50)
    bought = api.buy(event, quantity=3)
    order = bought["basket"]["orders"][0]
    assert order["status"] == "paid" and order["total"] == 3 * 2500
    assert len(order["tickets"]) == 3
    assert _available(api, event) == 47
    clerk = api.token("concertzaal-kassa")
    code = order["tickets"][0]["code"]
    check = api.call("POST", "/venues/concertzaal/tickets/check", {"code": code, "check_in": True}, token=clerk)
    assert check.status_code == 200 and check.data["result"] == "valid"
    again = api.call("POST", "/venues/concertzaal/tickets/check", {"code": code, "check_in": True}, token=clerk)
    assert again.status_code == 409 and again.data["result"] == "already_used"


def test_the_venue_is_paid_its_share_through_a_transfer(api, loket):
    from chalicelib import bootstrap

    bought = api.buy(api.new_event("club-kaap"), quantity=2)
    transfers = api.transfers(bought["checkout"]["basket_id"])
    account = bootstrap.network().get_venue("club-kaap")["stripe_account_id"]
    assert [(t.amount, t.destination) for t in transfers] == [(2 * 2500, account)]


def test_a_ticket_code_with_one_character_changed_is_rejected(api):
    event = api.new_event("cc-reien")
    code = api.buy(event)["basket"]["orders"][0]["tickets"][0]["code"]
    tampered = code[:-1] + ("A" if code[-1] != "A" else "B")
    check = api.call("POST", "/venues/cc-reien/tickets/check", {"code": tampered}, token=api.token("cc-reien-kassa"))
    assert check.status_code == 404
    assert check.headers["Content-Type"] == "application/problem+json"
    assert check.data["result"] == "invalid"


def test_a_replayed_webhook_changes_nothing(api, loket):
    event = api.new_event("stadsloket", capacity=20)
    hold = api.hold(event, 2).data
    checkout = api.checkout([hold]).data
    stripe_event = api.pay(checkout["checkout_url"])
    assert api.deliver(stripe_event).status_code == 200
    api.run_workers()
    first = api.basket(checkout).data
    for _ in range(3):
        assert api.deliver(stripe_event).status_code == 200
    api.run_workers()
    again = api.basket(checkout).data
    assert again == first
    assert len(again["orders"][0]["tickets"]) == 2
    assert _available(api, event) == 18
    customers = api.call("GET", "/venues/stadsloket/customers", token=api.token("stadsloket-lead")).data
    mine = [c for c in customers if c["email"] == "an.peeters@example.be"]
    assert len(mine) == 1


def test_a_webhook_with_a_bad_signature_is_rejected_and_queues_nothing(api, loket):
    event = api.new_event("stadsloket")
    checkout = api.checkout([api.hold(event).data]).data
    stripe_event = api.pay(checkout["checkout_url"])
    payload = loket.stripe.event_payload(stripe_event["id"]).decode()
    forged = sign_payload(payload, "whsec_somebody_else")
    answer = api.deliver(stripe_event, signature=forged)
    assert answer.status_code == 400 and answer.data["type"].endswith("/invalid-signature")
    tampered = api.call("POST", "/stripe/webhook", raw=payload.replace("paid", "PAID").encode(),
                        headers={"Stripe-Signature": sign_payload(payload, "whsec_loket_emulator")})
    assert tampered.status_code == 400
    assert api.run_workers() == 0
    assert api.basket(checkout).data["status"] == "open"


def test_a_buyer_at_one_venue_is_unknown_at_another(api):
    email = "unique.buyer@example.be"
    api.buy(api.new_event("concertzaal"), email=email)
    at_seller = api.call("GET", "/venues/concertzaal/customers", token=api.token("concertzaal-lead")).data
    assert email in [c["email"] for c in at_seller]
    for other in ("cc-reien", "club-kaap", "stadsloket"):
        customers = api.call("GET", f"/venues/{other}/customers", token=api.token(f"{other}-lead")).data
        assert email not in json.dumps(customers)
        orders = api.call("GET", f"/venues/{other}/orders", token=api.token(f"{other}-lead")).data
        assert email not in json.dumps(orders)


def test_the_network_table_holds_no_personal_data(api, loket):
    email = "privacy.check@example.be"
    api.buy(api.new_event("club-kaap"), email=email)
    dynamodb = loket.operator.client("dynamodb")
    items = dynamodb.scan(TableName="loket-local-network")["Items"]
    assert email not in json.dumps(items) and "Peeters" not in json.dumps(items)


def test_one_basket_with_two_venues_is_one_payment_and_two_separate_orders(api):
    first, second = api.new_event("concertzaal"), api.new_event("club-kaap")
    holds = [api.hold(first, 1).data, api.hold(second, 2).data]
    checkout = api.checkout(holds, email="two.venues@example.be").data
    assert checkout["total"] == 2500 + 2 * 2500
    api.deliver(api.pay(checkout["checkout_url"]))
    api.run_workers()
    basket = api.basket(checkout).data
    assert basket["status"] == "paid"
    assert sorted((o["venue"], len(o["tickets"])) for o in basket["orders"]) == [("club-kaap", 2), ("concertzaal", 1)]


def test_retrying_a_hold_or_a_checkout_never_duplicates(api):
    event = api.new_event("cc-reien", capacity=10)
    first = api.hold(event, 2, key="retry-hold-key-1")
    second = api.hold(event, 2, key="retry-hold-key-1")
    assert first.status_code == 201 and second.status_code == 200
    assert first.data["hold_id"] == second.data["hold_id"]
    assert _available(api, event) == 8
    other_body = api.hold(event, 3, key="retry-hold-key-1")
    assert other_body.status_code == 422 and other_body.data["type"].endswith("/idempotency-key-reused")
    checkout_a = api.checkout([first.data], key="retry-checkout-key-1")
    checkout_b = api.checkout([first.data], key="retry-checkout-key-1")
    assert checkout_a.status_code == checkout_b.status_code == 201
    assert checkout_a.data["checkout_url"] == checkout_b.data["checkout_url"]
    # the buyer whose first answer was lost can still open their order
    assert checkout_b.data["basket_token"] == checkout_a.data["basket_token"]
    assert api.basket(checkout_b.data).status_code == 200
    short_key = api.checkout([first.data], key="short-key")
    assert short_key.status_code == 400 and "random UUID" in short_key.data["detail"]


def test_bad_input_gets_problem_json_and_writes_nothing(api):
    event = api.new_event("club-kaap", capacity=5)
    cases = [
        (api.call("POST", "/holds", raw=b"{not json", headers={"Idempotency-Key": "bad-json-key-1"}), 400, "malformed-request"),
        (api.call("POST", "/holds", {**event, "tickets": [{"price_type": "normaal", "quantity": 0}]}), 422, "validation-error"),
        (api.call("POST", "/holds", {**event, "tickets": [{"price_type": "vip", "quantity": 1}]}), 422, "validation-error"),
        (api.call("POST", "/holds", {**event, "venue": "nope-venue", "tickets": [{"price_type": "normaal", "quantity": 1}]}), 404, "not-found"),
        (api.call("POST", "/holds", {**event, "tickets": [{"price_type": "normaal", "quantity": 6}]}), 409, "sold-out"),
        (api.call("POST", "/checkout", {"holds": [], "buyer": {"name": "x", "email": "x@example.be"}}), 422, "validation-error"),
        (api.call("POST", "/checkout", {"holds": [{"venue": "club-kaap", "hold_id": "h1"}],
                                        "buyer": {"name": "x", "email": "x@example.be"}}), 400, "malformed-request"),
    ]
    for response, status, slug in cases:
        assert response.status_code == status, response.data
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.data["type"].endswith("/" + slug) and response.data["detail"]
    field_errors = cases[1][0].data["errors"]
    assert field_errors[0]["field"] == "tickets.0.quantity"
    assert _available(api, event) == 5
