"""Venues are isolated by AWS itself, and the API never reveals another
venue's data, or even whether it exists."""

import ast
import json
import re
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from chalicelib.adapters import aws, tenancy

VENUES = ["concertzaal", "cc-reien", "club-kaap", "stadsloket"]


def _queue_url(loket, venue):
    return f"{loket.aws.endpoint}/123456789012/loket-local-venue-{venue}-webhooks"


def _denied(call):
    with pytest.raises(ClientError) as error:
        call()
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_venue_role_is_refused_on_another_venues_table_and_queue(loket):
    own = tenancy.venue_session("concertzaal")
    dynamodb, sqs = own.client("dynamodb"), own.client("sqs")
    key = {"pk": {"S": "SETTINGS"}, "sk": {"S": "SETTINGS"}}
    assert "Item" in dynamodb.get_item(TableName="loket-local-venue-concertzaal", Key=key)
    sqs.send_message(QueueUrl=_queue_url(loket, "concertzaal"), MessageBody="{}")
    for other in ("cc-reien", "club-kaap"):
        _denied(lambda: dynamodb.get_item(TableName=f"loket-local-venue-{other}", Key=key))
        _denied(lambda: dynamodb.query(TableName=f"loket-local-venue-{other}", KeyConditionExpression="pk = :p",
                                       ExpressionAttributeValues={":p": {"S": "SETTINGS"}}))
        _denied(lambda: dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "loket-local-venue-concertzaal", "Item": {**key, "x": {"S": "1"}}}},
            {"Put": {"TableName": f"loket-local-venue-{other}", "Item": {**key, "x": {"S": "1"}}}}]))
        _denied(lambda: sqs.send_message(QueueUrl=_queue_url(loket, other), MessageBody="{}"))
    _denied(lambda: dynamodb.get_item(TableName="loket-local-network", Key=key))


def test_the_api_identity_cannot_read_venue_tables_without_the_venue_role(loket):
    dynamodb = aws.client("dynamodb")
    _denied(lambda: dynamodb.get_item(TableName="loket-local-venue-concertzaal",
                                      Key={"pk": {"S": "SETTINGS"}, "sk": {"S": "SETTINGS"}}))


def test_venue_credentials_are_cached_until_shortly_before_expiry(loket):
    tenancy.forget("club-kaap")
    first = tenancy.venue_session("club-kaap")
    assert tenancy.venue_session("club-kaap") is first
    expires = tenancy._cache["club-kaap"].expires_at
    assert tenancy.venue_session("club-kaap", now=expires - tenancy.REFRESH_MARGIN_SECONDS + 1) is not first


def _venue_routes(app):
    for path, methods in app.app.routes.items():
        if path.startswith("/venues/{venue}"):
            for method in methods:
                yield method, path


def _fill(path, venue):
    return re.sub(r"\{(\w+)\}", lambda m: venue if m.group(1) == "venue" else "some-id", path)


def test_every_venue_route_answers_404_to_staff_of_other_venues_exactly_as_for_a_missing_venue(api, app):
    routes = list(_venue_routes(app))
    assert len(routes) >= 9
    body = {"code": "X", "title": "x", "hall": "x", "price_types": [], "starts_at": "x", "capacity": 1,
            "username": "xxx", "password": "x" * 12}
    for method, path in routes:
        missing = api.call(method, _fill(path, "no-such-venue"), body, token=api.token("club-kaap-lead"))
        assert missing.status_code == 404, (method, path)
        for outsider in ("club-kaap-lead", "club-kaap-kassa", "netwerk-admin"):
            answer = api.call(method, _fill(path, "concertzaal"), body, token=api.token(outsider))
            assert answer.status_code == 404, (outsider, method, path, answer.data)
            assert answer.data["type"] == missing.data["type"] and answer.data["title"] == missing.data["title"]
        assert api.call(method, _fill(path, "concertzaal"), body).status_code == 401


def test_a_clerk_sells_and_scans_but_cannot_read_customers_or_manage_events(api):
    clerk = api.token("cc-reien-kassa")
    assert api.call("GET", "/venues/cc-reien/events", token=clerk).status_code == 200
    assert api.call("GET", "/venues/cc-reien/customers", token=clerk).status_code == 403
    assert api.call("GET", "/venues/cc-reien/orders", token=clerk).status_code == 403
    created = api.call("POST", "/venues/cc-reien/events",
                       {"title": "x", "hall": "x", "price_types": [{"code": "normaal", "label": "N", "amount": 1}]},
                       token=clerk)
    assert created.status_code == 403


