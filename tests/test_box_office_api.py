"""The box office on the in-process stack (moto with IAM, the Stripe
emulator): a cash sale at the counter, its drawer and day report, retries,
channels and quota, finding an order (audited), cancel and refund within the
venue's policy, and another venue's clerk seeing none of it."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from tests.test_ticket_documents import decoded_qr_codes  # noqa: F401  (the browser test decodes the PDF)

VENUE, OTHER = "stadsloket", "concertzaal"


def _clerk(api, venue=VENUE):
    return api.token(f"{venue}-kassa")


def _open_till(api, venue=VENUE, float_cents=10000):
    token = _clerk(api, venue)
    shift = api.call("GET", f"/venues/{venue}/box-office/shift", token=token).data["shift"]
    if shift is None:
        answer = api.call("POST", f"/venues/{venue}/box-office/shift", {"float": float_cents}, token=token)
        assert answer.status_code == 201, answer.data
        shift = answer.data["shift"]
    return shift


def _sell(api, event, quantity=2, method="cash", tendered=None, key=None, venue=VENUE, **extra):
    body = {"event_id": event["event_id"], "performance_id": event["performance_id"],
            "tickets": [{"price_type": "normaal", "quantity": quantity}], "method": method, **extra}
    if tendered is not None:
        body["tendered"] = tendered
    return api.call("POST", f"/venues/{venue}/box-office/sales", body, token=_clerk(api, venue),
                    headers={"Idempotency-Key": key or str(uuid.uuid4())})


def test_a_cash_sale_gives_change_tickets_a_drawer_line_and_a_report_line(api):
    event = api.new_event(VENUE, capacity=10)
    _open_till(api)
    listed = api.call("GET", f"/venues/{VENUE}/box-office/performances", token=_clerk(api)).data["performances"]
    assert any(p["performance_id"] == event["performance_id"] and p["available"] == 10 for p in listed)

    sale = _sell(api, event, quantity=2, tendered=6000)
    assert sale.status_code == 201, sale.data
    assert (sale.data["total"], sale.data["change"], sale.data["status"]) == (5000, 1000, "paid")
    assert [d["kind"] for d in sale.data["documents"]] == ["pdf", "ics"]
    order = api.call("GET", f"/venues/{VENUE}/orders/{sale.data['order_id']}", token=api.token(f"{VENUE}-lead")).data
    assert order["channel"] == "box-office" and len(order["tickets"]) == 2 and order["buyer"] is None
    check = api.call("POST", f"/venues/{VENUE}/tickets/check", {"code": order["tickets"][0]["code"]}, token=_clerk(api))
    assert check.status_code == 200 and check.data["result"] == "valid"

    shift = api.call("GET", f"/venues/{VENUE}/box-office/shift", token=_clerk(api)).data["shift"]
    assert shift["cash_sales"] >= 5000 and shift["expected"] == shift["float"] + shift["cash_sales"] - shift["cash_refunds"]
    report = api.call("GET", f"/venues/{VENUE}/box-office/report", token=api.token(f"{VENUE}-lead")).data
    assert report["per_clerk"][f"{VENUE}-kassa"]["sales"] >= 5000
    assert report["per_method"]["cash"]["orders"] >= 1


def test_a_retried_sale_makes_one_order_and_a_changed_retry_is_refused(api):
    event = api.new_event(VENUE, capacity=10)
    _open_till(api)
    key = str(uuid.uuid4())
    first, again = _sell(api, event, key=key), _sell(api, event, key=key)
    assert first.status_code == again.status_code == 201
    assert first.data["order_id"] == again.data["order_id"]
    listed = api.call("GET", f"/venues/{VENUE}/box-office/performances", token=_clerk(api)).data["performances"]
    assert next(p for p in listed if p["performance_id"] == event["performance_id"])["available"] == 8
    changed = _sell(api, event, quantity=3, key=key)
    assert changed.status_code == 422 and changed.data["type"].endswith("/idempotency-key-reused")


def test_the_counter_sells_its_quota_and_its_own_price_type_which_online_cannot(api):
    lead = api.token(f"{VENUE}-lead")
    event = api.new_event(VENUE, capacity=4, prices=[
        {"code": "normaal", "label": "Normaal", "amount": 2500},
        {"code": "kassa", "label": "Aan de kassa", "amount": 2000, "channels": ["box-office"]}])
    # Keep 3 of the 4 places for the counter: a new performance with the quota.
    from datetime import datetime, timedelta, timezone

    starts = (datetime.now(timezone.utc) + timedelta(days=5)).isoformat()
    performance = api.call("POST", f"/venues/{VENUE}/events/{event['event_id']}/performances",
                           {"starts_at": starts, "capacity": 4, "box_office_quota": 3}, token=lead)
    assert performance.status_code == 201, performance.data
    kept = {**event, "performance_id": performance.data["performance_id"]}
    assert api.hold(kept, 2).status_code == 409  # online: only 1 place is for sale
    assert api.hold(kept, 1, price_type="kassa").status_code == 422  # the counter's price is not sold online
    assert api.hold(kept, 1).status_code == 201
    assert api.hold(kept, 1).status_code == 409  # the last 3 are the counter's
    _open_till(api)
    body = {"event_id": kept["event_id"], "performance_id": kept["performance_id"], "method": "card",
            "terminal_reference": "T-0042", "tickets": [{"price_type": "kassa", "quantity": 3}]}
    sale = api.call("POST", f"/venues/{VENUE}/box-office/sales", body, token=_clerk(api),
                    headers={"Idempotency-Key": str(uuid.uuid4())})
    assert sale.status_code == 201, sale.data
    assert (sale.data["total"], sale.data["method"], sale.data["terminal_reference"]) == (6000, "card", "T-0042")
    assert _sell(api, kept, quantity=1).status_code == 409  # nothing is left, not even at the counter


def test_too_little_cash_and_no_open_drawer_are_clear_refusals_that_write_nothing(api):
    event = api.new_event(VENUE, capacity=10)
    _open_till(api)
    short = _sell(api, event, quantity=1, tendered=1000)
    assert short.status_code == 422 and short.data["errors"][0]["code"] == "tendered_too_little"
    other_clerk_event = api.new_event(OTHER, capacity=10)
    token = _clerk(api, OTHER)
    if api.call("GET", f"/venues/{OTHER}/box-office/shift", token=token).data["shift"]:
        api.call("POST", f"/venues/{OTHER}/box-office/shift/close", {"counted": 0}, token=token)
    closed = _sell(api, other_clerk_event, venue=OTHER)
    assert closed.status_code == 409 and closed.data["type"].endswith("/till-not-open")


def test_find_cancel_and_refund_within_the_policy_and_not_outside_it(api):
    lead = api.token(f"{VENUE}-lead")
    assert api.call("PUT", f"/venues/{VENUE}/box-office/policy", {"hours_before": 24}, token=lead).status_code == 200
    soon = api.new_event(VENUE, capacity=10, days=0.5)   # in 12 hours: outside a 24-hour policy
    later = api.new_event(VENUE, capacity=10, days=5)
    _open_till(api)
    buyer = f"kassa.{uuid.uuid4().hex[:6]}@example.be"
    inside = _sell(api, later, quantity=2, buyer_name="Jan Kassakoper", buyer_email=buyer).data
    outside = _sell(api, soon, quantity=1).data

    found = api.call("GET", f"/venues/{VENUE}/box-office/search?q={buyer}&page=kassa", token=_clerk(api))
    assert [o["order_id"] for o in found.data["orders"]] == [inside["order_id"]]
    by_number = api.call("GET", f"/venues/{VENUE}/box-office/search?q={outside['order_id']}", token=_clerk(api))
    assert [o["order_id"] for o in by_number.data["orders"]] == [outside["order_id"]]
    audit = api.call("GET", f"/venues/{VENUE}/audit?limit=20", token=lead).data
    assert any(e["action"] == "orders.search" and e["subject"]["order_ids"] == [inside["order_id"]]
               and "(kassa)" in e["route"] and e["actor"] == f"{VENUE}-kassa" for e in audit)

    refused = api.call("POST", f"/venues/{VENUE}/box-office/orders/{outside['order_id']}/cancel", token=_clerk(api))
    assert refused.status_code == 409 and refused.data["type"].endswith("/refund-not-allowed")

    before = api.call("GET", f"/venues/{VENUE}/box-office/shift", token=_clerk(api)).data["shift"]
    cancelled = api.call("POST", f"/venues/{VENUE}/box-office/orders/{inside['order_id']}/cancel", token=_clerk(api))
    assert cancelled.status_code == 200 and cancelled.data["refunded"] == 5000
    again = api.call("POST", f"/venues/{VENUE}/box-office/orders/{inside['order_id']}/cancel", token=_clerk(api))
    assert again.status_code == 200  # a repeat answers the first, refunds nothing more
    after = api.call("GET", f"/venues/{VENUE}/box-office/shift", token=_clerk(api)).data["shift"]
    assert after["cash_refunds"] - before["cash_refunds"] == 5000
    listed = api.call("GET", f"/venues/{VENUE}/box-office/performances", token=_clerk(api)).data["performances"]
    assert next(p for p in listed if p["performance_id"] == later["performance_id"])["available"] == 10
    order = api.call("GET", f"/venues/{VENUE}/orders/{inside['order_id']}", token=lead).data
    door = api.call("POST", f"/venues/{VENUE}/tickets/check", {"code": order["tickets"][0]["code"], "check_in": True},
                    token=_clerk(api))
    assert door.status_code in (404, 409), door.data  # the door refuses a cancelled order's ticket
    door_list = api.call("GET", f"/venues/{VENUE}/door/performances/{later['performance_id']}", token=_clerk(api)).data
    assert door_list["sold"] == 0  # and it is no longer counted as sold there


def test_another_venues_clerk_sees_nothing_of_this_counter(api):
    event = api.new_event(VENUE, capacity=10)
    _open_till(api)
    sale = _sell(api, event).data
    other = _clerk(api, OTHER)
    for path in (f"/venues/{VENUE}/box-office/orders/{sale['order_id']}", f"/venues/{VENUE}/box-office/report",
                 f"/venues/{VENUE}/box-office/search?q={sale['order_id']}"):
        assert api.call("GET", path, token=other).status_code == 404
    assert api.call("GET", f"/venues/{OTHER}/box-office/orders/{sale['order_id']}", token=other).status_code == 404
    assert api.call("GET", f"/venues/{OTHER}/box-office/search?q={sale['order_id']}", token=other).data["orders"] == []


def test_a_close_shows_the_difference_between_counted_and_expected(api):
    token = api.token("cc-reien-kassa")
    if api.call("GET", "/venues/cc-reien/box-office/shift", token=token).data["shift"]:
        api.call("POST", "/venues/cc-reien/box-office/shift/close", {"counted": 0}, token=token)
    opened = api.call("POST", "/venues/cc-reien/box-office/shift", {"float": 5000}, token=token)
    assert opened.status_code == 201
    twice = api.call("POST", "/venues/cc-reien/box-office/shift", {"float": 5000}, token=token)
    assert twice.status_code == 409 and twice.data["type"].endswith("/till-already-open")
    event = api.new_event("cc-reien", capacity=5)
    assert _sell(api, event, quantity=1, venue="cc-reien").status_code == 201
    closed = api.call("POST", "/venues/cc-reien/box-office/shift/close", {"counted": 7400}, token=token).data["shift"]
    assert (closed["expected"], closed["counted"], closed["difference"]) == (7500, 7400, -100)


def test_a_payment_link_sale_completes_when_paid_and_is_refunded_at_stripe(api):
    event = api.new_event(VENUE, capacity=10)
    _open_till(api)
    buyer = f"link.{uuid.uuid4().hex[:6]}@example.be"
    key = str(uuid.uuid4())
    sale = _sell(api, event, quantity=2, method="payment-link", key=key, buyer_email=buyer)
    assert sale.status_code == 201, sale.data
    assert sale.data["status"] == "pending" and sale.data["checkout_url"] and sale.data["documents"] == []
    assert _sell(api, event, quantity=2, method="payment-link", key=key, buyer_email=buyer).data["order_id"] == \
        sale.data["order_id"]  # a retried submit: the same order and link
    paid_event = api.pay(sale.data["checkout_url"])
    assert api.deliver(paid_event).status_code == 200
    api.run_workers()
    paid = api.call("GET", f"/venues/{VENUE}/box-office/orders/{sale.data['order_id']}", token=_clerk(api)).data
    assert paid["status"] == "paid" and [d["kind"] for d in paid["documents"]] == ["pdf", "ics"]
    order = api.call("GET", f"/venues/{VENUE}/orders/{sale.data['order_id']}", token=api.token(f"{VENUE}-lead")).data
    assert order["channel"] == "box-office"
    report = api.call("GET", f"/venues/{VENUE}/box-office/report", token=_clerk(api)).data
    assert report["per_method"]["payment-link"]["sales"] >= 5000

    refunded = api.call("POST", f"/venues/{VENUE}/box-office/orders/{sale.data['order_id']}/cancel", token=_clerk(api))
    assert refunded.status_code == 200 and refunded.data["method"] == "payment-link", refunded.data
    import stripe

    from local import faults as local_faults

    client = stripe.StripeClient("sk_test_loket_emulator", base_addresses={"api": api.loket.stripe.url})
    with local_faults.injected(stripe_error=0.0, stripe_rate_limit=0.0, stripe_timeout=0.0):  # reading, not under test
        intent = client.v1.payment_intents.retrieve(paid_event["data"]["object"]["payment_intent"])
        charge = client.v1.charges.retrieve(intent.latest_charge if isinstance(intent.latest_charge, str)
                                            else intent.latest_charge.id)
        payouts = [t for t in client.v1.transfers.list(params={"limit": 100}).auto_paging_iter()
                   if t.source_transaction == charge.id]
    assert charge.amount_refunded == 5000
    assert [t.amount_reversed for t in payouts] == [5000], "the venue's payout taken back, not paid by the platform"


def test_tickets_mailed_from_the_counter_go_once_per_request(api):
    from tests.test_my_tickets_api import mails_to

    event = api.new_event(VENUE, capacity=10)
    _open_till(api)
    sale = _sell(api, event, quantity=1).data  # no address at the sale: printed, nothing mailed
    to = f"later.{uuid.uuid4().hex[:6]}@example.be"
    key = str(uuid.uuid4())
    path = f"/venues/{VENUE}/box-office/orders/{sale['order_id']}/mail"
    for _ in range(2):  # a double tap: the same request twice
        sent = api.call("POST", path, {"email": to, "language": "fr"}, token=_clerk(api), headers={"Idempotency-Key": key})
        assert sent.status_code == 200, sent.data
    mails = mails_to(to)
    assert len(mails) == 1 and mails[0]["X-Loket-Order"] == sale["order_id"]
    assert any(part.get_filename() and part.get_filename().endswith(".pdf") for part in mails[0].iter_attachments())
    assert api.call("POST", path, {"email": to}, token=_clerk(api)).status_code == 400  # no key: refused


def _admit_at_the_door(store, code: str, performance_id: str):
    from datetime import datetime, timezone

    from chalicelib.domain.door import Scan
    from chalicelib.services import door

    return door.judge(store, Scan(code=code, performance_id=performance_id, door="Hoofdingang",
                                  nonce=uuid.uuid4().hex, scanned_at=datetime.now(timezone.utc)))


def test_a_door_admission_during_a_counter_cancel_wins_and_the_cancel_refunds_nothing(api, monkeypatch):
    """The admission lands between the cancel's reads and its write (injected): the cancel is refused."""
    from chalicelib.adapters.box_office_store import BoxOfficeStore

    event = api.new_event(VENUE, capacity=10, days=5)
    _open_till(api)
    sale = _sell(api, event, quantity=1).data
    code = api.call("GET", f"/venues/{VENUE}/orders/{sale['order_id']}", token=api.token(f"{VENUE}-lead")).data["tickets"][0]["code"]
    original = BoxOfficeStore.cancel_order
    admitted = []

    def admitted_meanwhile(self, *args, **kwargs):
        admitted.append(_admit_at_the_door(self.store, code, event["performance_id"]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(BoxOfficeStore, "cancel_order", admitted_meanwhile)
    before = api.call("GET", f"/venues/{VENUE}/box-office/shift", token=_clerk(api)).data["shift"]
    refused = api.call("POST", f"/venues/{VENUE}/box-office/orders/{sale['order_id']}/cancel", token=_clerk(api))
    assert admitted[0]["result"] == "valid"
    assert refused.status_code == 409, refused.data
    after = api.call("GET", f"/venues/{VENUE}/box-office/shift", token=_clerk(api)).data["shift"]
    assert after["cash_refunds"] == before["cash_refunds"]
    order = api.call("GET", f"/venues/{VENUE}/orders/{sale['order_id']}", token=api.token(f"{VENUE}-lead")).data
    assert order["status"] == "paid"


def test_a_counter_cancel_during_a_door_admission_wins_and_the_door_refuses(api, monkeypatch):
    """The cancel lands between the door's reads and its write (injected): the ticket is not admitted."""
    from chalicelib import bootstrap
    from chalicelib.adapters.door_store import DoorStore
    from chalicelib.services import box_office

    event = api.new_event(VENUE, capacity=10, days=5)
    _open_till(api)
    sale = _sell(api, event, quantity=1).data
    code = api.call("GET", f"/venues/{VENUE}/orders/{sale['order_id']}", token=api.token(f"{VENUE}-lead")).data["tickets"][0]["code"]
    original = DoorStore.admit
    cancelled = []

    def cancelled_meanwhile(self, *args, **kwargs):
        if not cancelled:
            cancelled.append(box_office.cancel(bootstrap.network(), self.store, f"{VENUE}-kassa", sale["order_id"]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DoorStore, "admit", cancelled_meanwhile)
    scan = api.call("POST", f"/venues/{VENUE}/tickets/check",
                    {"code": code, "performance_id": event["performance_id"], "door": "Hoofdingang",
                     "nonce": uuid.uuid4().hex, "scanned_at": datetime.now(timezone.utc).isoformat()},
                    token=_clerk(api))
    assert cancelled[0]["status"] == "cancelled"
    assert scan.status_code == 409 and scan.data["type"].endswith("/ticket-order-not-paid"), scan.data
    listed = api.call("GET", f"/venues/{VENUE}/door/performances/{event['performance_id']}", token=_clerk(api)).data
    assert listed["admitted"] == 0
