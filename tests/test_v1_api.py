"""The integrator API under /v1: what a venue's key may read and do, and its OpenAPI description."""

from __future__ import annotations

import json
import re
import uuid

from chalicelib.domain import api_keys as rules
from tests.test_api_keys import make_key


def _key_routes(app):
    for path, methods in app.app.routes.items():
        for method, entry in methods.items():
            if getattr(entry.view_function, "venue_access", None) == "api-key":
                yield method, path, entry.view_function.scope


def _fill(path, venue):
    return re.sub(r"\{(\w+)\}", lambda m: venue if m.group(1) == "venue" else "some-id", path)


def test_scope_matrix_every_key_route_with_every_scope(api, app):
    keys = {scope: make_key(api, "club-kaap", [scope], label=f"matrix {scope}")["secret"] for scope in rules.SCOPES}
    routes = list(_key_routes(app))
    body = {"code": "NOT-A-TICKET"}
    for method, path, needed in routes:
        for scope, key in keys.items():
            answer = api.call(method, _fill(path, "club-kaap"), body, token=key,
                              headers={"Idempotency-Key": str(uuid.uuid4())})
            if scope == needed:
                assert answer.status_code not in (401, 403, 500), (method, path, scope, answer.data)
            else:
                assert answer.status_code == 403, (method, path, scope, answer.status_code)
                assert answer.data["required_scope"] == needed
            other = api.call(method, _fill(path, "concertzaal"), body, token=key,
                             headers={"Idempotency-Key": str(uuid.uuid4())})
            assert other.status_code == 404, (method, path, scope)  # another venue: as if missing


def test_an_integration_reads_its_own_orders_and_tickets_without_buyers(api):
    event = api.new_event("cc-reien")
    api.buy(api.new_event("cc-reien"))  # another order, on another event
    bought = api.buy(event, quantity=2, email="integratie.koper@example.be")
    order_id = bought["basket"]["orders"][0]["order_id"]
    key = make_key(api, "cc-reien", ["orders:read", "catalogue:read", "customers:read", "reports:read"])
    listed = api.call("GET", f"/v1/venues/cc-reien/orders?status=paid&event={event['event_id']}", token=key["secret"])
    assert listed.status_code == 200 and [o["order_id"] for o in listed.data["data"]] == [order_id]
    assert "integratie.koper@example.be" not in json.dumps(listed.data)
    first = api.call("GET", "/v1/venues/cc-reien/orders?limit=1", token=key["secret"])
    assert len(first.data["data"]) == 1 and first.data["next"]
    second = api.call("GET", f"/v1/venues/cc-reien/orders?limit=1&cursor={first.data['next']}", token=key["secret"])
    assert second.status_code == 200 and second.data["data"][0]["order_id"] != first.data["data"][0]["order_id"]
    assert api.call("GET", "/v1/venues/cc-reien/orders?cursor=garbage", token=key["secret"]).status_code == 400
    assert api.call("GET", "/v1/venues/cc-reien/orders?status=weird", token=key["secret"]).status_code == 400
    order = api.call("GET", f"/v1/venues/cc-reien/orders/{order_id}", token=key["secret"])
    assert order.status_code == 200 and len(order.data["tickets"]) == 2 and "buyer" not in order.data
    read = api.call("GET", f"/v1/venues/cc-reien/events/{event['event_id']}", token=key["secret"])
    assert read.data["performances"][0]["performance_id"] == event["performance_id"]
    assert isinstance(read.data["price_types"][0]["amount"], int)
    sales = api.call("GET", "/v1/venues/cc-reien/sales", token=key["secret"]).data["data"]
    line = next(p for p in sales if p["performance_id"] == event["performance_id"])
    assert line["sold"] == 2 and "integratie.koper@example.be" not in json.dumps(sales)
    # Customers: the venue's own, and the read is in its audit log with the key as reader.
    customers = api.call("GET", "/v1/venues/cc-reien/customers", token=key["secret"])
    assert customers.status_code == 200 and customers.data["data"]
    entry = api.call("GET", "/venues/cc-reien/audit?limit=1", token=api.token("cc-reien-lead")).data[0]
    assert entry["actor"] == key["key_id"] and entry["role"] == "api-key"
    assert entry["action"] == "customers.list-read" and entry["route"] == "GET /v1/venues/{venue}/customers"