def test_a_network_admin_manages_the_network_but_reads_no_orders_or_customers(api):
    admin = api.token("netwerk-admin")
    venues = api.call("GET", "/network/venues", token=admin)
    assert venues.status_code == 200
    assert {v["slug"] for v in venues.data} >= set(VENUES)
    assert all("stripe_account_id" not in v for v in venues.data)
    for venue in VENUES:
        assert api.call("GET", f"/venues/{venue}/orders", token=admin).status_code == 404
        assert api.call("GET", f"/venues/{venue}/customers", token=admin).status_code == 404
    lead = api.token("concertzaal-lead")
    assert api.call("GET", "/network/venues", token=lead).status_code == 403


def test_a_forged_or_foreign_token_is_not_accepted(api):
    token = api.token("concertzaal-lead")
    header, payload, signature = token.split(".")
    forged = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    answer = api.call("GET", "/venues/concertzaal/events", token=forged)
    assert answer.status_code == 401 and answer.data["type"].endswith("/not-authenticated")
    assert api.call("POST", "/staff/session", {"username": "concertzaal-lead", "password": "wrong"}).status_code == 401


def test_onboarding_and_offboarding_a_venue_through_the_network_api(api, loket):
    admin = api.token("netwerk-admin")
    created = api.call("POST", "/network/venues", {"slug": "zaal-test", "name": "Zaal Test"}, token=admin)
    assert created.status_code == 202 and created.data["status"] == "provisioning"
    assert api.call("POST", "/network/venues", {"slug": "zaal-test", "name": "Zaal Test"}, token=admin).status_code == 409
    active = api.call("GET", "/network/venues/zaal-test", token=admin)
    assert active.data["status"] == "active"
    iam = loket.operator.client("iam")
    assert iam.get_role(RoleName="loket-local-venue-zaal-test")["Role"]
    # Offboarding exports first and needs the export's confirmation (tests/test_operations.py).
    exported = api.call("POST", "/network/venues/zaal-test/offboarding", token=admin)
    assert exported.status_code == 202
    assert api.call("DELETE", f"/network/venues/zaal-test?confirmation={exported.data['confirmation']}",
                    token=admin).status_code == 200
    assert api.call("GET", "/network/venues/zaal-test", token=admin).status_code == 404
    # The venue's role is gone with its stack; its table is retained for the operator (DeletionPolicy).
    assert "loket-local-venue-zaal-test" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]


# -- isolation by construction: every venue route goes through the gate ----------------------
API_DIR = Path(__file__).resolve().parents[1] / "chalicelib" / "api"
STORE_BUILDERS = {"store_for", "worker_store", "_venue_store", "venue_session", "VenueStore"}


def test_every_venue_route_declares_its_access_and_no_view_builds_a_venue_store(app):
    from chalicelib.api.http import VENUE_ACCESS

    undeclared, declared = [], 0
    for path, methods in app.app.routes.items():
        for method, entry in methods.items():
            access = getattr(entry.view_function, "venue_access", "not registered through the gate")
            if path.startswith("/venues/") or "{venue}" in path:
                if access not in VENUE_ACCESS:
                    undeclared.append(f"{method} {path}: {access}")
                declared += 1
            if path.startswith("/venues/{venue}/"):
                assert access in ("lead", "clerk"), (method, path, access)
    assert declared >= 15
    assert not undeclared, "routes with {venue} outside the gate:\n" + "\n".join(undeclared)

    builders = []
    for module in sorted(API_DIR.glob("*.py")):
        if module.name == "http.py":  # the gate itself
            continue
        for node in ast.walk(ast.parse(module.read_text(), filename=str(module))):
            name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
            if name in STORE_BUILDERS:
                builders.append(f"{module.name}:{node.lineno} uses {name}")
    assert not builders, "api modules must get their store from the gate:\n" + "\n".join(builders)


def test_the_gate_refuses_at_registration_a_venue_route_without_declared_access():
    from chalice import Blueprint

    from chalicelib.api.http import route

    blueprint = Blueprint("gate-check")
    with pytest.raises(ValueError, match="needs \\{venue\\}"):
        route(blueprint, "/orders", methods=["GET"], venue_access="lead")
    with pytest.raises(ValueError, match="venue_access must be one of"):
        route(blueprint, "/venues/{venue}/x", methods=["GET"], venue_access="everyone")
    with pytest.raises(ValueError, match="must declare venue_access"):
        route(blueprint, "/holds/{venue}/{hold_id}", methods=["GET"])


