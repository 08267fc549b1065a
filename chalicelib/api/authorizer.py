"""The API key authorizer in front of `/v1/...` in AWS (docs/integrations.md "Rate limit").

API Gateway's usage plan limits each caller by an API Gateway API key, which a
Lambda authorizer may name (`usageIdentifierKey`, with the API's key source set
to AUTHORIZER: local/deploy.py `usage_plan_security`). This function only
identifies the Loket key in `Authorization: Bearer lk_...` (the network key
index, as the gate reads it) and names its API Gateway key; an unknown,
revoked or expired key is denied. It decides nothing else: venue, scope and
everything the route needs are the gate's (api/http.py), which runs on every
request behind it. Locally there is no API Gateway: this function is not
called, and the gate's per-instance window is the limit.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

gateway = Blueprint(__name__)


def allow_v1(method_arn: str) -> str:
    """Every /v1 route of the same API and stage: API Gateway caches the answer per key (the TTL) and
    applies it to the key's next requests, whatever their route."""
    api, stage = method_arn.split("/")[:2]
    return f"{api}/{stage}/*/v1/*"


def decide(authorization: str, method_arn: str, identify) -> dict[str, Any]:  # noqa: ANN001 - services.api_keys.identify
    scheme, _, secret = (authorization or "").partition(" ")
    record = identify(secret.strip()) if scheme.lower() == "bearer" else None
    if record is None or not record.get("gateway_key_id"):
        # A Deny, not an exception: an unknown key is an answer, not a failure of the function (its
        # Errors alarm). API Gateway answers it 401 problem+json (local/deploy.py gateway_responses).
        return {"principalId": "unknown", "policyDocument": _policy("Deny", allow_v1(method_arn))}
    return {"principalId": record["key_id"], "usageIdentifierKey": record["gateway_key_id"],
            "policyDocument": _policy("Allow", allow_v1(method_arn)), "context": {"key_id": record["key_id"]}}


def _policy(effect: str, resource: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke", "Effect": effect,
                                                    "Resource": resource}]}


@gateway.lambda_function(name="api_key_authorizer")
def api_key_authorizer(event, context):
    from chalicelib import bootstrap
    from chalicelib.services import api_keys

    return decide(event.get("authorizationToken", ""), event["methodArn"],
                  lambda secret: api_keys.identify(bootstrap.network(), secret))
