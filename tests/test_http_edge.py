"""Bad input at the HTTP edge: every refusal is a 4xx application/problem+json
with a stable type, and nothing is written.

Some answers come from the framework before any view runs (Chalice's 415 and
405, API Gateway's answer to an unknown path); they are problem+json too."""

import json
import uuid
from pathlib import Path

import pytest
import yaml

from chalicelib.adapters import identity
from chalicelib.api.http import MAX_BODY_BYTES, MAX_JSON_DEPTH
from chalicelib.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = "https://loket.dev/problems/"


def _problem(answer, status: int, slug: str) -> dict:
    assert answer.status_code == status, (answer.status_code, answer.body)
    assert answer.headers["Content-Type"] == "application/problem+json", answer.headers
    body = json.loads(answer.body)
    assert body["type"] == PROBLEMS + slug and body["status"] == status and body["detail"], body
    return body


def _available(api, event: dict) -> int:
    read = api.call("GET", f"/venues/{event['venue']}/events/{event['event_id']}",
                    token=api.token(f"{event['venue']}-lead"))
    return next(p["available"] for p in read.data["performances"] if p["performance_id"] == event["performance_id"])


def _event_count(api, venue: str) -> int:
    return len(api.call("GET", f"/venues/{venue}/events", token=api.token(f"{venue}-lead")).data)


@pytest.fixture(scope="module")
def event(api):
    return api.new_event("stadsloket", capacity=20)


def test_deeply_nested_json_is_refused_with_400_not_a_500_and_holds_nothing(api, event):
    before = _available(api, event)
    deep = '{"venue": "stadsloket", "tickets": ' + "[" * 30000 + "]" * 30000 + "}"
    assert len(deep) < MAX_BODY_BYTES
    answer = api.call("POST", "/holds", raw=deep.encode(), headers={"Idempotency-Key": str(uuid.uuid4())})
    body = _problem(answer, 400, "nesting-too-deep")
    assert body["max_depth"] == MAX_JSON_DEPTH
    just_over = {**{k: event[k] for k in ("venue", "event_id", "performance_id")},
                 "tickets": [{"price_type": "normaal", "quantity": 1}], "x": json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)}
    _problem(api.call("POST", "/holds", just_over), 400, "nesting-too-deep")
    assert _available(api, event) == before


def test_brackets_inside_strings_do_not_count_as_nesting(api):
    title = "[[[[{{{{" * 5 + " \\\" ]]"
    created = api.call("POST", "/venues/cc-reien/events", {
        "title": title, "hall": "Zaal [A]", "price_types": [{"code": "normaal", "label": "{x}", "amount": 900}]},
        token=api.token("cc-reien-lead"))
    assert created.status_code == 201, created.data
    assert created.data["title"] == title


def test_a_body_over_64_kib_is_refused_with_413_and_creates_nothing(api):
    before = _event_count(api, "cc-reien")
    big = {"title": "Groot", "hall": "Zaal", "description": "x" * MAX_BODY_BYTES,
           "price_types": [{"code": "normaal", "label": "Normaal", "amount": 1000}]}
    answer = api.call("POST", "/venues/cc-reien/events", big, token=api.token("cc-reien-lead"))
    assert _problem(answer, 413, "payload-too-large")["max_bytes"] == MAX_BODY_BYTES
    assert _event_count(api, "cc-reien") == before


def test_a_wrong_content_type_gets_a_415_problem_and_holds_nothing(api, event):
    before = _available(api, event)
    body = json.dumps({**{k: event[k] for k in ("venue", "event_id", "performance_id")},
                       "tickets": [{"price_type": "normaal", "quantity": 2}]})
    answer = api.call("POST", "/holds", raw=body.encode(),
                      headers={"Content-Type": "text/plain", "Idempotency-Key": str(uuid.uuid4())})
    problem = _problem(answer, 415, "unsupported-media-type")
    assert "text/plain" in problem["detail"] and problem["instance"] == "/holds"
    assert _available(api, event) == before
    webhook = api.call("POST", "/stripe/webhook", raw=b"a=b",
                       headers={"Content-Type": "application/x-www-form-urlencoded", "Stripe-Signature": "t=1,v1=x"})
    _problem(webhook, 415, "unsupported-media-type")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
