"""A paid order's tickets reach the buyer: on the in-process stack (moto with
IAM enforced, the Stripe emulator, the real payment worker), under the
suite's injected faults."""

from __future__ import annotations

import email
import uuid
from email import policy

import requests
from botocore.exceptions import ClientError

from chalicelib import bootstrap
from chalicelib.adapters import mail
from chalicelib.adapters.order_delivery_store import OrderDeliveryStore
from chalicelib.services import order_delivery
from local.moto_mail import sent_messages
from tests.test_ticket_documents import decoded_qr_codes


def mails_to(address: str) -> list[email.message.EmailMessage]:
    parsed = [email.message_from_string(m["raw"], policy=policy.default) for m in sent_messages()]
    return [m for m in parsed if m["To"] and m["To"].addresses[0].addr_spec == address]


def _two_venue_purchase(api, buyer: str, locale: str = "nl"):
    events = [api.new_event("concertzaal"), api.new_event("cc-reien")]
    holds = [api.hold(events[0], 2).data, api.hold(events[1], 1).data]
    checkout = api.call("POST", "/checkout", {
        "holds": [{"venue": h["venue"], "hold_id": h["hold_id"]} for h in holds],
        "buyer": {"name": "Lies Claes", "email": buyer}, "locale": locale},
        headers={"Idempotency-Key": str(uuid.uuid4())})
    assert checkout.status_code == 201, checkout.data
    return checkout.data


def test_a_paid_two_venue_basket_gets_documents_and_one_mail_per_venue_even_when_paid_twice(api, loket):
    buyer = f"lies.{uuid.uuid4().hex[:8]}@example.be"
    checkout = _two_venue_purchase(api, buyer, locale="fr")
    paid_event = api.pay(checkout["checkout_url"])
    assert api.deliver(paid_event).status_code == 200
    assert api.deliver(paid_event).status_code == 200  # Stripe retries its webhook
    api.run_workers()
    assert api.basket(checkout).data["status"] == "paid"
    # Another worker run for the same basket (the reconciler, a second event) changes nothing.
    for ref in api.basket(checkout).data["orders"]:
        store = bootstrap.worker_store(ref["venue"])
        tickets = store.tickets_of_order(ref["order_id"])
        assert order_delivery.deliver(bootstrap.network(), store, ref["order_id"], tickets,
                                      {"name": "Lies Claes", "email": buyer, "language": "fr"})

    received = mails_to(buyer)
    assert sorted(m["From"].addresses[0].addr_spec for m in received) == [
        "tickets@cc-reien.loket.test", "tickets@concertzaal.loket.test"]
    for message in received:
        assert message["Subject"].startswith("Vos billets pour ")
        assert "Bonjour Lies Claes" in message.get_body(("plain",)).get_content()
        assert "Merci pour votre commande" in message.get_body(("html",)).get_content()
        names = [part.get_filename() for part in message.iter_attachments()]
        assert names[0] == "tickets.pdf" and len(names) == 2 and names[1].endswith(".ics")

    documents = api.call("GET", f"/baskets/{checkout['basket_id']}/documents",
                         headers={"X-Basket-Token": checkout["basket_token"]})
    assert documents.status_code == 200, documents.data
    assert {o["venue"] for o in documents.data["orders"]} == {"concertzaal", "cc-reien"}
    for order in documents.data["orders"]:
        assert order["mail"] == "sent"
        pdf_link = next(d for d in order["documents"] if d["kind"] == "pdf")
        pdf = requests.get(pdf_link["url"], timeout=10)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        codes = [page[0] for page in decoded_qr_codes(pdf.content)]
        assert len(codes) == (2 if order["venue"] == "concertzaal" else 1)
        clerk = api.token(f"{order['venue']}-kassa")
        for code in codes:  # the door check accepts what the QR code says
            check = api.call("POST", f"/venues/{order['venue']}/tickets/check", {"code": code}, token=clerk)
            assert check.status_code == 200 and check.data["result"] == "valid", check.data
        ics_link = next(d for d in order["documents"] if d["kind"] == "ics")
        assert requests.get(ics_link["url"], timeout=10).content.startswith(b"BEGIN:VCALENDAR")
        # A link is the venue's own, signed and short-lived: tampering with it is refused.
        assert requests.get(pdf_link["url"].replace("tickets.pdf", "other.pdf"), timeout=10).status_code == 403


def test_documents_need_the_basket_token(api, loket):
    checkout = _two_venue_purchase(api, f"an.{uuid.uuid4().hex[:8]}@example.be")
    for token in ("", "not-the-token"):
        answer = api.call("GET", f"/baskets/{checkout['basket_id']}/documents", headers={"X-Basket-Token": token})
        assert answer.status_code == 404 and answer.headers["Content-Type"] == "application/problem+json"


def test_when_ses_refuses_to_answer_the_mail_is_retried_and_still_sent_once(api, loket, monkeypatch):
    buyer = f"jan.{uuid.uuid4().hex[:8]}@example.be"
    event = api.new_event("concertzaal")
    real_send, calls = mail.send, []

    def throttled_once(*args, **kwargs):
        calls.append(kwargs["to"])
        if len(calls) == 1:
            raise ClientError({"Error": {"Code": "Throttling", "Message": "Maximum sending rate exceeded."}},
                              "SendRawEmail")
        return real_send(*args, **kwargs)

    monkeypatch.setattr(mail, "send", throttled_once)
    hold = api.hold(event, 1).data
    checkout = api.checkout([hold], email=buyer).data
    assert api.deliver(api.pay(checkout["checkout_url"])).status_code == 200
    api.run_workers()
    order_id = api.basket(checkout).data["orders"][0]["order_id"]
    store = bootstrap.worker_store("concertzaal")
    assert OrderDeliveryStore(store).get(order_id)["mail_state"] == "retry"
    assert api.basket(checkout).data["status"] == "settling"  # the reconciler will come back
    assert mails_to(buyer) == []

    from chalicelib.services import sales

    for _ in range(2):  # the reconciler's next rounds
        sales.settle_basket(bootstrap.network(), bootstrap.worker_store, checkout["basket_id"])
    assert api.basket(checkout).data["status"] == "paid"
    assert len(mails_to(buyer)) == 1 and OrderDeliveryStore(store).get(order_id)["mail_state"] == "sent"


def test_a_venue_role_reads_only_its_own_venues_documents(api, loket):
    import pytest

    bought = api.buy(api.new_event("cc-reien"), 1, email=f"piet.{uuid.uuid4().hex[:8]}@example.be")
    order_id = bought["basket"]["orders"][0]["order_id"]
    theirs = OrderDeliveryStore(bootstrap.worker_store("cc-reien")).get(order_id)["documents"][0]["key"]
    mine = OrderDeliveryStore(bootstrap.worker_store("concertzaal"))
    with pytest.raises(ClientError) as refused:
        mine.get_document(theirs)
    assert refused.value.response["Error"]["Code"] in ("AccessDenied", "403")
    # A link signed by another venue's role opens nothing either.
    assert requests.get(mine.signed_link(theirs, "tickets.pdf", "application/pdf", 60), timeout=10).status_code == 403
