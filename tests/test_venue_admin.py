"""The lead manages events after creating them, watches sales, finds orders
and manages the venue's staff: on the in-process stack (moto, IAM on)."""

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain import event_admin
from chalicelib.domain.model import Event, Performance
from chalicelib.errors import CapacityBelowTaken, NotADraft, PlacesTaken
from local import demo

VENUE = "stadsloket"


def _starts(days=30):
    return (datetime.now(timezone.utc) + timedelta(days=days)).replace(microsecond=0).isoformat()


def _draft(api, venue=VENUE):
    lead = api.token(f"{venue}-lead")
    event = api.call("POST", f"/venues/{venue}/events", {
        "title": f"Ontwerp {uuid.uuid4().hex[:6]}", "hall": "Foyer",
        "price_types": [{"code": "normaal", "label": "Normaal", "amount": 1800}]}, token=lead)
    assert event.status_code == 201, event.data
    performance = api.call("POST", f"/venues/{venue}/events/{event.data['event_id']}/performances",
                           {"starts_at": _starts(), "capacity": 10}, token=lead)
    assert performance.status_code == 201, performance.data
    return event.data["event_id"], performance.data["performance_id"]


# -- the rules, without AWS ----------------------------------------------------------------
def _performance(capacity, available):
    return Performance(performance_id="p1", event_id="e1", starts_at=datetime(2027, 1, 1, tzinfo=timezone.utc),
                       capacity=capacity, available=available)


def test_capacity_never_below_sold_and_held_and_only_untouched_drafts_go():
    assert event_admin.check_capacity(_performance(100, 40), 60) == -40  # 60 taken: exactly enough
    with pytest.raises(CapacityBelowTaken):
        event_admin.check_capacity(_performance(100, 40), 59)
    draft = Event(event_id="e1", venue="x1", title="T", hall="H", created_at=datetime.now(timezone.utc),
                  price_types=[{"code": "n", "label": "N", "amount": 1}])
    event_admin.check_deletable(draft, [_performance(10, 10)])
    with pytest.raises(PlacesTaken):
        event_admin.check_deletable(draft, [_performance(10, 9)])
    with pytest.raises(NotADraft):
        event_admin.check_deletable(draft.model_copy(update={"first_published_at": draft.created_at}), [])


def test_a_retried_create_with_the_same_idempotency_key_makes_one_event_and_one_performance(api):
    lead = api.token(f"{VENUE}-lead")
    body = {"title": f"Eenmaal {uuid.uuid4().hex[:6]}", "hall": "Foyer",
            "price_types": [{"code": "normaal", "label": "Normaal", "amount": 900}]}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.call("POST", f"/venues/{VENUE}/events", body, token=lead, headers=key)
    again = api.call("POST", f"/venues/{VENUE}/events", body, token=lead, headers=key)
    assert first.status_code == again.status_code == 201 and first.data["event_id"] == again.data["event_id"]
    listed = api.call("GET", f"/venues/{VENUE}/events", token=lead).data
    assert [e["title"] for e in listed].count(body["title"]) == 1
    path = f"/venues/{VENUE}/events/{first.data['event_id']}/performances"
    date = {"starts_at": _starts(), "capacity": 10}
    one = api.call("POST", path, date, token=lead, headers=key)  # the same key, another kind of thing: its own id
    two = api.call("POST", path, date, token=lead, headers=key)
    assert one.data["performance_id"] == two.data["performance_id"] != first.data["event_id"]
    assert len(api.call("GET", f"/venues/{VENUE}/events/{first.data['event_id']}", token=lead).data["performances"]) == 1


# -- performances ---------------------------------------------------------------------------
def test_capacity_never_below_sold_plus_held_and_a_performance_with_sales_is_not_removed(api):
    event = api.new_event(VENUE, capacity=10)
    lead = api.token(f"{VENUE}-lead")
    api.buy(event, quantity=3)
    assert api.hold(event, quantity=2).status_code == 201  # held, not paid
    path = f"/venues/{VENUE}/events/{event['event_id']}/performances/{event['performance_id']}"
    refused = api.call("PUT", path, {"starts_at": _starts(), "capacity": 4}, token=lead)
    assert refused.status_code == 409 and refused.data["type"].endswith("/capacity-below-taken")
    assert refused.data["taken"] == 5
    assert api.call("GET", f"/venues/{VENUE}/events/{event['event_id']}", token=lead).data[
        "performances"][0]["capacity"] == 10  # nothing written
    moved = _starts(40)
    changed = api.call("PUT", path, {"starts_at": moved, "capacity": 5, "hall": "Kleine zaal"}, token=lead)
    assert changed.status_code == 200, changed.data
    assert (changed.data["capacity"], changed.data["available"], changed.data["hall"]) == (5, 0, "Kleine zaal")
    assert datetime.fromisoformat(changed.data["starts_at"]) == datetime.fromisoformat(moved)
    assert api.hold(event, quantity=1).data["type"].endswith("/sold-out")
    grown = api.call("PUT", path, {"starts_at": moved, "capacity": 8}, token=lead).data
    assert grown["available"] == 3 and "hall" not in grown or grown.get("hall") is None
    bad = api.call("PUT", path, {"starts_at": "2027-01-01T20:00:00", "capacity": 8}, token=lead)
    assert bad.status_code == 422  # a time without its zone is refused, not guessed
    removed = api.call("DELETE", path, token=lead)
    assert removed.status_code == 409 and removed.data["type"].endswith("/places-taken")


