"""One local Loket per test process: moto with IAM enforced, the platform and
demo venue stacks deployed through CloudFormation, the Stripe emulator.
Tests create their own events so they do not depend on each other."""

from __future__ import annotations

import json
import os
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from chalicelib import bootstrap
from chalicelib.domain.model import NewHold

pytest_plugins = ["browser_site"]  # the running site and the shared Chromium, for browser tests
from chalicelib.errors import ServiceBusy, SoldOut
from chalicelib.services import sales
from local import demo, faults as local_faults, stack as local_stack
from local.runner import drain
from local.stripe_emulator import sign_payload


# The whole suite runs with the local stand-ins failing like AWS and Stripe
# at their worst (docs/faults.md); LOKET_FAULTS=off or other rates override.
SUITE_FAULTS = local_faults.parse(os.environ.get("LOKET_FAULTS", "test"))


@pytest.fixture(scope="session")
def loket():
    # No webhook URL: tests deliver each signed event themselves, through the
    # Chalice test client, so they control timing and can replay or tamper.
    stack = local_stack.start(webhook_url=None)
    demo.seed()
    local_faults.configure(SUITE_FAULTS)
    yield stack
    local_faults.configure(local_faults.OFF)
    stack.stop()


@pytest.fixture
def faults(loket):
    """`with faults(stripe_error=1.0): ...` raises some rates inside a test;
    every test starts from the suite's rates."""
    local_faults.configure(SUITE_FAULTS)
    yield local_faults.injected
    local_faults.configure(SUITE_FAULTS)


@pytest.fixture(scope="session")
def app(loket):
    import app as chalice_app

    return chalice_app


@pytest.fixture(scope="session")
def client(app):
    from chalice import local as chalice_local
    from chalice.test import Client

    # As `chalice local` does: the current request per thread, so tests may
    # send requests from several threads at once (in Lambda each instance
    # handles one request at a time; the test client otherwise shares one).
    if not isinstance(app.app, chalice_local.LocalChalice):
        chalice_local.CustomLocalChalice.__bases__ = (chalice_local.LocalChalice, app.app.__class__)
        app.app.__class__ = chalice_local.CustomLocalChalice
    with Client(app.app) as test_client:
        yield test_client


