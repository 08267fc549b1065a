"""A venue's API keys: made by its lead, shown once, kept as a hash, scoped,
refused at once when revoked, rotated with an overlap, rate limited."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.domain import api_keys as rules
from chalicelib.services import api_keys


def make_key(api, venue, scopes, label="Website agenda"):
    answer = api.call("POST", f"/venues/{venue}/api-keys", {"label": label, "scopes": scopes},
                      token=api.token(f"{venue}-lead"))
    assert answer.status_code == 201, answer.data
    return answer.data


def test_a_lead_makes_a_key_whose_secret_is_shown_once_and_stored_only_as_a_hash(api, loket):
    made = make_key(api, "concertzaal", ["catalogue:read"])
    assert made["secret"].startswith("lk_test_") and made["scopes"] == ["catalogue:read"] and made["active"]
    listed = api.call("GET", "/venues/concertzaal/api-keys", token=api.token("concertzaal-lead"))
    assert listed.status_code == 200 and listed.headers["Cache-Control"] == "no-store"
    mine = [k for k in listed.data if k["key_id"] == made["key_id"]]
    assert mine and "secret" not in mine[0] and made["secret"] not in json.dumps(listed.data)
    # The network table holds the hash, never the secret.
    items = loket.operator.client("dynamodb").scan(TableName=bootstrap.network().table)["Items"]
    assert made["secret"] not in json.dumps(items)
    assert any(i["pk"]["S"] == f"APIKEY#{rules.key_hash(made['secret'])}" for i in items)
    # A clerk may not manage keys; another venue's lead does not see the venue.
    assert api.call("GET", "/venues/concertzaal/api-keys", token=api.token("concertzaal-kassa")).status_code == 403
    assert api.call("GET", "/venues/concertzaal/api-keys", token=api.token("club-kaap-lead")).status_code == 404
    bad = api.call("POST", "/venues/concertzaal/api-keys", {"label": "x", "scopes": ["everything"]},
                   token=api.token("concertzaal-lead"))
    assert bad.status_code == 422


def test_a_key_works_for_its_own_venue_only_and_another_venue_looks_missing(api):
    key = make_key(api, "cc-reien", ["catalogue:read"])["secret"]
    own = api.call("GET", "/v1/venues/cc-reien/events", token=key)
    assert own.status_code == 200 and isinstance(own.data["data"], list)
    missing = api.call("GET", "/v1/venues/no-such-venue/events", token=key)
    other = api.call("GET", "/v1/venues/club-kaap/events", token=key)
    assert missing.status_code == other.status_code == 404
    assert {k: v for k, v in other.data.items() if k != "instance"} | {"request_id": ""} == \
        {k: v for k, v in missing.data.items() if k != "instance"} | {"request_id": ""} | \
        {"detail": other.data["detail"]}
    assert "club-kaap" in other.data["detail"] and other.data["type"] == missing.data["type"]
    # A staff token or nothing is not a key.
    assert api.call("GET", "/v1/venues/cc-reien/events", token=api.token("cc-reien-lead")).status_code == 401
    unsigned = api.call("GET", "/v1/venues/cc-reien/events")
    assert unsigned.status_code == 401 and unsigned.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_key_without_the_routes_scope_is_refused(api):
    key = make_key(api, "club-kaap", ["orders:read"])["secret"]
    refused = api.call("GET", "/v1/venues/club-kaap/events", token=key)
    assert refused.status_code == 403 and refused.data["required_scope"] == "catalogue:read"


def test_a_revoked_key_is_refused_on_the_next_request(api):
    made = make_key(api, "stadsloket", ["catalogue:read"])
    assert api.call("GET", "/v1/venues/stadsloket/events", token=made["secret"]).status_code == 200
    lead = api.token("stadsloket-lead")
    revoked = api.call("DELETE", f"/venues/stadsloket/api-keys/{made['key_id']}", token=lead)
    assert revoked.status_code == 200 and revoked.data["active"] is False and revoked.data["revoked_at"]
    refused = api.call("GET", "/v1/venues/stadsloket/events", token=made["secret"])
    assert refused.status_code == 401 and refused.data["type"].endswith("/not-authenticated")
    assert api.call("DELETE", "/venues/stadsloket/api-keys/key_nothere", token=lead).status_code == 404


def test_rotation_keeps_the_old_key_for_the_overlap_then_refuses_it(api):
    made = make_key(api, "concertzaal", ["catalogue:read", "orders:read"], label="CRM")
    lead = api.token("concertzaal-lead")
    rotated = api.call("POST", f"/venues/concertzaal/api-keys/{made['key_id']}/rotate", {"overlap_minutes": 60},
                       token=lead)
    assert rotated.status_code == 201 and rotated.data["replaces"] == made["key_id"]
    assert rotated.data["scopes"] == ["catalogue:read", "orders:read"] and rotated.data["label"] == "CRM"
    new = rotated.data["secret"]
    assert new != made["secret"]
    for secret in (made["secret"], new):  # during the overlap both work
        assert api.call("GET", "/v1/venues/concertzaal/events", token=secret).status_code == 200
    ends = datetime.fromisoformat(rotated.data["old_key_works_until"])
    assert timedelta(minutes=59) < ends - datetime.now(timezone.utc) <= timedelta(minutes=60)
    network = bootstrap.network()
    after = ends + timedelta(seconds=1)
    with pytest.raises(Exception) as refused:
        api_keys.authenticate(network, made["secret"], "concertzaal", "catalogue:read", now=after)
    assert getattr(refused.value, "status", None) == 401
    assert api_keys.authenticate(network, new, "concertzaal", "catalogue:read", now=after).key_id == \
        rotated.data["key_id"]
    # A rotation with no overlap ends the old key at once.
    again = api.call("POST", f"/venues/concertzaal/api-keys/{rotated.data['key_id']}/rotate",
                     {"overlap_minutes": 0}, token=lead)
    assert api.call("GET", "/v1/venues/concertzaal/events", token=new).status_code == 401
    assert api.call("GET", "/v1/venues/concertzaal/events", token=again.data["secret"]).status_code == 200


def test_a_key_that_sends_too_many_requests_gets_429_with_retry_after(api, monkeypatch):
    key = make_key(api, "club-kaap", ["catalogue:read"])["secret"]
    monkeypatch.setattr(api_keys, "_clock", lambda: 1_900_000_000.0)  # every request in the same second
    limit = api_keys.RATE_PER_SECOND + api_keys.RATE_BURST
    answers = [api.call("GET", "/v1/venues/club-kaap/events", token=key) for _ in range(limit + 5)]
    limited = [a for a in answers if a.status_code == 429]
    assert [a.status_code for a in answers] == [200] * limit + [429] * 5
    assert int(limited[0].headers["Retry-After"]) >= 1 and limited[0].data["type"].endswith("/rate-limited")
    # Another key of the same venue is not slowed by it.
    other = make_key(api, "club-kaap", ["catalogue:read"])["secret"]
    assert api.call("GET", "/v1/venues/club-kaap/events", token=other).status_code == 200


def test_every_api_key_route_declares_a_known_scope(app):
    declared = []
    for path, methods in app.app.routes.items():
        for method, entry in methods.items():
            if getattr(entry.view_function, "venue_access", None) == "api-key":
                declared.append((method, path, entry.view_function.scope))
    assert declared
    assert all(scope in rules.SCOPES for _, _, scope in declared), declared
    assert all(path.startswith("/v1/venues/{venue}/") for _, path, _ in declared)


def test_the_gate_refuses_an_api_key_route_without_one_scope():
    from chalice import Blueprint

    from chalicelib.api.http import route

    blueprint = Blueprint("key-gate-check")
    with pytest.raises(ValueError, match="exactly one scope"):
        route(blueprint, "/v1/venues/{venue}/x", methods=["GET"], venue_access="api-key")
    with pytest.raises(ValueError, match="exactly one scope"):
        route(blueprint, "/venues/{venue}/x", methods=["GET"], venue_access="lead", scope="orders:read")
    with pytest.raises(ValueError, match="needs \\{venue\\}"):
        route(blueprint, "/v1/x", methods=["GET"], venue_access="api-key", scope="orders:read")