def test_an_untouched_performance_is_removed(api):
    event_id, performance_id = _draft(api)
    lead = api.token(f"{VENUE}-lead")
    path = f"/venues/{VENUE}/events/{event_id}/performances/{performance_id}"
    assert api.call("DELETE", path, token=lead).status_code == 200
    assert api.call("GET", f"/venues/{VENUE}/events/{event_id}", token=lead).data["performances"] == []
    assert api.call("DELETE", path, token=lead).status_code == 404


# -- events ---------------------------------------------------------------------------------
def test_only_a_draft_is_deleted_never_a_published_event(api):
    lead = api.token(f"{VENUE}-lead")
    event_id, _ = _draft(api)
    assert api.call("DELETE", f"/venues/{VENUE}/events/{event_id}", token=lead).status_code == 200
    assert api.call("GET", f"/venues/{VENUE}/events/{event_id}", token=lead).status_code == 404

    published = api.new_event(VENUE)
    refused = api.call("DELETE", f"/venues/{VENUE}/events/{published['event_id']}", token=lead)
    assert refused.status_code == 409 and refused.data["type"].endswith("/not-a-draft")
    # Unpublished again, it was still published once: not a draft.
    assert api.call("POST", f"/venues/{VENUE}/events/{published['event_id']}/unpublish", token=lead).status_code == 200
    again = api.call("DELETE", f"/venues/{VENUE}/events/{published['event_id']}", token=lead)
    assert again.status_code == 409 and again.data["type"].endswith("/not-a-draft")
    assert api.call("GET", f"/venues/{VENUE}/events/{published['event_id']}", token=lead).status_code == 200


def test_unpublish_takes_the_event_out_of_the_catalogue_and_stops_sales(api, loket):
    from chalicelib.adapters import catalogue_store

    event = api.new_event(VENUE)
    lead = api.token(f"{VENUE}-lead")
    path = f"events/{VENUE}/{event['event_id']}.json"
    assert catalogue_store.get_document(path) is not None
    answer = api.call("POST", f"/venues/{VENUE}/events/{event['event_id']}/unpublish", token=lead)
    assert answer.status_code == 200 and answer.data["published"] is False
    assert catalogue_store.get_document(path) is None
    listed = [e["event_id"] for e in catalogue_store.get_document("network.json")["events"]]
    assert event["event_id"] not in listed
    assert event["event_id"] not in [e["event_id"] for e in catalogue_store.get_document(f"venues/{VENUE}.json")["events"]]
    assert api.hold(event).status_code == 404


def test_cancel_stops_sales_shows_cancelled_and_lists_the_orders_to_refund(api):
    from chalicelib.adapters import catalogue_store

    event = api.new_event(VENUE)
    lead = api.token(f"{VENUE}-lead")
    bought = api.buy(event, quantity=2)
    order_id = bought["basket"]["orders"][0]["order_id"]
    in_basket = api.hold(event, quantity=3).data  # held, not yet checked out
    cancelled = api.call("POST", f"/venues/{VENUE}/events/{event['event_id']}/cancel", token=lead)
    assert cancelled.status_code == 200, cancelled.data
    assert cancelled.data["event"]["cancelled_at"]
    assert [(o["order_id"], o["status"], o["total"]) for o in cancelled.data["affected_orders"]] == [
        (order_id, "paid", 5000)]
    assert "an.peeters" not in json.dumps(cancelled.data)  # the box office opens the order to see the buyer
    refused = api.hold(event)
    assert refused.status_code == 409 and refused.data["type"].endswith("/event-cancelled")
    late = api.checkout([in_basket])  # the basket that held places cannot pay for them any more
    assert late.status_code == 409 and late.data["type"].endswith("/hold-expired")
    performance = api.call("GET", f"/venues/{VENUE}/events/{event['event_id']}", token=lead).data["performances"][0]
    assert performance["available"] == performance["capacity"] - 2  # the held places came back
    document = catalogue_store.get_document(f"events/{VENUE}/{event['event_id']}.json")
    assert document["cancelled"] is True and document["performances"][0]["cancelled"] is True
    assert document["performances"][0]["availability"] == "sold_out"
    listed = api.call("GET", f"/venues/{VENUE}/orders?event={event['event_id']}", token=lead).data
    assert [o["order_id"] for o in listed["orders"]] == [order_id]