def test_an_unknown_address_is_a_404_problem_with_or_without_a_token(api, headers):
    for path in ("/no/such/thing", "/venues", "/holds/stadsloket"):
        answer = api.call("GET", path, headers=headers)
        body = _problem(answer, 404, "no-such-route")
        assert body["instance"] == path and body["request_id"]
        assert "Credential" not in answer.body.decode() and "Authentication Token" not in answer.body.decode()


def test_a_wrong_method_is_a_405_problem_naming_the_allowed_methods(api):
    answer = api.call("PATCH", "/holds", {"venue": "stadsloket"})
    body = _problem(answer, 405, "method-not-allowed")
    assert body["allowed"] == ["POST"] and answer.headers["Allow"] == "POST"
    put = api.call("PUT", "/venues/stadsloket/orders", token=api.token("stadsloket-lead"))
    _problem(put, 405, "method-not-allowed")


def _cognito(loket):
    return loket.operator.client("cognito-idp")


def _exists(loket, pool_id: str, username: str) -> bool:
    cognito = _cognito(loket)
    try:
        cognito.admin_get_user(UserPoolId=pool_id, Username=username)
        return True
    except cognito.exceptions.UserNotFoundException:
        return False


def test_a_password_outside_the_pools_policy_is_refused_before_the_account_exists(api, loket):
    lead = api.token("club-kaap-lead")
    username = f"kassa-{uuid.uuid4().hex[:8]}"
    for password, lacking in (("ZONDERKLEINE1", "a lowercase letter"), ("zondercijfers", "a digit")):
        answer = api.call("POST", "/venues/club-kaap/staff", {"username": username, "password": password}, token=lead)
        body = _problem(answer, 422, "validation-error")
        assert body["errors"][0]["field"] == "password" and lacking in body["detail"]
        assert not _exists(loket, loket.env["LOKET_USER_POOL_ID"], username)
    created = api.call("POST", "/venues/club-kaap/staff", {"username": username, "password": "welkom-aan-de-balie-7"},
                       token=lead)
    assert created.status_code == 201, created.data
    signed_in = api.call("POST", "/staff/session", {"username": username, "password": "welkom-aan-de-balie-7"})
    assert signed_in.status_code == 200


def test_when_cognito_still_refuses_the_password_the_new_account_is_deleted_so_the_name_stays_free(loket):
    cognito = _cognito(loket)
    strict_pool = cognito.create_user_pool(
        PoolName=f"strict-{uuid.uuid4().hex[:6]}",
        Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireLowercase": True, "RequireNumbers": True,
                                     "RequireUppercase": True, "RequireSymbols": True}})["UserPool"]["Id"]
    with pytest.raises(InvalidInput) as refused:
        identity.create_staff("nieuwe.kassa", "kassawachtwoord1", [], client=cognito, pool_id=strict_pool)
    assert refused.value.extensions["errors"][0]["field"] == "password"
    assert not _exists(loket, strict_pool, "nieuwe.kassa")
    identity.create_staff("nieuwe.kassa", "Kassawachtwoord1!", [], client=cognito, pool_id=strict_pool)
    assert _exists(loket, strict_pool, "nieuwe.kassa")


class _CloudFormationLoader(yaml.SafeLoader):
    pass


_CloudFormationLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def test_the_api_checks_the_same_password_policy_as_the_staff_pool_here_and_in_aws(loket):
    local_pool = _cognito(loket).describe_user_pool(UserPoolId=loket.env["LOKET_USER_POOL_ID"])["UserPool"]
    template = yaml.load((ROOT / "infra" / "platform.yaml").read_text(), Loader=_CloudFormationLoader)
    in_aws = template["Resources"]["UserPool"]["Properties"]["Policies"]["PasswordPolicy"]
    local = local_pool["Policies"]["PasswordPolicy"]
    for name, value in identity.PASSWORD_POLICY.items():
        assert in_aws[name] == value and local[name] == value, name