def test_check_in_through_the_door_service_is_idempotent(api):
    event = api.new_event("stadsloket")
    bought = api.buy(event)
    order_id = bought["basket"]["orders"][0]["order_id"]
    lead = api.token("stadsloket-lead")
    code = api.call("GET", f"/venues/stadsloket/orders/{order_id}", token=lead).data["tickets"][0]["code"]
    key = make_key(api, "stadsloket", ["checkin:write"])["secret"]
    assert api.call("POST", "/v1/venues/stadsloket/check-ins", {"code": code}, token=key).status_code == 400
    idem = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.call("POST", "/v1/venues/stadsloket/check-ins", {"code": code}, token=key, headers=idem)
    again = api.call("POST", "/v1/venues/stadsloket/check-ins", {"code": code}, token=key, headers=idem)
    assert first.status_code == again.status_code == 200, first.data
    assert first.data == again.data
    later = api.call("POST", "/v1/venues/stadsloket/check-ins", {"code": code}, token=key,
                     headers={"Idempotency-Key": str(uuid.uuid4())})
    assert later.data != first.data  # a second, different scan of a used ticket: not admitted again
    # A code that is not ASCII is no ticket (the fuzz run found it answered 500).
    odd = api.call("POST", "/v1/venues/stadsloket/check-ins", {"code": "\rL\u0083"}, token=key,
                   headers={"Idempotency-Key": str(uuid.uuid4())})
    assert 400 <= odd.status_code < 500, odd.data


def test_the_openapi_description_is_valid_3_1_and_names_every_key_route_with_its_scope(api, app):
    from openapi_spec_validator import validate

    answer = api.call("GET", "/openapi.json")
    assert answer.status_code == 200
    spec = answer.data
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    for method, path, scope in _key_routes(app):
        operation = spec["paths"][path][method.lower()]
        assert operation["x-required-scope"] == scope and operation["security"] == [{"apiKey": []}]
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert "/venues/{venue}/api-keys" in spec["paths"]
    # The static copy next to docs/api.html, uploaded with the storefront (local/site.py, as make deploy does).
    s3 = api.loket.operator.client("s3")
    copy = s3.get_object(Bucket=api.loket.outputs["SiteBucketName"], Key="docs/openapi.json")
    assert copy["ContentType"].startswith("application/json") and json.loads(copy["Body"].read()) == spec


def test_creating_posts_need_an_idempotency_key_and_a_repeat_answers_the_first(api):
    key = make_key(api, "concertzaal", ["events:write", "catalogue:read"])["secret"]
    event = {"title": "Integratie-avond", "hall": "Kleine zaal",
             "price_types": [{"code": "normaal", "label": "Normaal", "amount": 1800}]}
    assert api.call("POST", "/v1/venues/concertzaal/events", event, token=key).status_code == 400
    idem = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.call("POST", "/v1/venues/concertzaal/events", event, token=key, headers=idem)
    again = api.call("POST", "/v1/venues/concertzaal/events", event, token=key, headers=idem)
    assert first.status_code == again.status_code == 201 and first.data == again.data
    changed = api.call("POST", "/v1/venues/concertzaal/events", {**event, "title": "Iets anders"}, token=key,
                       headers=idem)
    assert changed.status_code == 422 and changed.data["type"].endswith("/idempotency-key-reused")
    listed = api.call("GET", "/v1/venues/concertzaal/events", token=key).data["data"]
    assert [e["event_id"] for e in listed].count(first.data["event_id"]) == 1
    performance = {"starts_at": "2027-03-14T20:00:00+01:00", "capacity": 120}
    path = f"/v1/venues/concertzaal/events/{first.data['event_id']}/performances"
    made = api.call("POST", path, performance, token=key, headers=idem)  # keys are per kind: no clash with the event
    repeat = api.call("POST", path, performance, token=key, headers=idem)
    assert made.status_code == repeat.status_code == 201 and made.data == repeat.data
    assert made.data["available"] == 120 and made.data["starts_at"] == "2027-03-14T20:00:00+01:00"
    assert api.call("POST", path, {**performance, "capacity": 5}, token=key, headers=idem).status_code == 422
    assert api.call("POST", path, {"starts_at": "2027-03-14T20:00:00", "capacity": 1}, token=key,
                    headers={"Idempotency-Key": str(uuid.uuid4())}).status_code == 422  # a time needs its offset