def test_cancel_one_performance_keeps_the_others_on_sale(api):
    event = api.new_event(VENUE)
    lead = api.token(f"{VENUE}-lead")
    other = api.call("POST", f"/venues/{VENUE}/events/{event['event_id']}/performances",
                     {"starts_at": _starts(50), "capacity": 20}, token=lead).data
    answer = api.call("POST", f"/venues/{VENUE}/events/{event['event_id']}/performances/{event['performance_id']}/cancel",
                      token=lead)
    assert answer.status_code == 200 and answer.data["affected_orders"] == []
    assert api.hold(event).status_code == 409
    assert api.hold({**event, "performance_id": other["performance_id"]}).status_code == 201


def test_a_price_change_applies_to_new_holds_only(api):
    event = api.new_event(VENUE)
    lead = api.token(f"{VENUE}-lead")
    before = api.hold(event).data
    current = api.call("GET", f"/venues/{VENUE}/events/{event['event_id']}", token=lead).data
    body = {k: current[k] for k in ("title", "hall", "price_types")}
    body["price_types"][0]["amount"] = 3100
    assert api.call("PUT", f"/venues/{VENUE}/events/{event['event_id']}", body, token=lead).status_code == 200
    after = api.hold(event).data
    assert before["lines"][0]["unit_amount"] == 2500 and after["lines"][0]["unit_amount"] == 3100
    assert api.call("GET", f"/holds/{VENUE}/{before['hold_id']}").data["lines"][0]["unit_amount"] == 2500
    edited = api.call("GET", f"/venues/{VENUE}/events/{event['event_id']}", token=lead).data
    assert edited["published"] is True and edited["first_published_at"]  # edits keep publication


# -- sales overview -------------------------------------------------------------------------
def test_the_sales_overview_counts_sold_held_available_and_revenue_by_price_type_and_channel(api):
    event = api.new_event(VENUE, capacity=20)
    lead = api.token(f"{VENUE}-lead")
    api.buy(event, quantity=2)
    assert api.hold(event, quantity=1, price_type="-26").status_code == 201
    overview = api.call("GET", f"/venues/{VENUE}/sales", token=lead)
    assert overview.status_code == 200 and overview.headers["Cache-Control"] == "no-store"
    line = next(p for p in overview.data["performances"] if p["performance_id"] == event["performance_id"])
    assert (line["capacity"], line["sold"], line["held"], line["available"]) == (20, 2, 1, 17)
    assert line["revenue"] == 5000
    assert [(p["price_type"], p["quantity"], p["revenue"]) for p in line["by_price_type"]] == [("normaal", 2, 5000)]
    assert line["by_channel"] == [{"channel": "online", "quantity": 2, "revenue": 5000}]
    assert "an.peeters" not in json.dumps(overview.data)

    # A sale at the counter (the box office's own API) shows under its channel.
    from tests.test_box_office_api import _open_till, _sell

    _open_till(api, VENUE)
    assert _sell(api, event, quantity=3, venue=VENUE).status_code == 201
    line = next(p for p in api.call("GET", f"/venues/{VENUE}/sales", token=lead).data["performances"]
                if p["performance_id"] == event["performance_id"])
    assert (line["sold"], line["held"], line["available"], line["revenue"]) == (5, 1, 14, 12500)
    assert line["by_channel"] == [{"channel": "box-office", "quantity": 3, "revenue": 7500},
                                  {"channel": "online", "quantity": 2, "revenue": 5000}]
    assert api.call("GET", f"/venues/{VENUE}/sales", token=api.token(f"{VENUE}-kassa")).status_code == 403
    assert api.call("GET", f"/venues/{VENUE}/sales", token=api.token("club-kaap-lead")).status_code == 404


