"""API Gateway API keys for the per-key rate limit (docs/integrations.md "Rate limit").

API Gateway's usage plan counts requests per API Gateway API key. Loket's own
keys (`lk_...`) come in `Authorization: Bearer`, so each one gets an API
Gateway key of its own, in the stage's usage plan, which the API key
authorizer (api/authorizer.py) names as the request's `usageIdentifierKey`.
The API Gateway key's own value is never handed out: with the API's key
source set to AUTHORIZER, nobody sends it.

Made when a lead makes (or rotates to) a key, deleted when it is revoked, on
the API's own role, which may do exactly that (infra/platform.yaml
UsagePlanKeysOnly). Locally there is no API Gateway and no usage plan:
nothing is made and the per-instance window (domain/api_keys.py) is the limit.
"""

from __future__ import annotations

import functools

from chalicelib.adapters import aws
from chalicelib.observability import logger
from chalicelib.settings import get_settings


@functools.lru_cache(maxsize=4)
def _plan_id(parameter: str) -> str:
    return aws.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]


def plan_id() -> str | None:
    """The stage's usage plan, or None where there is none (the local stack)."""
    parameter = get_settings().usage_plan_parameter
    return _plan_id(parameter) if parameter else None


def create(key_id: str) -> str | None:
    """A new API Gateway key in the usage plan for Loket key `key_id`; its id (None without a plan).
    Named by the key id only: no label, no venue data in API Gateway."""
    plan = plan_id()
    if plan is None:
        return None
    gateway = aws.client("apigateway")
    made = gateway.create_api_key(name=f"loket-{get_settings().stage}-{key_id}", enabled=True,
                                  description="Per-key rate limit of a Loket API key (loket docs/integrations.md)")
    try:
        gateway.create_usage_plan_key(usagePlanId=plan, keyId=made["id"], keyType="API_KEY")
    except Exception:
        gateway.delete_api_key(apiKey=made["id"])  # not left behind outside the plan
        raise
    return made["id"]


def delete(gateway_key_id: str | None) -> None:
    """Gone from API Gateway (and so from the plan). A failure is logged, not raised: the key is
    already refused by the gate, and an API Gateway key without a Loket key opens nothing."""
    if not gateway_key_id or plan_id() is None:
        return
    try:
        aws.client("apigateway").delete_api_key(apiKey=gateway_key_id)
    except Exception:  # noqa: BLE001
        logger.exception("API Gateway key not deleted", extra={"gateway_key_id": gateway_key_id})