class Api:
    """Small JSON helper around the Chalice test client."""

    def __init__(self, client, loket, app) -> None:
        self.client, self.loket, self.app = client, loket, app
        self._tokens: dict[str, str] = {}
        self.buyer_session = ""

    def call(self, method: str, path: str, body=None, token: str | None = None, headers: dict | None = None,
             raw: bytes | None = None, buyer: str | None = None):
        """`buyer`: the buyer session to send; by default the suite's one buyer
        (the session the first reservation handed out), "" for none."""
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        session = self.buyer_session if buyer is None else buyer
        if session:
            all_headers["X-Buyer-Session"] = session
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client.http, method.lower())(path, headers=all_headers, body=payload)
        response.data = json.loads(response.body) if response.body else None
        if buyer is None and not self.buyer_session and response.headers.get("X-Buyer-Session"):
            self.buyer_session = response.headers["X-Buyer-Session"]
        return response

    def token(self, username: str) -> str:
        if username not in self._tokens:
            answer = self.call("POST", "/staff/session", {"username": username, "password": demo.DEMO_PASSWORD})
            assert answer.status_code == 200, answer.data
            self._tokens[username] = answer.data["id_token"]
        return self._tokens[username]

    def new_event(self, venue: str, capacity: int = 100, prices=None, days: int = 30) -> dict:
        lead = self.token(f"{venue}-lead")
        event = self.call("POST", f"/venues/{venue}/events", {
            "title": f"Testvoorstelling {uuid.uuid4().hex[:6]}", "hall": "Grote zaal",
            "price_types": prices or [{"code": "normaal", "label": "Normaal", "amount": 2500},
                                      {"code": "-26", "label": "-26", "amount": 1500}]}, token=lead)
        assert event.status_code == 201, event.data
        starts = (datetime.now(timezone.utc) + timedelta(days=days)).isoformat()
        performance = self.call("POST", f"/venues/{venue}/events/{event.data['event_id']}/performances",
                                {"starts_at": starts, "capacity": capacity}, token=lead)
        assert performance.status_code == 201, performance.data
        published = self.call("POST", f"/venues/{venue}/events/{event.data['event_id']}/publish", token=lead)
        assert published.status_code == 200, published.data
        return {"venue": venue, "event_id": event.data["event_id"],
                "performance_id": performance.data["performance_id"]}

    def hold(self, event: dict, quantity: int = 1, price_type: str = "normaal", key: str | None = None,
             buyer: str | None = None):
        return self.call("POST", "/holds", {**event, "tickets": [{"price_type": price_type, "quantity": quantity}]},
                         headers={"Idempotency-Key": key or str(uuid.uuid4())}, buyer=buyer)

    def checkout(self, holds: list[dict], email: str = "an.peeters@example.be", key: str | None = None):
        return self.call("POST", "/checkout", {
            "holds": [{"venue": h["venue"], "hold_id": h["hold_id"]} for h in holds],
            "buyer": {"name": "An Peeters", "email": email}}, headers={"Idempotency-Key": key or str(uuid.uuid4())})

    def pay(self, checkout_url: str) -> dict:
        """The buyer clicks 'Betalen' on the emulator's hosted page; returns the signed event Stripe sent."""
        response = requests.post(checkout_url + "/complete", allow_redirects=False, timeout=10)
        assert response.status_code == 303, response.text
        return self.loket.stripe.events()[-1]

    def deliver(self, stripe_event: dict, signature: str | None = None):
        payload = self.loket.stripe.event_payload(stripe_event["id"])
        header = signature or sign_payload(payload.decode(), "whsec_loket_emulator")
        return self.call("POST", "/stripe/webhook", raw=payload, headers={"Stripe-Signature": header})

    def transfers(self, transfer_group: str) -> list:
        """What Stripe paid out for a basket, read the way a person checks the
        dashboard: this observation is not under test, so no faults."""
        import stripe

        client = stripe.StripeClient("sk_test_loket_emulator", base_addresses={"api": self.loket.stripe.url})
        with local_faults.injected(stripe_error=0.0, stripe_rate_limit=0.0, stripe_timeout=0.0):
            return client.v1.transfers.list(params={"transfer_group": transfer_group}).data

    def run_workers(self) -> int:
        return drain(self.loket.outputs["PaymentEventsQueueUrl"], self.app.payment_events)

    def basket(self, checkout: dict):
        return self.call("GET", f"/baskets/{checkout['basket_id']}", headers={"X-Basket-Token": checkout["basket_token"]})

    def buy(self, event: dict, quantity: int = 1, email: str = "an.peeters@example.be") -> dict:
        hold = self.hold(event, quantity)
        assert hold.status_code == 201, hold.data
        checkout = self.checkout([hold.data], email=email)
        assert checkout.status_code == 201, checkout.data
        assert self.deliver(self.pay(checkout.data["checkout_url"])).status_code == 200
        self.run_workers()
        basket = self.basket(checkout.data)
        assert basket.data["status"] == "paid", basket.data
        return {"checkout": checkout.data, "basket": basket.data}


@pytest.fixture(scope="session")
def api(client, loket, app) -> Api:
    return Api(client, loket, app)


def race(event, buyers):
    """Every buyer tries once; a 503 'busy' answer is retried with the same
    Idempotency-Key, as the storefront does."""
    start = threading.Barrier(buyers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def buyer():
        request = NewHold(**event, tickets=[{"price_type": "normaal", "quantity": 1}])
        key, session = str(uuid.uuid4()), uuid.uuid4().hex  # every racing buyer is another session
        start.wait()
        result = "busy"
        for _ in range(20):
            try:
                sales.hold(bootstrap.network(), bootstrap.worker_store, request, key, buyer=session)
                result = "held"
            except SoldOut:
                result = "sold_out"
            except ServiceBusy:
                continue
            break
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=buyer) for _ in range(buyers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