# -- orders ---------------------------------------------------------------------------------
def test_orders_are_searched_by_number_name_and_email_in_pages_and_every_search_is_audited(api):
    venue = "cc-reien"
    lead = api.token(f"{venue}-lead")
    event = api.new_event(venue)
    marker = uuid.uuid4().hex[:8]
    emails = [f"zoek.{marker}.{n}@example.be" for n in range(3)]
    order_ids = [api.buy(event, email=email)["basket"]["orders"][0]["order_id"] for email in emails]

    plain = api.call("GET", f"/venues/{venue}/orders?limit=2", token=lead)
    assert plain.status_code == 200 and len(plain.data["orders"]) == 2 and plain.data["next"]
    assert "buyer" not in json.dumps(plain.data) and marker not in json.dumps(plain.data)
    audit_before = api.call("GET", f"/venues/{venue}/audit", token=lead).data

    seen = []
    cursor = None
    while True:
        page = api.call("GET", f"/venues/{venue}/orders?limit=2&q=ZOEK.{marker}" + (f"&cursor={cursor}" if cursor else ""),
                        token=lead)
        assert page.status_code == 200, page.data
        seen += page.data["orders"]
        cursor = page.data["next"]
        if not cursor:
            break
    assert sorted(o["order_id"] for o in seen) == sorted(order_ids)  # every one once, case ignored
    assert {o["buyer"]["email"] for o in seen} == set(emails)
    by_number = api.call("GET", f"/venues/{venue}/orders?q={order_ids[1]}", token=lead).data["orders"]
    assert [o["order_id"] for o in by_number] == [order_ids[1]]

    log = api.call("GET", f"/venues/{venue}/audit", token=lead).data
    searches = log[:len(log) - len(audit_before)]
    assert all(e["action"] == "orders.search-read" and e["actor"] == f"{venue}-lead" for e in searches)
    assert sorted(i for e in searches for i in e["subject"]["order_ids"]) == sorted(order_ids + [order_ids[1]])
    assert marker not in json.dumps(log)  # the search words (an e-mail) are not kept
    bad = api.call("GET", f"/venues/{venue}/orders?cursor=bm90LWEtY3Vyc29y", token=lead)
    assert bad.status_code == 400 and bad.data["type"].endswith("/malformed-request")
    assert api.call("GET", f"/venues/{venue}/orders?limit=0", token=lead).status_code == 400
    assert marker not in json.dumps(api.call("GET", f"/venues/{venue}/orders?q={marker}",
                                             token=api.token("club-kaap-lead")).data)


# -- staff accounts -------------------------------------------------------------------------
def test_a_lead_changes_roles_and_disables_only_the_own_venues_staff(api):
    venue = "club-kaap"
    lead = api.token(f"{venue}-lead")
    username = f"tijdelijk-{uuid.uuid4().hex[:6]}"
    invited = api.call("POST", f"/venues/{venue}/staff", {"username": username, "password": demo.DEMO_PASSWORD,
                                                           "role": "clerk"}, token=lead)
    assert invited.status_code == 201, invited.data
    team = api.call("GET", f"/venues/{venue}/staff", token=lead).data["staff"]
    assert {"username": username, "role": "clerk", "enabled": True} in team
    assert {a["username"] for a in team} >= {f"{venue}-lead", f"{venue}-kassa"}
    assert "netwerk-admin" not in json.dumps(team) and "concertzaal" not in json.dumps(team)

    promoted = api.call("PUT", f"/venues/{venue}/staff/{username}", {"role": "lead"}, token=lead)
    assert promoted.status_code == 200 and promoted.data["role"] == "lead"
    signed_in = api.call("POST", "/staff/session", {"username": username, "password": demo.DEMO_PASSWORD})
    assert api.call("GET", f"/venues/{venue}/sales", token=signed_in.data["id_token"]).status_code == 200
    assert api.call("PUT", f"/venues/{venue}/staff/{username}", {"role": "clerk"}, token=lead).data["role"] == "clerk"

    disabled = api.call("PUT", f"/venues/{venue}/staff/{username}", {"enabled": False}, token=lead)
    assert disabled.status_code == 200 and disabled.data["enabled"] is False
    assert api.call("POST", "/staff/session", {"username": username, "password": demo.DEMO_PASSWORD}).status_code == 401
    assert api.call("PUT", f"/venues/{venue}/staff/{username}", {"enabled": True}, token=lead).data["enabled"] is True
    assert api.call("POST", "/staff/session", {"username": username, "password": demo.DEMO_PASSWORD}).status_code == 200

    # Never another venue's staff, the network admin, or the lead's own access.
    for other in ("concertzaal-kassa", "concertzaal-lead", "netwerk-admin", "nobody-at-all"):
        answer = api.call("PUT", f"/venues/{venue}/staff/{other}", {"enabled": False}, token=lead)
        assert answer.status_code == 404, (other, answer.data)
    assert api.call("POST", "/staff/session", {"username": "concertzaal-kassa",
                                               "password": demo.DEMO_PASSWORD}).status_code == 200
    own = api.call("PUT", f"/venues/{venue}/staff/{venue}-lead", {"enabled": False}, token=lead)
    assert own.status_code == 409
    assert api.call("PUT", f"/venues/{venue}/staff/{username}", {"role": "boss"}, token=lead).status_code == 422
    assert api.call("PUT", f"/venues/{venue}/staff/{username}", {"enabled": False},
                    token=api.token(f"{venue}-kassa")).status_code == 403
    assert api.call("PUT", f"/venues/{venue}/staff/{username}", {"enabled": False},
                    token=api.token("concertzaal-lead")).status_code == 404
