"""Privacy per venue (docs/privacy.md) on the in-process stack (moto with IAM,
the Stripe emulator, SES on moto): a lead exports and erases one person at
their own venue only, the buyer does the same through "my tickets", the
retention job anonymises exactly the buyers past the limit, and nobody but
the venue's lead reads its audit log."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from chalicelib import bootstrap
from chalicelib.adapters import aws, privacy_store, tenancy
from chalicelib.domain import privacy as rules
from chalicelib.services import privacy as service
from test_my_tickets_api import session_for
from test_ticket_documents import page_texts


def person(first: str) -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    return {"name": f"{first} Verhaegen{tag}", "email": f"{first.lower()}.{tag}@example.be"}


def buy_as(api, event: dict, who: dict[str, str], quantity: int = 1) -> dict:
    """A paid order by `who` (their own name, not the suite's An Peeters)."""
    hold = api.hold(event, quantity)
    assert hold.status_code == 201, hold.data
    checkout = api.call("POST", "/checkout", {"holds": [{"venue": event["venue"], "hold_id": hold.data["hold_id"]}],
                                              "buyer": who}, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert checkout.status_code == 201, checkout.data
    assert api.deliver(api.pay(checkout.data["checkout_url"])).status_code == 200
    api.run_workers()
    basket = api.basket(checkout.data).data
    assert basket["status"] == "paid", basket
    return basket["orders"][0]


def lead(api, venue: str, method: str, path: str, body=None, user: str | None = None):
    return api.call(method, f"/venues/{venue}/privacy/{path}", body, token=api.token(user or f"{venue}-lead"))


def venue_items(venue: str) -> list[dict]:
    """The venue's whole table, read on its own role."""
    db = tenancy.venue_session(venue).client("dynamodb")
    items, start = [], {}
    while True:
        page = db.scan(TableName=f"loket-local-venue-{venue}", **start)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def mentions(items: list, *needles: str) -> list:
    return [i for i in items if any(n.lower() in json.dumps(i).lower() for n in needles)]


@pytest.fixture(scope="module")
def two_venue_buyer(api):
    """One address that bought at cc-reien (twice) and at concertzaal, and whose cc-reien order a lead read."""
    who = person("Lotte")
    here = [buy_as(api, api.new_event("cc-reien", days=0.2), who, 2), buy_as(api, api.new_event("cc-reien"), who)]
    elsewhere = buy_as(api, api.new_event("concertzaal"), who)
    read = api.call("GET", f"/venues/cc-reien/orders/{here[0]['order_id']}", token=api.token("cc-reien-lead"))
    assert read.status_code == 200 and read.data["buyer"]["email"] == who["email"]
    return {**who, "orders": here, "elsewhere": elsewhere}


def test_an_export_holds_exactly_the_venues_data_about_the_person(api, two_venue_buyer):
    who = two_venue_buyer
    answer = lead(api, "cc-reien", "POST", "exports", {"email": who["email"].upper()})
    assert answer.status_code == 200, answer.data
    exported = answer.data
    assert exported["venue"] == "cc-reien" and exported["customer"]["email"] == who["email"]
    assert exported["customer"]["name"] == who["name"]
    assert sorted(o["order_id"] for o in exported["orders"]) == sorted(o["order_id"] for o in who["orders"])
    assert all(o["venue"] == "cc-reien" and o["buyer"]["email"] == who["email"] for o in exported["orders"])
    assert [len(o["tickets"]) for o in sorted(exported["orders"], key=lambda o: o["created_at"])] == [2, 1]
    assert all(o["mail"]["mail_state"] == "sent" and o["documents"] for o in exported["orders"])
    # The lead's earlier read of the order is in it (ids only); nothing of the other venue is.
    assert any(e["action"] == "order.buyer-read" for e in exported["audit_entries"])
    text = json.dumps(exported)
    assert who["elsewhere"]["order_id"] not in text and "concertzaal" not in text
    # Readable as a page, in Dutch.
    page = api.client.http.post("/venues/cc-reien/privacy/exports?format=html", body=json.dumps(
        {"email": who["email"]}), headers={"Authorization": f"Bearer {api.token('cc-reien-lead')}",
                                           "Content-Type": "application/json"})
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Uw gegevens bij" in page.body.decode() and who["orders"][0]["order_id"] in page.body.decode()
    # The export itself is audited, by customer id, never the address.
    audit = api.call("GET", "/venues/cc-reien/audit", token=api.token("cc-reien-lead")).data
    exported_entry = next(e for e in audit if e["action"] == "person.exported")
    assert exported_entry["subject"] == {"customer_ids": [exported["customer_id"]]}
    assert exported_entry["actor"] == "cc-reien-lead" and exported_entry["route"].startswith("POST /venues/{venue}")
    assert who["email"] not in json.dumps(audit)


def test_an_unknown_address_or_a_bad_body_gets_a_clear_problem(api):
    unknown = lead(api, "cc-reien", "POST", "exports", {"email": "nobody.ever@example.be"})
    assert unknown.status_code == 404 and unknown.data["type"].endswith("/person-not-found")
    bad = lead(api, "cc-reien", "POST", "exports", {"email": "not an address"})
    assert bad.status_code == 422 and bad.data["type"].endswith("/validation-error")
    unconfirmed = lead(api, "cc-reien", "POST", "erasures", {"email": "nobody.ever@example.be"})
    assert unconfirmed.status_code == 422
    nobody = lead(api, "cc-reien", "POST", "erasures", {"email": "nobody.ever@example.be", "confirm": True})
    assert nobody.status_code == 404 and nobody.data["type"].endswith("/person-not-found")
    assert lead(api, "cc-reien", "POST", "retention/run", {"dry_run": "yes"}).status_code == 422
    assert lead(api, "cc-reien", "PUT", "retention", {"months": 3}).data["type"].endswith("/retention-out-of-bounds")
    assert lead(api, "cc-reien", "PUT", "retention", {"months": 61}).status_code == 422


def test_only_the_venues_lead_exports_or_reads_the_audit_log_and_aws_refuses_everyone_else(api, two_venue_buyer):
    body = {"email": two_venue_buyer["email"]}
    for outsider in ("netwerk-admin", "concertzaal-lead"):
        assert lead(api, "cc-reien", "POST", "exports", body, user=outsider).status_code == 404
        assert api.call("GET", "/venues/cc-reien/audit", token=api.token(outsider)).status_code == 404
    assert lead(api, "cc-reien", "POST", "exports", body, user="cc-reien-kassa").status_code == 403
    # Below the API: the network's own credentials (what a network admin's requests run as)
    # and another venue's role are refused the venue's audit partition by AWS itself.
    query = {"TableName": "loket-local-venue-cc-reien", "KeyConditionExpression": "pk = :p",
             "ExpressionAttributeValues": {":p": {"S": "AUDIT"}}}
    for client in (aws.client("dynamodb"), tenancy.venue_session("concertzaal").client("dynamodb")):
        with pytest.raises(ClientError) as refused:
            client.query(**query)
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_erasure_keeps_accounting_and_the_door_and_a_retry_after_a_crash_ends_the_same(api, monkeypatch):
    venue = "cc-reien"
    who, bystander = person("Bram"), person("Ines")
    event = api.new_event(venue, days=0.2)
    order = buy_as(api, event, who, 2)
    other_order = buy_as(api, event, bystander)
    elsewhere = buy_as(api, api.new_event("club-kaap"), who)
    sales_before = api.call("GET", f"/venues/{venue}/sales", token=api.token(f"{venue}-lead")).data
    assert mentions(venue_items(venue), who["email"], who["name"])

    # The first attempt stops after the orders were anonymised, before the customer record.
    real = privacy_store.PrivacyStore.anonymise_customer
    monkeypatch.setattr(privacy_store.PrivacyStore, "anonymise_customer",
                        lambda self, *a, **k: (_ for _ in ()).throw(RuntimeError("function stopped")))
    body = {"email": who["email"], "confirm": True, "reason": "verzoek per e-mail"}
    crashed = lead(api, venue, "POST", "erasures", body)
    assert crashed.status_code == 500
    monkeypatch.setattr(privacy_store.PrivacyStore, "anonymise_customer", real)
    done = lead(api, venue, "POST", "erasures", body)
    assert done.status_code == 200 and done.data["status"] == "anonymised", done.data
    assert done.data["order_ids"] == [order["order_id"]]
    after_first = sorted(json.dumps(i, sort_keys=True) for i in venue_items(venue) if i["pk"]["S"] != "AUDIT")
    again = lead(api, venue, "POST", "erasures", body)
    assert again.status_code == 200 and again.data["already"] is True
    assert sorted(json.dumps(i, sort_keys=True) for i in venue_items(venue) if i["pk"]["S"] != "AUDIT") == after_first

    # No personal field of the person is left in the venue's table; the bystander is untouched.
    items = venue_items(venue)
    assert mentions(items, who["email"], who["name"]) == []
    assert mentions(items, bystander["email"], bystander["name"])
    # Their documents are still there and carry neither (the PDF is drawn without a name).
    store = bootstrap.worker_store(venue)
    from chalicelib.adapters.order_delivery_store import OrderDeliveryStore

    documents = OrderDeliveryStore(store)
    stored = documents.get(order["order_id"])["documents"]
    assert [d["name"].rsplit(".", 1)[-1] for d in stored].count("pdf") == 1
    for document in stored:
        body = documents.get_document(document["key"])
        text = "\n".join(page_texts(body)) if document["name"].endswith(".pdf") else body.decode()
        assert order["tickets"][0]["code"] in text or document["name"].endswith(".ics")  # the text is really read
        assert who["email"] not in text.lower() and who["name"].lower() not in text.lower()
    # Accounting: the same sales figures; the door: the tickets still admit.
    assert api.call("GET", f"/venues/{venue}/sales", token=api.token(f"{venue}-lead")).data == sales_before
    for ticket in order["tickets"]:
        scan = api.call("POST", f"/venues/{venue}/tickets/check", {
            "code": ticket["code"], "performance_id": event["performance_id"], "door": "Hoofdingang",
            "nonce": uuid.uuid4().hex, "scanned_at": datetime.now(timezone.utc).isoformat()},
            token=api.token(f"{venue}-kassa"))
        assert scan.status_code == 200 and scan.data["result"] == "valid", scan.data
    # Other venues are untouched: "my tickets" still finds club-kaap's order, no longer cc-reien's.
    mine = api.call("GET", "/my-tickets", headers={"X-My-Tickets-Session": session_for(who["email"])}, buyer="").data
    assert [o["order_id"] for o in mine["orders"]] == [elsewhere["order_id"]]
    assert other_order["order_id"] != order["order_id"]
    # The venue's integrations hear of it: customer.anonymized on its own webhook queue, once per person.
    sqs = tenancy.venue_session(venue).client("sqs")
    url = sqs.get_queue_url(QueueName=f"loket-local-venue-{venue}-webhooks")["QueueUrl"]
    read = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", []):
        read += batch  # every message on the queue: other tests' sales put their events there too
    for start in range(0, len(read), 10):  # and all of them back on the queue at once
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, m in enumerate(read[start:start + 10])])
    bodies = [json.loads(m["Body"]) for m in read]
    anonymised = [b for b in bodies if b.get("type") == "customer.anonymized"
                  and b["data"]["customer_id"] == done.data["customer_id"]]
    assert anonymised and len({b["id"] for b in anonymised}) == 1
    assert who["email"] not in json.dumps(anonymised)


