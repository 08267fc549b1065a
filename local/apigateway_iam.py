"""Make moto authorize API Gateway management calls as AWS does (test support only).

AWS names API Gateway's management actions by HTTP method and its resources by
path: creating a key is `apigateway:POST` on `arn:aws:apigateway:{region}::/apikeys`
(docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-create-and-manage-api.html).
moto 5.2 checks `apigateway:CreateApiKey` on "*", so the API's real policy
(infra/platform.yaml UsagePlanKeysOnly) would be refused by moto, and a
policy written for moto would be meaningless in AWS; and moto refuses every
signed DELETE (it checks the signature over the path's parameters). `install()`
makes moto ask for the method on the path's ARN, for every API Gateway call,
and check the signature over what the client signed.

Installed by local/stack.py for the moto that runs in the test process; the
local stack of `make run` has no API Gateway in front of it and makes no
API Gateway keys (no usage plan: adapters/gateway_keys.py).
"""

from __future__ import annotations

from urllib.parse import urlparse

_installed = False


def resource_arn(region: str, path: str) -> str:
    return f"arn:aws:apigateway:{region}::{path.rstrip('/') or '/'}"


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.apigateway.responses import APIGatewayResponse
    from moto.iam.access_control import IAMRequest

    def authorize_as_aws(self, resource: str = "*") -> None:  # noqa: ANN001 - moto's signature
        # The IAM request reads the action from _get_action(): for this check only, the HTTP method.
        # It also checks the signature over `body or data`; for a request without a body (DELETE) moto's
        # `data` holds the path's parameters, which the client never signed (SignatureDoesNotMatch).
        data, self._get_action = self.data, (lambda: self.method)
        if not self.raw_body:
            self.data = {}
        try:
            self._authenticate_and_authorize_action(IAMRequest, resource_arn(self.region, urlparse(self.uri).path))
        finally:
            del self._get_action
            self.data = data

    APIGatewayResponse._authenticate_and_authorize_normal_action = authorize_as_aws
    _installed = True
