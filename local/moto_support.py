"""Make a moto server behave like AWS where Loket's isolation depends on it.

moto 5.2 authorizes every DynamoDB call against resource "*", so a policy that
names only one venue's table denies everything. `authorize_dynamodb_by_table`
makes moto's DynamoDB handler check each table ARN named in the request
(TableName, RequestItems, TransactItems), and, like AWS, authorizes the items
of a transaction as their own actions (PutItem, UpdateItem, ...).

CloudFormation and Cognito calls are likewise checked against the stack's or
user pool's ARN, as AWS does.

moto's in-memory DynamoDB is not thread-safe: two concurrent conditional
writes can both pass their condition. Real DynamoDB serializes writes to an
item, so the handler runs one request at a time; without this a concurrency
test would be testing moto, not Loket.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from urllib.parse import urlparse

import boto3
from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.dynamodb.responses import DynamoHandler
from moto.iam.access_control import IAMRequest

REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"

_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
_dynamodb_lock = threading.RLock()
_installed = False


def _table_actions(action: str, body: dict) -> list[tuple[str, str]]:
    """(action, table name) pairs a request needs, as AWS authorizes them."""
    if action in ("TransactWriteItems", "TransactGetItems"):
        pairs = []
        for item in body.get("TransactItems", []):
            for kind, spec in item.items():
                pairs.append((_TRANSACT_ACTIONS[kind], spec["TableName"]))
        return pairs
    if action in ("BatchGetItem", "BatchWriteItem"):
        return [(action, name) for name in body.get("RequestItems", {})]
    if "TableName" in body:
        return [(action, body["TableName"])]
    return [(action, "*")]


def _authorize_by_table(self: DynamoHandler, resource: str = "*") -> None:
    if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        ActionAuthenticatorMixin.request_count += 1
        return
    parsed = urlparse(self.uri)
    path = parsed.path + ("?" + parsed.query if parsed.query else "")
    action = self._get_action()
    body = json.loads(self.raw_body or b"{}")
    for table_action, table in _table_actions(action, body):
        request = IAMRequest(
            account_id=self.current_account,
            method=self.method,
            path=path,
            data=self.data,
            body=self.raw_body,
            headers=self.headers,
            action=table_action,
        )
        request.check_signature()
        arn = "*" if table == "*" else f"arn:aws:dynamodb:{self.region}:{self.current_account}:table/{table}"
        request.check_action_permitted(arn)


def _cloudformation_stack_resource(self) -> str:
    """AWS authorizes stack actions on the stack's ARN; moto on "*"."""
    name = self._get_param("StackName")
    if not name:
        return "*"
    if name.startswith("arn:"):
        return name
    return f"arn:aws:cloudformation:{self.region}:{self.current_account}:stack/{name}/*"


def _cognito_pool_resource(self) -> str:
    pool = self._get_param("UserPoolId")
    return f"arn:aws:cognito-idp:{self.region}:{self.current_account}:userpool/{pool}" if pool else "*"


def authorize_dynamodb_by_table() -> None:
    global _installed
    if _installed:
        return
    original_call_action = DynamoHandler.call_action

    def serialized_call_action(self):  # noqa: ANN001 - moto's signature
        with _dynamodb_lock:
            return original_call_action(self)

    from moto.cloudformation.responses import CloudFormationResponse

    from moto.cognitoidp.responses import CognitoIdpResponse

    CloudFormationResponse._determine_resource = _cloudformation_stack_resource
    CognitoIdpResponse._determine_resource = _cognito_pool_resource
    DynamoHandler._authenticate_and_authorize_normal_action = _authorize_by_table
    DynamoHandler.call_action = serialized_call_action
    _installed = True


@dataclass(frozen=True)
class LocalAws:
    """A running moto server with IAM enforced and an operator identity."""

    endpoint: str
    operator: boto3.Session
    server: object

    def session(self, access_key: str, secret_key: str) -> boto3.Session:
        return boto3.Session(aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=REGION)

    def stop(self) -> None:
        self.server.stop()


def start_local_aws(port: int = 0, host: str = "127.0.0.1") -> LocalAws:
    """Start moto on `host:port` with IAM enforcement on.

    The operator (the person running the stack, like an admin deploying to a
    real account) is created while auth is still off; from then on every
    request, including the operator's, is signed and checked against IAM.
    """
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    authorize_dynamodb_by_table()
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    endpoint = f"http://{bound_host}:{bound_port}"
    bootstrap = boto3.client(
        "iam", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap"
    )
    bootstrap.create_user(UserName="loket-operator")
    bootstrap.put_user_policy(
        UserName="loket-operator",
        PolicyName="administrator",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    key = bootstrap.create_access_key(UserName="loket-operator")["AccessKey"]
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0
    operator = boto3.Session(
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name=REGION
    )
    return LocalAws(endpoint=endpoint, operator=operator, server=server)