def test_a_clerk_sees_no_buyer_unless_the_venue_allows_it_and_every_read_is_audited(api):
    hold = api.hold(api.new_event("club-kaap"), quantity=2).data
    checkout = api.checkout([hold], email="privacy.buyer@example.be").data
    order_id = api.basket(checkout).data["orders"][0]["order_id"]
    lead, clerk = api.token("club-kaap-lead"), api.token("club-kaap-kassa")
    path = f"/venues/club-kaap/orders/{order_id}"
    audit_before = api.call("GET", "/venues/club-kaap/audit", token=lead).data

    # Default: the clerk finds the order at the counter, without the buyer's name or e-mail.
    assert api.call("GET", "/venues/club-kaap/settings/privacy", token=clerk).data["clerks_see_buyer"] is False
    at_counter = api.call("GET", path, token=clerk)
    assert at_counter.status_code == 200 and at_counter.data["order_id"] == order_id
    assert at_counter.data["buyer"] is None and at_counter.data["buyer_shown"] is False
    assert "privacy.buyer@example.be" not in json.dumps(at_counter.data) and "An Peeters" not in json.dumps(at_counter.data)
    assert at_counter.data["status"] == "pending" and at_counter.data["total"] == 5000
    assert "privacy.buyer@example.be" not in json.dumps(api.call("GET", "/venues/club-kaap/orders", token=lead).data)
    assert api.call("GET", "/venues/club-kaap/audit", token=lead).data == audit_before  # nothing personal was read

    # Only the lead may change the setting or read the log.
    assert api.call("PUT", "/venues/club-kaap/settings/privacy", {"clerks_see_buyer": True}, token=clerk).status_code == 403
    assert api.call("GET", "/venues/club-kaap/audit", token=clerk).status_code == 403
    assert api.call("PUT", "/venues/club-kaap/settings/privacy", {"clerks_see_buyer": "yes"}, token=lead).status_code == 422
    changed = api.call("PUT", "/venues/club-kaap/settings/privacy", {"clerks_see_buyer": True}, token=lead)
    assert changed.status_code == 200 and changed.data["clerks_see_buyer"] is True
    assert changed.data["updated_by"] == "club-kaap-lead"
    try:
        shown = api.call("GET", path, token=clerk).data
        assert shown["buyer"] == {"name": "An Peeters", "email": "privacy.buyer@example.be"} and shown["buyer_shown"]
        assert api.call("GET", path, token=lead).data["buyer"]["email"] == "privacy.buyer@example.be"
    finally:
        assert api.call("PUT", "/venues/club-kaap/settings/privacy", {"clerks_see_buyer": False},
                        token=lead).status_code == 200
    assert api.call("GET", path, token=clerk).data["buyer"] is None

    log = api.call("GET", "/venues/club-kaap/audit", token=lead)
    assert log.status_code == 200 and log.headers["Cache-Control"] == "no-store"
    new = log.data[:len(log.data) - len(audit_before)]
    assert [(e["actor"], e["action"]) for e in new] == [
        ("club-kaap-lead", "settings.privacy-changed"), ("club-kaap-lead", "order.buyer-read"),
        ("club-kaap-kassa", "order.buyer-read"), ("club-kaap-lead", "settings.privacy-changed")]
    clerk_read = new[2]
    assert clerk_read["subject"] == {"order_id": order_id} and clerk_read["role"] == "clerk"
    assert clerk_read["route"] == "GET /venues/{venue}/orders/{order_id}"
    assert clerk_read["purpose"] == "finding an order at the counter" and clerk_read["at"]
    assert "privacy.buyer@example.be" not in json.dumps(log.data) and "An Peeters" not in json.dumps(log.data)
    # The log is the venue's own: another venue's lead sees nothing of it.
    assert api.call("GET", "/venues/club-kaap/audit", token=api.token("concertzaal-lead")).status_code == 404
    assert "privacy.buyer@example.be" not in json.dumps(
        api.call("GET", "/venues/concertzaal/audit", token=api.token("concertzaal-lead")).data)


def test_a_leads_customer_list_is_audited_by_customer_id_only(api):
    lead = api.token("cc-reien-lead")
    api.buy(api.new_event("cc-reien"), email="listed.customer@example.be")
    customers = api.call("GET", "/venues/cc-reien/customers", token=lead).data
    entry = api.call("GET", "/venues/cc-reien/audit?limit=1", token=lead).data[0]
    assert entry["action"] == "customers.list-read" and entry["actor"] == "cc-reien-lead"
    assert sorted(entry["subject"]["customer_ids"]) == sorted(c["customer_id"] for c in customers)
    assert "listed.customer@example.be" not in json.dumps(entry)
    assert api.call("GET", "/venues/cc-reien/audit?limit=0", token=lead).status_code == 400
