"""The per-key rate limit's API Gateway keys (docs/integrations.md "Rate limit") on moto with IAM
enforced: made with a lead's key, deleted on revoke, named by the authorizer; the API's own
role may do exactly that and nothing more of API Gateway."""

from __future__ import annotations

import dataclasses

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib import bootstrap
from chalicelib.adapters import gateway_keys
from chalicelib.api.authorizer import api_key_authorizer
from chalicelib.domain import api_keys as rules
from chalicelib.settings import get_settings
from tests.test_api_keys import make_key

VENUE = "club-kaap"
ARN = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/api/GET/v1/venues/club-kaap/events"


@pytest.fixture
def usage_plan(loket, monkeypatch):
    """What the app stack makes in AWS (infra/app-overrides.json): the plan, its id in SSM."""
    operator = loket.operator
    plan = operator.client("apigateway").create_usage_plan(
        name="loket-local-api-keys", throttle={"rateLimit": 10, "burstLimit": 20},
        quota={"limit": 200000, "period": "DAY"})["id"]
    operator.client("ssm").put_parameter(Name="/loket/local/api/usage-plan-id", Value=plan, Type="String",
                                         Overwrite=True)
    # As a deployed stage's settings name it (settings.usage_plan_parameter_name); the local stage names none.
    configured = dataclasses.replace(get_settings(), usage_plan_parameter="/loket/local/api/usage-plan-id")
    monkeypatch.setattr(gateway_keys, "get_settings", lambda: configured)
    gateway_keys._plan_id.cache_clear()
    yield plan
    gateway_keys._plan_id.cache_clear()
    operator.client("apigateway").delete_usage_plan(usagePlanId=plan)


def _index(secret: str) -> dict:
    from chalicelib.adapters.api_key_store import ApiKeyStore

    network = bootstrap.network()
    return ApiKeyStore(network.db, network.table).by_hash(rules.key_hash(secret))


def _authorize(secret: str) -> dict:
    return api_key_authorizer({"type": "TOKEN", "authorizationToken": f"Bearer {secret}", "methodArn": ARN}, None)


def _gateway_key_exists(operator, key_id: str) -> bool:
    try:
        operator.client("apigateway").get_api_key(apiKey=key_id)
        return True
    except ClientError as error:
        assert error.response["Error"]["Code"] == "NotFoundException"
        return False


def test_a_keys_usage_plan_key_is_made_named_by_the_authorizer_and_deleted_on_revoke(api, loket, usage_plan):
    operator = loket.operator.client("apigateway")
    made = make_key(api, VENUE, ["catalogue:read"])
    gateway_key = _index(made["secret"])["gateway_key_id"]
    assert _gateway_key_exists(loket.operator, gateway_key)
    assert gateway_key in [k["id"] for k in operator.get_usage_plan_keys(usagePlanId=usage_plan)["items"]]
    assert made["secret"] not in str(operator.get_api_key(apiKey=gateway_key, includeValue=True))

    allowed = _authorize(made["secret"])
    assert allowed["usageIdentifierKey"] == gateway_key and allowed["principalId"] == made["key_id"]
    assert allowed["policyDocument"]["Statement"][0] == {
        "Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/api/*/v1/*"}
    unknown = _authorize(rules.new_secret("local"))
    assert unknown["policyDocument"]["Statement"][0]["Effect"] == "Deny" and "usageIdentifierKey" not in unknown

    # Rotation without overlap: the new key has its own, the old one's is gone with it.
    rotated = api.call("POST", f"/venues/{VENUE}/api-keys/{made['key_id']}/rotate", {"overlap_minutes": 0},
                       token=api.token(f"{VENUE}-lead"))
    assert rotated.status_code == 201, rotated.data
    new_gateway_key = _index(rotated.data["secret"])["gateway_key_id"]
    assert new_gateway_key != gateway_key and _gateway_key_exists(loket.operator, new_gateway_key)
    assert not _gateway_key_exists(loket.operator, gateway_key)

    revoked = api.call("DELETE", f"/venues/{VENUE}/api-keys/{rotated.data['key_id']}", token=api.token(f"{VENUE}-lead"))
    assert revoked.status_code == 200, revoked.data
    assert not _gateway_key_exists(loket.operator, new_gateway_key)
    assert _authorize(rotated.data["secret"])["policyDocument"]["Statement"][0]["Effect"] == "Deny"


def test_the_api_role_may_make_and_delete_usage_plan_keys_and_nothing_more(loket, usage_plan):
    """The API's own credentials (the stand-in for its Lambda role), IAM enforced."""
    own = boto3.client("apigateway")
    made = own.create_api_key(name="loket-local-key_probe", enabled=True)
    own.create_usage_plan_key(usagePlanId=usage_plan, keyId=made["id"], keyType="API_KEY")
    refused = [
        lambda: own.get_api_keys(includeValues=True),
        lambda: own.get_api_key(apiKey=made["id"], includeValue=True),
        lambda: own.create_usage_plan(name="another plan"),
        lambda: own.update_usage_plan(usagePlanId=usage_plan, patchOperations=[
            {"op": "replace", "path": "/throttle/rateLimit", "value": "10000"}]),
        lambda: own.delete_usage_plan(usagePlanId=usage_plan),
        lambda: own.update_api_key(apiKey=made["id"], patchOperations=[{"op": "replace", "path": "/enabled",
                                                                       "value": "false"}]),
        lambda: own.create_rest_api(name="not ours"),
    ]
    for call in refused:
        with pytest.raises(ClientError) as error:
            call()
        assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403, error.value.response
    own.delete_api_key(apiKey=made["id"])
    assert not _gateway_key_exists(loket.operator, made["id"])


def test_without_a_usage_plan_no_gateway_key_is_made(api, loket):
    """The local stack: no API Gateway, nothing made; the gate's window is the limit."""
    made = make_key(api, VENUE, ["catalogue:read"])
    assert "gateway_key_id" not in _index(made["secret"])
    assert _authorize(made["secret"])["policyDocument"]["Statement"][0]["Effect"] == "Deny"
