"""Venues are isolated by AWS itself, and the API never reveals another
venue's data, or even whether it exists."""

import re

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
    assert api.call("DELETE", "/network/venues/zaal-test", token=admin).status_code == 204
    assert api.call("GET", "/network/venues/zaal-test", token=admin).status_code == 404
    tables = loket.operator.client("dynamodb").list_tables()["TableNames"]
    assert "loket-local-venue-zaal-test" not in tables
