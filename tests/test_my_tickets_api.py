"""'My tickets' through the API, on the in-process stack (moto with IAM, the
Stripe emulator, SES on moto): the link request answers the same for every
address, the link works once and opens a short session with the buyer's
tickets at every venue, each venue asked on its own role."""

from __future__ import annotations

import email
import re
import statistics
import threading
import time
import uuid
from email import policy

import pytest

from chalicelib import bootstrap
from chalicelib.adapters import secrets
from chalicelib.domain import my_tickets as rules

LINK = re.compile(r"#link=([A-Za-z0-9_-]+)")


def address(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@example.be"


def client_header() -> dict[str, str]:
    """Every test is its own client (the edge's CloudFront-Viewer-Address)."""
    return {"CloudFront-Viewer-Address": f"198.51.100.{uuid.uuid4().int % 250 + 1}:{uuid.uuid4().int % 60000 + 1024}"}


def mails_to(to: str) -> list[email.message.EmailMessage]:
    """Every mail SES sent to `to`, newest first."""
    from local import moto_mail

    found = []
    for sent in moto_mail.sent_messages():
        message = email.message_from_string(sent["raw"], policy=policy.default)
        if to in str(message["To"]):
            found.append(message)
    return found


def link_mails(to: str) -> list[email.message.EmailMessage]:
    """The "my tickets" links among them (a buyer also gets each order's confirmation)."""
    return [m for m in mails_to(to) if LINK.search(m.get_body(("plain",)).get_content())]


def session_for(to: str, language: str = "en") -> str:
    """A session as an opened link gives it (the link itself is tested above; the
    buyer's address gets only LINKS_PER_ADDRESS links per window)."""
    return rules.seal(secrets.token_signing_key(), rules.SESSION, to, language, int(time.time()) + 600)


def link_in(message) -> str:
    return LINK.search(message.get_body(("plain",)).get_content()).group(1)


def ask_link(api, to: str, language: str = "nl", client: dict | None = None, key: str | None = None):
    headers = {**(client or client_header()), **({"Idempotency-Key": key} if key else {})}
    return api.call("POST", "/my-tickets/link", {"email": to, "language": language}, headers=headers, buyer="")


def open_link(api, link: str, key: str | None = None):
    return api.call("POST", "/my-tickets/session", {"link": link}, buyer="",
                    headers={"Idempotency-Key": key} if key else None)


def my_tickets(api, session: str):
    return api.call("GET", "/my-tickets", headers={"X-My-Tickets-Session": session}, buyer="")


@pytest.fixture(scope="module")
def buyer(api):
    """One buyer who paid at two venues, with a mixed-case address as typed at checkout."""
    to = address("an")
    events = [api.new_event("concertzaal"), api.new_event("club-kaap")]
    bought = [api.buy(event, quantity=2 if n == 0 else 1, email=to.upper() if n == 0 else to)
              for n, event in enumerate(events)]
    return {"email": to, "bought": bought}


def test_known_and_unknown_addresses_get_the_same_answer_in_the_same_time(api, buyer):
    answers, seconds = {"known": [], "unknown": []}, {"known": [], "unknown": []}
    client = client_header()
    for kind, to in [("known", buyer["email"]), ("unknown", address("nobody")),
                     ("unknown", address("niemand")), ("known", buyer["email"])]:
        started = time.monotonic()
        answer = ask_link(api, to, client=client)
        seconds[kind].append(time.monotonic() - started)
        answers[kind].append((answer.status_code, answer.data,
                              {k: v for k, v in answer.headers.items() if k.lower() not in ("x-request-id", "date")}))
    assert answers["known"] == answers["unknown"]
    assert answers["known"][0][0] == 202 and answers["known"][0][1] == {"status": "accepted", "link_minutes": 15}
    # Neither answer comes before the floor; what differs (the mail) hides under it.
    assert min(seconds["known"] + seconds["unknown"]) >= 1.0
    assert abs(statistics.mean(seconds["known"]) - statistics.mean(seconds["unknown"])) < 0.25, seconds
    assert len(link_mails(buyer["email"])) >= 2


def test_unknown_addresses_get_no_mail(api):
    to = address("onbekend")
    assert ask_link(api, to).status_code == 202
    assert mails_to(to) == []


def test_the_link_opens_the_buyers_tickets_at_both_venues_once(api, buyer):
    assert ask_link(api, buyer["email"], language="fr").status_code == 202
    message = link_mails(buyer["email"])[0]
    assert message["Subject"] == "Vos billets chez Loket Bruges"
    assert buyer["email"] not in message.get_body(("plain",)).get_content().split("#link=")[1]
    link = link_in(message)

    key = str(uuid.uuid4())
    opened = open_link(api, link, key)
    assert opened.status_code == 201, opened.data
    assert opened.data["language"] == "fr"
    again = open_link(api, link)
    assert again.status_code == 410 and again.data["type"].endswith("/link-used")
    assert open_link(api, link, str(uuid.uuid4())).status_code == 410
    retried = open_link(api, link, key)  # the first request again, its answer lost: it gets a session too
    assert retried.status_code == 201 and retried.data["language"] == "fr"

    mine = my_tickets(api, opened.data["session"])
    assert mine.status_code == 200, mine.data
    assert mine.data["email"] == buyer["email"]
    expected = {(o["venue"], o["order_id"], t["code"]) for b in buyer["bought"] for o in b["basket"]["orders"]
                for t in o["tickets"]}
    shown = {(o["venue"], o["order_id"], t["code"]) for o in mine.data["orders"] for t in o["tickets"]}
    assert shown == expected and len(shown) == 3
    assert {o["venue"] for o in mine.data["orders"]} == {"concertzaal", "club-kaap"}
    # The session survives a reload; the link does not come back to life.
    assert my_tickets(api, opened.data["session"]).data["orders"] == mine.data["orders"]


def test_expired_changed_and_foreign_links_are_refused(api, buyer):
    key = secrets.token_signing_key()
    expired = rules.seal(key, rules.LINK, buyer["email"], "nl", int(time.time()) - 1)
    answer = open_link(api, expired)
    assert answer.status_code == 410 and answer.data["type"].endswith("/link-expired")

    foreign = rules.seal(b"x" * 48, rules.LINK, buyer["email"], "nl", int(time.time()) + 600)
    for bad in (foreign, expired[:-6] + "AAAAAA", "nonsense"):
        answer = open_link(api, bad)
        assert answer.status_code == 400 and answer.data["type"].endswith("/link-invalid"), answer.data
    # A session is not a link, and a link is not a session.
    session = rules.seal(key, rules.SESSION, buyer["email"], "nl", int(time.time()) + 600)
    assert open_link(api, session).status_code == 400
    assert my_tickets(api, rules.seal(key, rules.LINK, buyer["email"], "nl", int(time.time()) + 600)).status_code == 401
    stale = my_tickets(api, rules.seal(key, rules.SESSION, buyer["email"], "nl", int(time.time()) - 1))
    assert stale.status_code == 401 and stale.data["type"].endswith("/my-tickets-session-expired")
    assert my_tickets(api, "").status_code == 401


def test_bad_requests_are_problems_and_send_nothing(api):
    for body in ({"email": "not-an-address"}, {"email": address("x"), "language": "de"}, {}):
        answer = api.call("POST", "/my-tickets/link", body, headers=client_header(), buyer="")
        assert answer.status_code == 422 and answer.data["type"].endswith("/validation-error"), answer.data
    assert api.call("POST", "/my-tickets/session", {"link": ""}, buyer="").status_code == 422


def test_a_client_asking_too_often_gets_429_with_retry_after(api):
    client = client_header()
    for _ in range(rules.LINKS_PER_CLIENT):
        assert ask_link(api, address("veel"), client=client).status_code == 202
    refused = ask_link(api, address("veel"), client=client)
    assert refused.status_code == 429 and refused.data["type"].endswith("/rate-limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= rules.CLIENT_WINDOW_SECONDS
    assert ask_link(api, address("ander"), client=client_header()).status_code == 202  # another client is not held up


def test_an_address_gets_a_few_links_per_window_and_a_retry_no_second_mail(api, buyer):
    to = address("vaak")
    api.buy(api.new_event("cc-reien"), email=to)
    key = str(uuid.uuid4())
    assert ask_link(api, to, key=key).status_code == 202
    assert ask_link(api, to, key=key).status_code == 202  # a retry of the same request
    assert len(link_mails(to)) == 1
    for _ in range(rules.LINKS_PER_ADDRESS + 1):
        assert ask_link(api, to).status_code == 202  # the same answer, also past the limit
    assert len(link_mails(to)) == rules.LINKS_PER_ADDRESS


def test_one_buyers_link_never_shows_another_buyers_orders(api, buyer):
    other = address("bert")
    event = api.new_event("concertzaal")
    theirs = api.buy(event, email=other)
    assert ask_link(api, other).status_code == 202
    session = open_link(api, link_in(link_mails(other)[0])).data["session"]
    shown = my_tickets(api, session).data["orders"]
    assert [o["order_id"] for o in shown] == [theirs["basket"]["orders"][0]["order_id"]]
    mine = {o["order_id"] for b in buyer["bought"] for o in b["basket"]["orders"]}
    assert not mine & {o["order_id"] for o in shown}


def test_a_deactivated_venue_is_skipped(api):
    to = address("reien")
    api.buy(api.new_event("cc-reien"), email=to)
    api.buy(api.new_event("stadsloket"), email=to)
    assert ask_link(api, to).status_code == 202
    session = open_link(api, link_in(link_mails(to)[0])).data["session"]
    network = bootstrap.network()
    network.update_venue("cc-reien", status="suspended")
    try:
        shown = my_tickets(api, session).data
        assert {o["venue"] for o in shown["orders"]} == {"stadsloket"}
        assert shown["unavailable"] == []
    finally:
        network.update_venue("cc-reien", status="active")
    assert {o["venue"] for o in my_tickets(api, session).data["orders"]} == {"cc-reien", "stadsloket"}


def confirmations(to: str, order_id: str) -> list:
    return [m for m in mails_to(to) if m["X-Loket-Order"] == order_id]


def test_the_buyer_has_a_venue_send_an_orders_confirmation_again_once_per_while(api, buyer):
    session = session_for(buyer["email"])
    order = next(o for b in buyer["bought"] for o in b["basket"]["orders"] if o["venue"] == "club-kaap")
    path = f"/my-tickets/club-kaap/orders/{order['order_id']}/resend"
    before = len(confirmations(buyer["email"], order["order_id"]))
    key = str(uuid.uuid4())
    sent = api.call("POST", path, headers={"X-My-Tickets-Session": session, "Idempotency-Key": key}, buyer="")
    assert sent.status_code == 202, sent.data
    again = api.call("POST", path, headers={"X-My-Tickets-Session": session, "Idempotency-Key": key}, buyer="")
    assert (again.status_code, again.data) == (202, sent.data)  # a retry: the same answer, no second mail
    mails = confirmations(buyer["email"], order["order_id"])
    assert len(mails) == before + 1
    assert "club-kaap" in str(mails[0]["From"])  # from the selling venue, with the tickets attached
    assert {part.get_content_type() for part in mails[0].iter_attachments()} >= {"application/pdf", "text/calendar"}

    soon = api.call("POST", path, headers={"X-My-Tickets-Session": session, "Idempotency-Key": str(uuid.uuid4())},
                    buyer="")
    assert soon.status_code == 429 and soon.data["type"].endswith("/rate-limited")
    assert 1 <= int(soon.headers["Retry-After"]) <= rules.RESEND_COOLDOWN_SECONDS
    assert len(confirmations(buyer["email"], order["order_id"])) == before + 1


def test_nobody_has_an_order_re_sent_that_is_not_theirs_or_not_at_that_venue(api, buyer):
    stranger = address("vreemd")
    api.buy(api.new_event("club-kaap"), email=stranger)
    assert ask_link(api, stranger).status_code == 202
    session = open_link(api, link_in(link_mails(stranger)[0])).data["session"]
    order = next(o for b in buyer["bought"] for o in b["basket"]["orders"] if o["venue"] == "club-kaap")
    for venue in ("club-kaap", "concertzaal"):  # not theirs; and not an order of that venue at all
        answer = api.call("POST", f"/my-tickets/{venue}/orders/{order['order_id']}/resend",
                          headers={"X-My-Tickets-Session": session}, buyer="")
        assert answer.status_code == 404 and answer.data["type"].endswith("/not-found"), answer.data
    assert api.call("POST", f"/my-tickets/club-kaap/orders/{order['order_id']}/resend", buyer="").status_code == 401


def test_a_venue_that_does_not_answer_in_time_is_named_and_the_others_still_answer(api, monkeypatch):
    from chalicelib.adapters.my_tickets_store import CustomerTickets
    from chalicelib.services import my_tickets as service

    to = address("traag")
    api.buy(api.new_event("cc-reien"), email=to)
    api.buy(api.new_event("stadsloket"), email=to)
    stuck = threading.Event()
    asked = CustomerTickets.customer_of

    def customer_of(self, email):
        if self.venue == "cc-reien":
            stuck.wait(timeout=30)  # this venue hangs until the test has its answer
        return asked(self, email)

    monkeypatch.setattr(CustomerTickets, "customer_of", customer_of)
    monkeypatch.setattr(service, "VENUE_ANSWER_SECONDS", 0.5)
    try:
        started = time.monotonic()
        shown = my_tickets(api, session_for(to)).data
        assert time.monotonic() - started < 5
        assert {o["venue"] for o in shown["orders"]} == {"stadsloket"}
        assert shown["unavailable"] == ["cc-reien"]
    finally:
        stuck.set()


def test_orders_paid_before_customers_listed_them_are_found_and_linked_once(api):
    from chalicelib.adapters.dynamo import key
    from chalicelib.domain import tickets as ticket_codes

    to = address("ouder")
    bought = api.buy(api.new_event("concertzaal"), email=to)
    store = bootstrap.worker_store("concertzaal")
    customer_id = ticket_codes.customer_id(to, store.secret())
    # As the customer record looked before it listed its orders: only the count.
    store.db.update_item(TableName=store.table, Key=key(f"CUSTOMER#{customer_id}", "CUSTOMER"),
                         UpdateExpression="REMOVE order_ids")
    shown = my_tickets(api, session_for(to)).data["orders"]
    assert [o["order_id"] for o in shown] == [bought["basket"]["orders"][0]["order_id"]]
    assert store.get_customer(customer_id)["order_ids"] == [bought["basket"]["orders"][0]["order_id"]]
    assert my_tickets(api, session_for(to)).data["orders"] == shown  # linked once, not twice
    assert store.get_customer(customer_id)["order_ids"] == [bought["basket"]["orders"][0]["order_id"]]


def test_the_buyer_gets_fresh_links_to_an_orders_pdf_and_calendar_only_for_their_own_orders(api, buyer):
    import requests

    order = next(o for b in buyer["bought"] for o in b["basket"]["orders"] if o["venue"] == "concertzaal")
    path = f"/my-tickets/concertzaal/orders/{order['order_id']}/documents"
    answer = api.call("GET", path, headers={"X-My-Tickets-Session": session_for(buyer["email"])}, buyer="")
    assert answer.status_code == 200, answer.data
    kinds = {d["kind"]: d["url"] for d in answer.data["documents"]}
    assert set(kinds) == {"pdf", "ics"}
    pdf = requests.get(kinds["pdf"], timeout=10)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    stranger = api.call("GET", path, headers={"X-My-Tickets-Session": session_for(address("vreemd"))}, buyer="")
    assert stranger.status_code == 404
    assert api.call("GET", path, buyer="").status_code == 401
