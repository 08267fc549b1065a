"""Tests for the local Stripe emulator, driven through the real stripe SDK."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import stripe
from stripe._encode import _api_encode

from local import faults
from local.stripe_emulator import StripeEmulator, format_eur, parse_form

API_KEY = "sk_test_loket_emulator"
SECRET = "whsec_loket_emulator"

if hasattr(stripe, "enable_telemetry"):
    stripe.enable_telemetry = False


class Receiver:
    """Tiny webhook receiver that verifies signatures with the real SDK."""

    def __init__(self, secret: str = SECRET, fail_first: int = 0):
        self.secret = secret
        self.fail_first = fail_first
        self.hits: list[dict] = []  # every request: {"status", "event" or "error", "raw"}
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        recv = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sig = self.headers.get("Stripe-Signature")
                hit: dict = {"raw": raw, "content_type": self.headers.get("Content-Type")}
                try:
                    hit["event"] = stripe.Webhook.construct_event(raw, sig, recv.secret)
                    with recv.lock:
                        failing = recv.fail_first > 0
                        if failing:
                            recv.fail_first -= 1
                    status = 500 if failing else 200
                except stripe.SignatureVerificationError as e:
                    hit["error"] = str(e)
                    status = 400
                hit["status"] = status
                with recv.cond:  # record before answering, so a sync delivery is visible
                    recv.hits.append(hit)
                    recv.cond.notify_all()
                body = b"{}"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def wait_for(self, pred, timeout: float = 5.0) -> list[dict]:
        with self.cond:
            ok = self.cond.wait_for(lambda: pred(self.hits), timeout=timeout)
            assert ok, f"timed out; hits so far: {[h.get('status') for h in self.hits]}"
            return list(self.hits)

    def events(self, type_: str | None = None) -> list:
        with self.lock:
            return [h["event"] for h in self.hits
                    if "event" in h and (type_ is None or h["event"]["type"] == type_)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def no_faults():
    """These tests check the emulator's exact answers, so they run without
    injected faults whatever LOKET_FAULTS says; the fault tests below turn
    each fault on themselves."""
    with faults.injected(**{name: 0.0 for name in ("stripe_error", "stripe_rate_limit", "stripe_timeout")}):
        yield


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def emu(receiver):
    e = StripeEmulator(port=0, webhook_url=receiver.url).start()
    yield e
    e.stop()


@pytest.fixture
def client(emu):
    return stripe.StripeClient(API_KEY, base_addresses={"api": emu.url}, max_network_retries=0)


def session_params(**over) -> dict:
    p = {
        "mode": "payment",
        "line_items": [
            {"price_data": {"currency": "eur", "unit_amount": 2500,
                            "product_data": {"name": "Concert – staanplaats",
                                             "description": "Zaal A"}},
             "quantity": 2},
            {"price_data": {"currency": "eur", "unit_amount": 150,
                            "product_data": {"name": "Servicekosten"}},
             "quantity": 1},
        ],
        "success_url": "https://loket.test/ok?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://loket.test/cancel",
        "customer_email": "koper@example.nl",
        "client_reference_id": "b1",
        "metadata": {"basket_id": "b1"},
        "locale": "nl",
        "payment_method_types": ["card"],
        "payment_intent_data": {"transfer_group": "basket_b1", "metadata": {"basket_id": "b1"}},
    }
    p.update(over)
    return p


def pay(emu, sid):
    return requests.post(f"{emu.url}/pay/{sid}/complete", allow_redirects=False, timeout=10)


# --------------------------------------------------------------------------- unit helpers


def test_parse_form_and_format():
    import urllib.parse
    pairs = urllib.parse.parse_qsl(
        "line_items[0][price_data][product_data][name]=X&line_items[0][quantity]=2"
        "&metadata[basket_id]=b1&payment_method_types[0]=card&expand[]=a&expand[]=b")
    assert parse_form(pairs) == {
        "line_items": [{"price_data": {"product_data": {"name": "X"}}, "quantity": "2"}],
        "metadata": {"basket_id": "b1"}, "payment_method_types": ["card"], "expand": ["a", "b"]}
    assert format_eur(2500) == "€ 25,00"
    assert format_eur(123456) == "€ 1.234,56"


# --------------------------------------------------------------------------- sessions


def test_create_and_retrieve_session(client, emu):
    s = client.v1.checkout.sessions.create(session_params())
    assert s.id.startswith("cs_test_")
    assert s.object == "checkout.session"
    assert s.url == f"{emu.url}/pay/{s.id}"
    assert (s.status, s.payment_status, s.mode) == ("open", "unpaid", "payment")
    assert s.amount_total == s.amount_subtotal == 5150
    assert s.currency == "eur"
    assert s.customer_email == "koper@example.nl"
    assert s.customer_details is None and s.payment_intent is None
    assert s.client_reference_id == "b1"
    assert s.metadata["basket_id"] == "b1"
    assert s.livemode is False
    assert 24 * 3600 - 60 < s.expires_at - time.time() <= 24 * 3600

    again = client.v1.checkout.sessions.retrieve(s.id)
    assert again.id == s.id and again.amount_total == 5150

    items = client.v1.checkout.sessions.line_items.list(s.id)
    assert [(i.description, i.quantity, i.amount_total, i.price.unit_amount) for i in items.data] == [
        ("Concert – staanplaats", 2, 5000, 2500), ("Servicekosten", 1, 150, 150)]
    assert items.data[0].object == "item"

    page = requests.get(s.url, timeout=10)
    assert page.status_code == 200
    text = page.text
    assert 'lang="nl"' in text and "Betalen – Loket (test)" in text
    assert "Testomgeving – er wordt geen echt geld aangerekend" in text
    assert "€ 51,50" in text and "€ 50,00" in text and "koper@example.nl" in text
    assert 'id="pay"' in text and 'id="cancel"' in text


def test_validation_errors(client):
    with pytest.raises(stripe.InvalidRequestError) as ei:
        client.v1.checkout.sessions.create(session_params(success_url=None))
    assert ei.value.param == "success_url" and ei.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as ei:
        client.v1.checkout.sessions.create(session_params(expires_at=int(time.time()) + 60))
    assert ei.value.param == "expires_at"
    with pytest.raises(stripe.InvalidRequestError) as ei:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert ei.value.http_status == 404 and ei.value.code == "resource_missing"
    assert "No such checkout.session: 'cs_test_nope'" in str(ei.value)
    ok = client.v1.checkout.sessions.create(session_params(expires_at=int(time.time()) + 3600))
    assert ok.status == "open"


def test_expires_at_bounds_have_no_tolerance(client):
    # Loket's bug: expires_at = request start + exactly 30 minutes, sent a moment later
    with pytest.raises(stripe.InvalidRequestError) as ei:
        client.v1.checkout.sessions.create(session_params(expires_at=int(time.time()) + 30 * 60 - 1))
    assert (ei.value.http_status, ei.value.code, ei.value.param) == (400, "parameter_invalid", "expires_at")
    assert str(ei.value.user_message) == ("The `expires_at` timestamp must be at least 30 minutes from "
                                          "Checkout Session creation.")
    with pytest.raises(stripe.InvalidRequestError) as ei:
        client.v1.checkout.sessions.create(session_params(expires_at=int(time.time()) + 24 * 3600 + 1))
    assert ei.value.param == "expires_at" and "less than 24 hours" in str(ei.value.user_message)
    # with a margin the same request is accepted, at both ends
    assert client.v1.checkout.sessions.create(
        session_params(expires_at=int(time.time()) + 31 * 60)).status == "open"
    assert client.v1.checkout.sessions.create(
        session_params(expires_at=int(time.time()) + 23 * 3600)).status == "open"


def test_amount_below_minimum_charge_is_refused(client):
    items = [{"price_data": {"currency": "eur", "unit_amount": 49, "product_data": {"name": "Bijdrage"}},
              "quantity": 1}]
    with pytest.raises(stripe.InvalidRequestError) as ei:
        client.v1.checkout.sessions.create(session_params(line_items=items))
    assert ei.value.http_status == 400 and ei.value.error.type == "invalid_request_error"
    assert str(ei.value.user_message) == \
        "The Checkout Session's total amount due must add up to at least €0.50 eur"
    items[0]["price_data"]["unit_amount"] = 50
    assert client.v1.checkout.sessions.create(session_params(line_items=items)).amount_total == 50


def test_no_cost_order_completes_without_payment(client, emu, receiver):
    items = [{"price_data": {"currency": "eur", "unit_amount": 0, "product_data": {"name": "Vrijkaart"}},
              "quantity": 2}]
    s = client.v1.checkout.sessions.create(session_params(line_items=items))
    assert s.amount_total == 0 and s.status == "open"
    assert pay(emu, s.id).status_code == 303
    ev = receiver.events("checkout.session.completed")[0].data.object
    assert (ev.status, ev.payment_status, ev.payment_intent) == ("complete", "no_payment_required", None)


def test_idempotent_create_returns_same_session(client, emu):
    opts = {"idempotency_key": "basket-b1-attempt-1"}
    a = client.v1.checkout.sessions.create(session_params(), opts)
    b = client.v1.checkout.sessions.create(session_params(), opts)
    c = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "other"})
    assert a.id == b.id
    assert c.id != a.id
    assert b.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in a.last_response.headers
    # the same parameters sent as a raw form (another client, same API key) replay too
    r = requests.post(f"{emu.url}/v1/checkout/sessions", headers={
        "Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "basket-b1-attempt-1"},
        data=list(_api_encode(session_params())), timeout=10)
    assert r.json()["id"] == a.id and r.headers["Idempotent-Replayed"] == "true"
    assert len(client.v1.checkout.sessions.list().data) == 2


def test_idempotency_key_reused_with_other_parameters_is_refused(client, emu):
    opts = {"idempotency_key": "checkout-b1"}
    first = client.v1.checkout.sessions.create(session_params(expires_at=int(time.time()) + 3600), opts)
    # a retry that recomputed expires_at: real Stripe answers 400 idempotency_error
    with pytest.raises(stripe.IdempotencyError) as ei:
        client.v1.checkout.sessions.create(session_params(expires_at=int(time.time()) + 3700), opts)
    assert ei.value.http_status == 400
    assert ei.value.error.type == "idempotency_error"
    assert str(ei.value.user_message) == (
        "Keys for idempotent requests can only be used with the same parameters they were first used with. "
        "Try using a key other than 'checkout-b1' if you meant to execute a different request.")
    assert len(client.v1.checkout.sessions.list().data) == 1
    # the refusal is not stored: the original parameters still replay the first answer
    again = client.v1.checkout.sessions.create(session_params(expires_at=first.expires_at), opts)
    assert again.id == first.id
    # the same key on another endpoint is a different request too
    with pytest.raises(stripe.IdempotencyError):
        client.v1.accounts.create({"type": "express"}, opts)


def test_validation_error_is_not_stored_under_the_key(client, emu):
    """Stripe saves a result only once the endpoint starts executing: a request
    refused for its parameters leaves the key free for the corrected request."""
    opts = {"idempotency_key": "checkout-b2"}
    with pytest.raises(stripe.InvalidRequestError) as ei:
        client.v1.checkout.sessions.create(session_params(expires_at=int(time.time()) + 60), opts)
    assert ei.value.param == "expires_at"
    ok = client.v1.checkout.sessions.create(session_params(expires_at=int(time.time()) + 3600), opts)
    assert ok.status == "open"


def test_wrong_api_key(emu):
    bad = stripe.StripeClient("sk_test_wrong", base_addresses={"api": emu.url},
                              max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError):
        bad.v1.checkout.sessions.create(session_params())


# --------------------------------------------------------------------------- hosted page + webhooks


def test_pay_redirects_and_sends_verified_webhook(client, emu, receiver):
    s = client.v1.checkout.sessions.create(session_params())
    r = pay(emu, s.id)
    assert r.status_code == 303
    assert r.headers["Location"] == f"https://loket.test/ok?session_id={s.id}"
    # the first delivery is synchronous: the event is there before the redirect
    ev = receiver.events("checkout.session.completed")
    assert len(ev) == 1
    obj = ev[0].data.object
    assert obj.id == s.id and obj.status == "complete" and obj.payment_status == "paid"
    assert obj.customer_details.email == "koper@example.nl"
    assert obj.metadata["basket_id"] == "b1"
    assert receiver.hits[0]["content_type"].startswith("application/json")
    raw = json.loads(receiver.hits[0]["raw"])
    assert raw["object"] == "event" and raw["livemode"] is False and raw["id"].startswith("evt_")
    assert raw["api_version"] and raw["request"] == {"id": None, "idempotency_key": None}

    done = client.v1.checkout.sessions.retrieve(s.id)
    assert done.status == "complete" and done.payment_intent.startswith("pi_test_")
    pi = client.v1.payment_intents.retrieve(done.payment_intent)
    assert (pi.amount, pi.currency, pi.status) == (5150, "eur", "succeeded")
    assert pi.transfer_group == "basket_b1" and pi.metadata["basket_id"] == "b1"
    assert pi.latest_charge.startswith("ch_test_")

    assert client.v1.events.retrieve(raw["id"]).type == "checkout.session.completed"
    listed = requests.get(f"{emu.url}/_emulator/events", timeout=10).json()
    assert [e["id"] for e in listed] == [raw["id"]]
    assert emu.deliveries()[0]["status"] == 200

    page = requests.get(s.url, timeout=10).text
    assert "al voltooid" in page


def test_paying_twice_sends_one_event(client, emu, receiver):
    s = client.v1.checkout.sessions.create(session_params())
    assert pay(emu, s.id).status_code == 303
    second = pay(emu, s.id)
    assert second.status_code == 303 and s.id in second.headers["Location"]
    assert len(receiver.events("checkout.session.completed")) == 1
    assert [e["type"] for e in emu.events()] == ["checkout.session.completed"]


def pay_by_bank(emu, sid):
    return requests.post(f"{emu.url}/pay/{sid}/complete?method=bank_transfer", allow_redirects=False,
                         timeout=10)


def test_bank_transfer_completes_unpaid_then_succeeds(client, emu, receiver):
    s = client.v1.checkout.sessions.create(session_params(payment_method_types=None))
    assert s.payment_method_types == ["card", "sepa_debit"]
    assert 'id="pay-bank"' in requests.get(s.url, timeout=10).text
    r = pay_by_bank(emu, s.id)
    assert r.status_code == 303 and r.headers["Location"] == f"https://loket.test/ok?session_id={s.id}"
    done = receiver.events("checkout.session.completed")[0].data.object
    assert (done.status, done.payment_status) == ("complete", "unpaid")
    pi = client.v1.payment_intents.retrieve(done.payment_intent)
    assert (pi.status, pi.amount_received, pi.payment_method_types) == ("processing", 0, ["sepa_debit"])
    assert "wordt verwerkt" in requests.get(s.url, timeout=10).text
    # nothing to refund while the bank has not paid
    with pytest.raises(stripe.InvalidRequestError) as ei:
        client.v1.refunds.create({"payment_intent": pi.id})
    assert "does not have a successful charge to refund" in str(ei.value.user_message)

    ev = emu.settle_async(s.id, succeeded=True)
    assert ev["type"] == "checkout.session.async_payment_succeeded"
    got = receiver.events("checkout.session.async_payment_succeeded")  # delivered before settle returns
    assert [e.id for e in got] == [ev["id"]] and got[0].data.object.payment_status == "paid"
    pi = client.v1.payment_intents.retrieve(done.payment_intent)
    assert (pi.status, pi.amount_received) == ("succeeded", 5150)
    assert client.v1.charges.retrieve(pi.latest_charge).status == "succeeded"
    assert client.v1.checkout.sessions.retrieve(s.id).payment_status == "paid"
    with pytest.raises(ValueError):
        emu.settle_async(s.id, succeeded=False)  # already settled
    assert [e["type"] for e in emu.events()] == ["checkout.session.completed",
                                                 "checkout.session.async_payment_succeeded"]


def test_bank_transfer_that_fails(client, emu, receiver):
    s = client.v1.checkout.sessions.create(session_params(payment_method_types=["card", "sepa_debit"]))
    assert pay_by_bank(emu, s.id).status_code == 303
    # the bank's answer, over HTTP as `make run` offers it
    r = requests.post(f"{emu.url}/_emulator/sessions/{s.id}/settle?outcome=failed", timeout=10)
    assert r.status_code == 200 and r.json()["type"] == "checkout.session.async_payment_failed"
    failed = receiver.events("checkout.session.async_payment_failed")[0].data.object
    assert (failed.id, failed.status, failed.payment_status) == (s.id, "complete", "unpaid")
    pi = client.v1.payment_intents.retrieve(failed.payment_intent)
    assert pi.status == "requires_payment_method" and pi.last_payment_error.code == "insufficient_funds"
    assert client.v1.charges.retrieve(pi.latest_charge).status == "failed"
    assert "mislukt" in requests.get(s.url, timeout=10).text
    assert requests.post(f"{emu.url}/_emulator/sessions/{s.id}/settle?outcome=failed",
                         timeout=10).status_code == 409


def test_bank_transfer_only_where_the_session_allows_it(client, emu, receiver):
    s = client.v1.checkout.sessions.create(session_params())  # payment_method_types=["card"]
    assert 'id="pay-bank"' not in requests.get(s.url, timeout=10).text
    assert pay_by_bank(emu, s.id).status_code == 400
    assert client.v1.checkout.sessions.retrieve(s.id).status == "open" and emu.events() == []


def test_cancel_keeps_session_open(client, emu, receiver):
    s = client.v1.checkout.sessions.create(session_params())
    r = requests.post(f"{emu.url}/pay/{s.id}/cancel", allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "https://loket.test/cancel"
    assert client.v1.checkout.sessions.retrieve(s.id).status == "open"
    assert emu.events() == []


def test_expire_via_sdk_sends_expired_event(client, emu, receiver):
    s = client.v1.checkout.sessions.create(session_params())
    expired = client.v1.checkout.sessions.expire(s.id)
    assert expired.status == "expired"
    hits = receiver.wait_for(lambda h: len(h) >= 1)
    assert hits[0]["event"].type == "checkout.session.expired"
    assert hits[0]["event"].data.object.id == s.id
    # paying an expired session is refused
    r = pay(emu, s.id)
    assert r.status_code == 409 and "verlopen" in r.text


def test_expire_complete_session_fails(client, emu):
    s = client.v1.checkout.sessions.create(session_params())
    pay(emu, s.id)
    with pytest.raises(stripe.InvalidRequestError) as ei:
        client.v1.checkout.sessions.expire(s.id)
    assert 'status in ["open"]' in str(ei.value)


def test_expire_due(client, emu, receiver):
    s = client.v1.checkout.sessions.create(session_params())
    assert emu.expire_due(now=time.time()) == []
    assert emu.expire_due(now=s.expires_at) == [s.id]
    assert receiver.events("checkout.session.expired")[0].data.object.id == s.id
    assert emu.expire_due(now=s.expires_at + 10) == []


def test_bad_secret_fails_verification(client, emu, receiver):
    receiver.secret = "whsec_something_else"
    s = client.v1.checkout.sessions.create(session_params())
    pay(emu, s.id)
    hits = receiver.wait_for(lambda h: len(h) >= 1)
    assert hits[0]["status"] == 400 and "error" in hits[0]
    # and the same bytes verify with the right secret -> the signature is real
    raw = hits[0]["raw"]
    assert raw == emu.event_payload(json.loads(raw)["id"])
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(raw, "t=1,v1=deadbeef", SECRET)


def test_webhook_retry_after_500():
    receiver = Receiver(fail_first=1)
    emu = StripeEmulator(webhook_url=receiver.url).start()
    emu.retry_delays = (0.05, 0.1, 0.2, 0.4)
    try:
        client = stripe.StripeClient(API_KEY, base_addresses={"api": emu.url},
                                     max_network_retries=0)
        s = client.v1.checkout.sessions.create(session_params())
        t0 = time.monotonic()
        assert pay(emu, s.id).status_code == 303
        assert time.monotonic() - t0 < 2  # the retry never blocks the buyer
        hits = receiver.wait_for(lambda h: len(h) >= 2)
        assert [h["status"] for h in hits] == [500, 200]
        assert hits[0]["raw"] == hits[1]["raw"]
        assert hits[1]["event"].type == "checkout.session.completed"
        done, stop = threading.Event(), threading.Event()

        def poll():
            while len(emu.deliveries()) < 2 and not stop.wait(0.01):
                pass
            done.set()

        threading.Thread(target=poll, daemon=True).start()
        assert done.wait(5)
        stop.set()
        assert [d["status"] for d in emu.deliveries()] == [500, 200]
    finally:
        emu.stop()
        receiver.close()


def test_no_webhook_url_records_only():
    emu = StripeEmulator().start()
    try:
        client = stripe.StripeClient(API_KEY, base_addresses={"api": emu.url},
                                     max_network_retries=0)
        s = client.v1.checkout.sessions.create(session_params())
        assert pay(emu, s.id).status_code == 303
        assert [e["type"] for e in emu.events()] == ["checkout.session.completed"]
        assert emu.deliveries() == []
    finally:
        emu.stop()


# --------------------------------------------------------------------------- connect, refunds


def test_accounts_transfers_refunds(client, emu, receiver):
    acct = client.v1.accounts.create({"type": "express", "country": "NL",
                                      "email": "org@example.nl",
                                      "business_profile": {"name": "Zaal A"},
                                      "capabilities": {"transfers": {"requested": True},
                                                       "card_payments": {"requested": True}},
                                      "metadata": {"org": "o1"}})
    assert acct.id.startswith("acct_") and acct.charges_enabled is True
    assert acct.capabilities.to_dict() == {"transfers": "active", "card_payments": "active"}
    assert client.v1.accounts.retrieve(acct.id).business_profile.name == "Zaal A"

    s = client.v1.checkout.sessions.create(session_params())
    pay(emu, s.id)
    pi = client.v1.payment_intents.retrieve(client.v1.checkout.sessions.retrieve(s.id).payment_intent)

    opts = {"idempotency_key": "transfer-b1-o1"}
    params = {"amount": 4000, "currency": "eur", "destination": acct.id,
              "transfer_group": "basket_b1", "source_transaction": pi.latest_charge,
              "metadata": {"basket_id": "b1"}}
    tr = client.v1.transfers.create(params, opts)
    tr2 = client.v1.transfers.create(params, opts)
    assert tr.id.startswith("tr_test_") and tr2.id == tr.id
    assert (tr.amount, tr.destination, tr.transfer_group) == (4000, acct.id, "basket_b1")
    assert client.v1.transfers.retrieve(tr.id).metadata["basket_id"] == "b1"
    listed = client.v1.transfers.list({"transfer_group": "basket_b1"})
    assert [t.id for t in listed.data] == [tr.id]
    assert client.v1.transfers.list({"transfer_group": "other"}).data == []

    with pytest.raises(stripe.InvalidRequestError) as ei:
        client.v1.transfers.create({"amount": 100, "currency": "eur",
                                    "destination": "acct_doesnotexist"})
    assert ei.value.param == "destination"

    ref = client.v1.refunds.create({"payment_intent": pi.id, "amount": 1000,
                                    "metadata": {"reason": "test"}})
    assert ref.id.startswith("re_test_") and ref.status == "succeeded" and ref.amount == 1000
    assert client.v1.refunds.retrieve(ref.id).payment_intent == pi.id
    rest = client.v1.refunds.create({"payment_intent": pi.id})
    assert rest.amount == 4150
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create({"payment_intent": pi.id, "amount": 1})
    types = [e["type"] for e in emu.events()]
    assert types.count("refund.created") == 2 and types.count("charge.refunded") == 2
    receiver.wait_for(lambda h: len(h) >= 5)  # completed + 2x(refund.created, charge.refunded)

    deleted = client.v1.accounts.delete(acct.id)
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.accounts.retrieve(acct.id)


def test_transfer_needs_the_transfers_capability(client, emu):
    s = client.v1.checkout.sessions.create(session_params())
    pay(emu, s.id)
    charge = client.v1.payment_intents.retrieve(
        client.v1.checkout.sessions.retrieve(s.id).payment_intent).latest_charge
    params = {"amount": 1000, "currency": "eur", "source_transaction": charge}

    # created without requesting the capability: Stripe refuses the transfer
    bare = client.v1.accounts.create({"type": "express", "country": "BE"})
    assert "transfers" not in bare.capabilities.to_dict() and bare.payouts_enabled is False
    with pytest.raises(stripe.InvalidRequestError) as ei:
        client.v1.transfers.create({**params, "destination": bare.id})
    assert (ei.value.http_status, ei.value.code) == (400, "insufficient_capabilities_for_transfer")
    assert str(ei.value.user_message) == (
        "Your destination account needs to have at least one of the following capabilities enabled: "
        "transfers, crypto_transfers, legacy_payments")

    # requesting it later (POST /v1/accounts/{id}) onboards it, in test mode at once
    updated = client.v1.accounts.update(bare.id, {"capabilities": {"transfers": {"requested": True}}})
    assert updated.capabilities.transfers == "active"
    assert client.v1.transfers.create({**params, "destination": bare.id}).amount == 1000

    # a seeded account is onboarded, until it loses the capability
    seeded = emu.add_account("acct_seededvenue01")
    assert seeded["capabilities"]["transfers"] == "active"
    assert client.v1.transfers.create({**params, "destination": seeded["id"]}).destination == seeded["id"]
    emu.set_capability(seeded["id"], "transfers", "inactive")
    assert client.v1.accounts.retrieve(seeded["id"]).capabilities.transfers == "inactive"
    with pytest.raises(stripe.InvalidRequestError) as ei:
        client.v1.transfers.create({**params, "destination": seeded["id"]})
    assert ei.value.code == "insufficient_capabilities_for_transfer"
    with pytest.raises(ValueError):
        emu.set_capability(seeded["id"], "transfers", "enabled")


def test_transfer_cannot_exceed_what_is_left_of_the_source_charge(client, emu):
    acct = emu.add_account()
    s = client.v1.checkout.sessions.create(session_params())  # 5150
    pay(emu, s.id)
    charge = client.v1.payment_intents.retrieve(
        client.v1.checkout.sessions.retrieve(s.id).payment_intent).latest_charge
    base = {"currency": "eur", "destination": acct["id"], "source_transaction": charge}
    client.v1.transfers.create({**base, "amount": 4000})
    with pytest.raises(stripe.InvalidRequestError) as ei:
        client.v1.transfers.create({**base, "amount": 1151})
    assert (ei.value.http_status, ei.value.code, ei.value.param) == (400, "balance_insufficient",
                                                                      "source_transaction")
    assert "€ 11,50" in str(ei.value.user_message)
    assert client.v1.transfers.create({**base, "amount": 1150}).amount == 1150


# --------------------------------------------------------------------------- injected faults


@pytest.fixture
def retrying(emu, monkeypatch):
    """A client that retries like Loket's (max_network_retries=2), without the SDK's half-second backoff."""
    from stripe._http_client import HTTPClient

    monkeypatch.setattr(HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(HTTPClient, "MAX_DELAY", 0.02)
    return stripe.StripeClient(API_KEY, base_addresses={"api": emu.url}, max_network_retries=2)


def test_fault_stripe_error(client, retrying, emu):
    with faults.injected(stripe_error=1.0):
        r = requests.post(f"{emu.url}/v1/checkout/sessions", headers={
            "Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "k-error"},
            data=list(_api_encode(session_params())), timeout=10)
        with pytest.raises(stripe.APIError) as ei:  # the SDK retries a 5xx itself, then gives up
            retrying.v1.checkout.sessions.create(session_params(), {"idempotency_key": "k-error"})
    assert r.status_code == 500 and r.json()["error"]["type"] == "api_error"
    assert "Stripe-Should-Retry" not in r.headers
    assert ei.value.http_status == 500
    assert emu.injected == {"stripe_error": 4, "stripe_rate_limit": 0, "stripe_timeout": 0}
    assert {(f["kind"], f["method"], f["path"]) for f in emu.fault_log} == {
        ("stripe_error", "POST", "/v1/checkout/sessions")}
    # nothing was processed nor stored under the key: the same request now creates the session
    assert client.v1.checkout.sessions.list().data == []
    s = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "k-error"})
    assert "Idempotent-Replayed" not in s.last_response.headers


def test_fault_stripe_rate_limit(client, retrying, emu):
    with faults.injected(stripe_rate_limit=1.0):
        with pytest.raises(stripe.RateLimitError) as ei:
            retrying.v1.checkout.sessions.create(session_params(), {"idempotency_key": "k-429"})
    assert ei.value.http_status == 429 and ei.value.error.code == "rate_limit"
    assert ei.value.error.type == "invalid_request_error"
    assert str(ei.value.user_message).startswith("Request rate limit exceeded.")
    assert emu.injected["stripe_rate_limit"] == 1  # a real rate limit is not retried by the SDK
    assert client.v1.checkout.sessions.list().data == []
    assert client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "k-429"}).status == "open"


def test_fault_stripe_timeout_before_processing(client, emu):
    emu.timeout_phase = "before"
    with faults.injected(stripe_timeout=1.0):
        with pytest.raises(stripe.APIConnectionError) as ei:
            client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "k-lost"})
    assert ei.value.should_retry is True
    assert emu.fault_log[0]["phase"] == "before"
    assert client.v1.checkout.sessions.list().data == []
    s = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "k-lost"})
    assert "Idempotent-Replayed" not in s.last_response.headers


def test_fault_stripe_timeout_after_processing_replays_on_retry(client, retrying, emu, receiver):
    emu.timeout_phase = "after"
    with faults.injected(stripe_timeout=1.0):
        with pytest.raises(stripe.APIConnectionError):
            client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "k-done"})
        # the SDK retries a lost connection with the same key; every answer is lost again
        with pytest.raises(stripe.APIConnectionError):
            retrying.v1.checkout.sessions.create(session_params(), {"idempotency_key": "k-done"})
    assert emu.injected["stripe_timeout"] == 4
    assert {f["phase"] for f in emu.fault_log} == {"after"}
    created = client.v1.checkout.sessions.list().data
    assert len(created) == 1  # processed once, replayed for every retry
    again = retrying.v1.checkout.sessions.create(session_params(), {"idempotency_key": "k-done"})
    assert again.id == created[0].id and again.last_response.headers["Idempotent-Replayed"] == "true"

    # an action whose answer was lost still happened, and its events went out
    emu.timeout_phase = None
    pay(emu, again.id)
    pi = client.v1.checkout.sessions.retrieve(again.id).payment_intent
    with faults.injected(stripe_timeout=1.0):
        emu.timeout_phase = "after"
        with pytest.raises(stripe.APIConnectionError):
            retrying.v1.refunds.create({"payment_intent": pi}, {"idempotency_key": "refund-1"})
    refund = client.v1.refunds.create({"payment_intent": pi}, {"idempotency_key": "refund-1"})
    assert refund.amount == 5150 and refund.last_response.headers["Idempotent-Replayed"] == "true"
    receiver.wait_for(lambda h: sum(1 for x in h if "event" in x and x["event"].type == "charge.refunded") == 1)
    assert [e["type"] for e in emu.events()].count("refund.created") == 1


def test_faults_only_touch_the_api(client, emu):
    s = client.v1.checkout.sessions.create(session_params())
    with faults.injected(stripe_error=1.0, stripe_rate_limit=1.0, stripe_timeout=1.0):
        assert requests.get(s.url, timeout=10).status_code == 200
        assert requests.get(f"{emu.url}/_emulator/events", timeout=10).status_code == 200
        assert pay(emu, s.id).status_code == 303
    assert emu.injected == {"stripe_error": 0, "stripe_rate_limit": 0, "stripe_timeout": 0}


def test_timeout_phase_is_random_by_default(client, emu):
    emu._fault_random.seed(7)
    with faults.injected(stripe_timeout=1.0):
        for _ in range(12):
            with pytest.raises(stripe.APIConnectionError):
                client.v1.checkout.sessions.create(session_params())
    phases = [f["phase"] for f in emu.fault_log]
    assert set(phases) == {"before", "after"}
    assert len(client.v1.checkout.sessions.list({"limit": 100}).data) == phases.count("after")