def test_a_buyer_exports_and_erases_per_venue_through_the_my_tickets_link(api):
    who = person("Nora")
    kept = buy_as(api, api.new_event("club-kaap"), who)
    erased = buy_as(api, api.new_event("concertzaal"), who)
    session = {"X-My-Tickets-Session": session_for(who["email"])}
    exported = api.call("GET", "/my-tickets/club-kaap/privacy/export", headers=session, buyer="")
    assert exported.status_code == 200 and [o["order_id"] for o in exported.data["orders"]] == [kept["order_id"]]
    assert api.call("GET", "/my-tickets/club-kaap/privacy/export", buyer="").status_code == 401
    # Consent is per venue, with its time and text version.
    given = api.call("PUT", "/my-tickets/club-kaap/consent", {"marketing": True, "text_version": "2026-11"},
                     headers=session, buyer="")
    assert given.status_code == 200 and given.data["marketing"] is True and given.data["text_version"] == "2026-11"
    other = api.call("GET", "/my-tickets/concertzaal/consent", headers=session, buyer="")
    assert other.status_code == 200 and other.data["marketing"] is False
    consents = api.call("GET", "/my-tickets/club-kaap/privacy/export", headers=session, buyer="").data["consents"]
    assert [(c["given"], c["text_version"]) for c in consents] == [(True, "2026-11")]
    # Erasure at one venue only.
    gone = api.call("POST", "/my-tickets/concertzaal/privacy/erasure", {"confirm": True}, headers=session, buyer="")
    assert gone.status_code == 200 and gone.data["order_ids"] == [erased["order_id"]]
    assert api.call("GET", "/my-tickets/concertzaal/privacy/export", headers=session, buyer="").status_code == 404
    assert api.call("GET", "/my-tickets/club-kaap/privacy/export", headers=session, buyer="").status_code == 200
    assert mentions(venue_items("concertzaal"), who["email"], who["name"]) == []


def test_retention_anonymises_exactly_the_buyers_past_the_limit_after_a_dry_run(api):
    venue = "club-kaap"
    old, recent = person("Oud"), person("Recent")
    buy_as(api, api.new_event(venue, days=0.2), old)
    buy_as(api, api.new_event(venue, days=400), recent)
    assert lead(api, venue, "PUT", "retention", {"months": 6}).data["months"] == 6
    store = bootstrap.worker_store(venue)
    ids = {p["email"]: service.PrivacyStore(store).customer_id_of(p["email"]) for p in (old, recent)}
    later = datetime.now(timezone.utc) + timedelta(days=0.2 + 6 * rules.DAYS_PER_MONTH + 3)

    report = service.retention_report(store, later)
    due = {c["customer_id"]: c["last_activity"] for c in report["due"]}
    assert ids[old["email"]] in due and ids[recent["email"]] not in due
    assert all(datetime.fromisoformat(at) < datetime.fromisoformat(report["cutoff"]) for at in due.values())
    # The scheduled job: the first run only announces (dry run); a week later it anonymises.
    first = service.scheduled_retention(store, later)
    assert ids[old["email"]] in first["announced"] and first["anonymised"] == []
    assert mentions(venue_items(venue), old["email"])
    week_later = service.scheduled_retention(store, later + timedelta(days=service.RETENTION_NOTICE_DAYS))
    assert ids[old["email"]] in week_later["anonymised"] and ids[recent["email"]] not in week_later["anonymised"]
    assert set(week_later["anonymised"]) == set(due)
    items = venue_items(venue)
    assert mentions(items, old["email"], old["name"]) == [] and mentions(items, recent["email"], recent["name"])
    audit = api.call("GET", f"/venues/{venue}/audit", token=api.token(f"{venue}-lead")).data
    assert any(e["action"] == "retention.applied" and ids[old["email"]] in e["subject"]["customer_ids"] for e in audit)


def test_the_daily_job_keeps_audit_entries_for_the_networks_keeping_time_only(api):
    from chalicelib.adapters import audit_log

    store = bootstrap.worker_store("stadsloket")
    now = datetime.now(timezone.utc)
    keeping = timedelta(days=rules.AUDIT_MONTHS * rules.DAYS_PER_MONTH)
    entries = {age: audit_log.record(store, actor="stadsloket-lead", role="lead", action="order.buyer-read",
                                     subject={"order_id": f"AGE{age}"}, route="GET /venues/{venue}/orders/{order_id}",
                                     purpose="test", at=now - keeping + timedelta(days=age))
               for age in (-1, 1)}  # one a day past the keeping time, one a day inside it
    assert service.scheduled_retention(store, now)["audit_entries_dropped"] == 1
    kept = {e["entry_id"] for e in service.PrivacyStore(store)._partition("AUDIT")}
    assert entries[1]["entry_id"] in kept and entries[-1]["entry_id"] not in kept
