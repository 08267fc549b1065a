"""Make a moto server behave like AWS where Loket's isolation depends on it.

moto 5.2 authorizes every DynamoDB call against resource "*", so a policy that
names only one venue's table denies everything. `authorize_dynamodb_by_table`
makes moto's DynamoDB handler check each table ARN named in the request
(TableName, RequestItems, TransactItems), and, like AWS, authorizes the items
of a transaction as their own actions (PutItem, UpdateItem, ...).

CloudFormation and Cognito calls are likewise checked against the stack's or
user pool's ARN, as AWS does.

DynamoDB concurrency as in AWS. moto's in-memory DynamoDB is not
thread-safe (a transaction deep-copies the table and restores it on
failure), so requests on one table run one at a time, while different
tables (different venues) run concurrently. Real DynamoDB does not queue a
transaction behind another one on the same item: it cancels it with
`TransactionConflict`. The handler does the same: a transaction arriving
while another transaction or write is working on one of its items is
cancelled, and a single write on an item inside a running transaction gets
`TransactionConflictException`. On top of those real conflicts, the rates in
`local/faults.py` cancel transactions and conditional writes and throttle
requests (docs/faults.md).

SQS delivers a share of messages twice (at-least-once delivery), and S3
answers 403 for a missing key to a caller without `s3:ListBucket`, as AWS
does.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlparse

import boto3
from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.dynamodb.responses import DynamoHandler
from moto.iam.access_control import IAMRequest, S3IAMRequest
from werkzeug.exceptions import HTTPException

from local import faults

REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"

_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
_installed = False
_DATA_PLANE = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
               "TransactWriteItems", "TransactGetItems", "DescribeTable"}
_SINGLE_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
_CONDITIONAL_WRITES = _SINGLE_WRITES | {"TransactWriteItems"}
_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


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
    if getattr(self, "_loket_authorized", False):
        return  # already checked by _call_as_aws before the request waited for its table
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



# -- DynamoDB concurrency and faults ------------------------------------------------
class _ItemsInFlight:
    """Items some request is writing right now: (table, key) -> [transactions, single writes]."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str], list[int]] = {}

    def busy(self, items: list[tuple[str, str]], *, transaction: bool) -> list[bool]:
        with self._lock:
            return [self._conflicts(item, transaction) for item in items]

    def claim(self, items: list[tuple[str, str]], *, transaction: bool) -> list[bool]:
        """Register `items`, or return which of them conflict (and register nothing)."""
        with self._lock:
            busy = [self._conflicts(item, transaction) for item in items]
            if not any(busy):
                for item in items:
                    self._items.setdefault(item, [0, 0])[0 if transaction else 1] += 1
            return busy

    def _conflicts(self, item: tuple[str, str], transaction: bool) -> bool:
        transactions, writes = self._items.get(item, (0, 0))
        # A transaction conflicts with any write in progress on its items; two
        # single writes on one item are simply serialised by DynamoDB.
        return transactions > 0 or (transaction and writes > 0)

    def release(self, items: list[tuple[str, str]], *, transaction: bool) -> None:
        with self._lock:
            for item in items:
                counts = self._items[item]
                counts[0 if transaction else 1] -= 1
                if counts == [0, 0]:
                    del self._items[item]


_in_flight = _ItemsInFlight()
# What the stand-in answered instead of running a request, for tests and benchmarks.
refused: dict[str, int] = {"conflict": 0, "injected_conflict": 0, "throttle": 0}
_table_locks: dict[str, threading.Lock] = {}
_table_locks_guard = threading.Lock()
_control_plane_lock = threading.Lock()


def _table_lock(name: str) -> threading.Lock:
    with _table_locks_guard:
        return _table_locks.setdefault(name, threading.Lock())


@contextlib.contextmanager
def _tables_locked(names: list[str]) -> Iterator[None]:
    """One request per table at a time (moto is not thread-safe); several
    tables are locked in name order so two requests cannot deadlock."""
    with contextlib.ExitStack() as stack:
        for name in sorted(set(names)):
            stack.enter_context(_table_lock(name))
        yield


def _written_items(handler: DynamoHandler, action: str, body: dict) -> list[tuple[str, str]]:
    def item_key(table: str, spec: dict) -> tuple[str, str]:
        if "Key" in spec:
            key = spec["Key"]
        else:  # a Put names its key inside the item
            schema = handler.dynamodb_backend.get_table(table)
            names = [schema.hash_key_attr] + ([schema.range_key_attr] if schema.range_key_attr else [])
            key = {name: spec["Item"].get(name) for name in names}
        return table, json.dumps(key, sort_keys=True)

    if action == "TransactWriteItems":
        return [item_key(spec["TableName"], spec) for entry in body.get("TransactItems", []) for spec in entry.values()]
    if action in _SINGLE_WRITES:
        return [item_key(body["TableName"], body)]
    return []


def _error(code: str, message: str, **extra: Any) -> tuple[int, dict[str, str], str]:
    return 400, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}, json.dumps(
        {"__type": _ERROR_PREFIX + code, "message": message, **extra})


def _transaction_conflict(conflicting: list[bool]) -> tuple[int, dict[str, str], str]:
    reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"} if busy
               else {"Code": "None"} for busy in conflicting]
    summary = ", ".join(r["Code"] for r in reasons)
    return _error("TransactionCanceledException",
                  f"Transaction cancelled, please refer cancellation reasons for specific reasons [{summary}]",
                  CancellationReasons=reasons)


def _throttled() -> tuple[int, dict[str, str], str]:
    if faults.roll("dynamodb_throttle"):  # a second roll picks which of AWS's two throttling answers
        return _error("ThrottlingException", "Throughput exceeds the current capacity for one or more global "
                                             "secondary indexes. DynamoDB is automatically scaling your index.")
    return _error("ProvisionedThroughputExceededException",
                  "The level of configured provisioned throughput for the table was exceeded. Consider increasing "
                  "your provisioning level with the UpdateTable API.")


def _is_conditional(action: str, body: dict) -> bool:
    if action == "TransactWriteItems":
        return True
    return action in _SINGLE_WRITES and "ConditionExpression" in body


def _call_as_aws(handler: DynamoHandler, original_call_action) -> Any:
    """IAM first, then what DynamoDB itself would answer under contention."""
    action = handler._get_action()
    if action not in _DATA_PLANE:
        with _control_plane_lock:
            return original_call_action(handler)
    try:
        _authorize_by_table(handler)
    except HTTPException:
        return original_call_action(handler)  # moto renders the refusal as it always does
    handler._loket_authorized = True
    body = json.loads(handler.raw_body or b"{}")
    if faults.roll("dynamodb_throttle"):
        refused["throttle"] += 1
        return _throttled()
    items = _written_items(handler, action, body)
    transaction = action == "TransactWriteItems"
    if _is_conditional(action, body) and faults.roll("dynamodb_conflict"):
        busy = [True] * len(items)
        refused["injected_conflict"] += 1
    else:
        # A request arriving while another one is writing its items conflicts,
        # as in DynamoDB; one that only queues for moto's table lock does not
        # (DynamoDB has no such queue), so items count as in flight only while
        # their request runs.
        busy = _in_flight.busy(items, transaction=transaction)
        if not any(busy):
            with _tables_locked([table for _, table in _table_actions(action, body) if table != "*"]):
                busy = _in_flight.claim(items, transaction=transaction)
                if not any(busy):
                    try:
                        return original_call_action(handler)
                    finally:
                        _in_flight.release(items, transaction=transaction)
        refused["conflict"] += 1
    if transaction:
        return _transaction_conflict(busy)
    return _error("TransactionConflictException", "Transaction is ongoing for the item")


# -- DynamoDB: answers as plain JSON -------------------------------------------------
# The item operations' results are already DynamoDB JSON; moto 5.2 walks
# botocore's shape model for every attribute of every item to serialise them
# (a fifth of the moto process's CPU during an on-sale). The same JSON,
# dumped directly. LOKET_CHECK_FAST_DYNAMODB=1 computes both and fails loudly
# on a difference (run the suite with it after upgrading moto).
_FAST_OUTPUT = _DATA_PLANE - {"DescribeTable"}


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _install_dynamodb_plain_json_answers() -> None:
    import os

    original = DynamoHandler.serialized
    check = os.environ.get("LOKET_CHECK_FAST_DYNAMODB") == "1"

    from moto.core.utils import get_service_model

    members: dict[str, frozenset[str]] = {}  # an answer's top-level names, as in botocore's output shape

    def serialized(self, action_result):  # noqa: ANN001 - moto's signature
        result = action_result.result
        action = self._get_action()
        if not isinstance(result, dict) or action not in _FAST_OUTPUT:
            return original(self, action_result)
        if action not in members:
            members[action] = frozenset(get_service_model("dynamodb").operation_model(action).output_shape.members)
        body = json.dumps({k: _without_nulls(v) for k, v in result.items() if k in members[action] and v is not None},
                          separators=(",", ":"))
        if check:
            _, _, expected = original(self, action_result)
            if json.loads(expected) != json.loads(body):
                raise AssertionError(f"fast DynamoDB answer differs for {self._get_action()}: {expected} != {body}")
        return 200, {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}, body

    DynamoHandler.serialized = serialized


# -- SQS: at-least-once delivery ---------------------------------------------------
def _install_sqs_redelivery() -> None:
    from moto.sqs.models import SQSBackend

    original_send = SQSBackend.send_message

    def send_at_least_once(self, queue_name, message_body, *args, **kwargs):  # noqa: ANN001 - moto's signature
        message = original_send(self, queue_name, message_body, *args, **kwargs)
        if faults.roll("sqs_duplicate") and not queue_name.endswith(".fifo"):
            original_send(self, queue_name, message_body, *args, **kwargs)
        return message

    SQSBackend.send_message = send_at_least_once


def _install_request_overhead_cuts() -> None:
    """moto lists its own package directory and inspects the response class
    on every request (about 3 ms of a ~10 ms request here); both answers never
    change while the server runs. Same answers, computed once."""
    import functools

    from moto import backends
    from moto.core import responses, utils

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    responses.method_names_from_class = functools.lru_cache(maxsize=None)(utils.method_names_from_class)


def _tree_shape(node: Any) -> Any:
    """A parse tree as plain values (node types, attributes, children), parents left out."""
    if not hasattr(node, "__dict__"):
        return node
    return (type(node).__name__, tuple((key, _tree_shape(value) if key != "children" else
                                        tuple(_tree_shape(child) for child in value or ()))
                                       for key, value in sorted(vars(node).items()) if key != "parent"))


def _install_update_expression_cache() -> None:
    """moto parses an UpdateExpression (twice per UpdateItem) with a
    hand-written tokenizer and parser, about 0.5-3 ms each, the largest
    single cost of a conditional write. The tree depends on the expression's
    text alone; it is parsed once per text and each caller gets its own copy
    (moto's validator rewrites the tree it is given). An invalid expression
    is not remembered and fails as before. LOKET_CHECK_FAST_DYNAMODB=1 parses
    every time as well and fails loudly on a difference."""
    import functools
    import os
    import pickle

    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    parse = UpdateExpressionParser.make.__func__
    check = os.environ.get("LOKET_CHECK_FAST_DYNAMODB") == "1"

    @functools.lru_cache(maxsize=4096)
    def parsed(expression: str) -> bytes:
        return pickle.dumps(parse(UpdateExpressionParser, expression), pickle.HIGHEST_PROTOCOL)

    def make(cls, expression_str):  # noqa: ANN001 - moto's signature
        if cls is not UpdateExpressionParser or not isinstance(expression_str, str):
            return parse(cls, expression_str)
        tree = parsed(expression_str)
        copy = pickle.loads(tree)
        if check and _tree_shape(parse(cls, expression_str)) != _tree_shape(copy):
            raise AssertionError(f"cached UpdateExpression differs for {expression_str!r}")
        return copy

    UpdateExpressionParser.make = classmethod(make)


def _install_sqs_long_poll_without_spinning() -> None:
    """moto's long poll waits "until the queue has a visible message"; a FIFO
    queue whose only visible messages are in a group another consumer is
    working on has one at once, so every waiting poller spun at full speed
    (the moto process at 100% CPU, every other request slowed tenfold during
    an on-sale). Wait for a new message or a short while instead, as SQS's
    long poll costs nothing while it waits."""
    from moto.sqs.models import Queue

    def wait_for_messages(self, timeout: int) -> None:  # noqa: ANN001 - moto's signature
        # Not woken by each new message either: during an on-sale's burst of
        # joins that woke every waiting poller to rescan the whole queue per join.
        threading.Event().wait(min(timeout, 0.2))

    Queue.wait_for_messages = wait_for_messages


def _install_sqs_cheap_attribute_reads() -> None:
    """moto builds every queue attribute, counting all messages three times
    (each with a clock read per message), to look up ContentBasedDeduplication
    on every send: a send cost O(messages in the queue). A queue's plain
    attributes are now read directly; the counts only when asked for."""
    from collections.abc import Mapping

    from moto.core.utils import camelcase_to_underscores
    from moto.sqs.models import Queue

    full_attributes = Queue.attributes.fget

    class Attributes(Mapping):
        def __init__(self, queue: Any) -> None:
            self.queue, self.full = queue, None

        def _all(self) -> dict[str, Any]:
            if self.full is None:
                self.full = full_attributes(self.queue)
            return self.full

        def get(self, name: str, default: Any = None) -> Any:
            if not name.startswith("Approximate") and name in self.queue.BASE_ATTRIBUTES + self.queue.FIFO_ATTRIBUTES:
                return getattr(self.queue, camelcase_to_underscores(name), default)
            return self._all().get(name, default)

        def __getitem__(self, name: str) -> Any:
            return self._all()[name]

        def __iter__(self):  # noqa: ANN204 - Mapping's signature
            return iter(self._all())

        def __len__(self) -> int:
            return len(self._all())

    Queue.attributes = property(lambda queue: Attributes(queue))

    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(self, queue_name: str, message: Any) -> bool:  # noqa: ANN001
        # moto asked for the queue's attributes (counting every message) once per received message.
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return retention_period + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period

    import time as clock

    from moto.sqs.models import Message

    # Every receive checks every message's visibility, and moto's clock read
    # builds two datetimes each time: with 10,000 joins queued, a receive took
    # longer than processing the batch it returned. The same clock, read cheaply.
    Message.visible = property(lambda message: clock.time() * 1000.0 > message.visible_at)
    Message.delayed = property(lambda message: clock.time() * 1000.0 < message.delayed_until)


def _install_sqs_get_queue_url_by_name() -> None:
    """AWS authorizes sqs:GetQueueUrl against the named queue's ARN; moto
    against "*", so a role allowed only its own queues could not look up
    their URLs."""
    from moto.sqs.exceptions import QueueDoesNotExist
    from moto.sqs.responses import SQSResponse

    original = SQSResponse._determine_resource

    def queue_named(self) -> str:  # noqa: ANN001 - moto's signature
        name = self._get_param("QueueName")
        if name:
            try:
                return self.sqs_backend.get_queue(name).queue_arn
            except QueueDoesNotExist:
                return "*"
        return original(self)

    SQSResponse._determine_resource = queue_named


# -- S3: a missing key is 403 without s3:ListBucket --------------------------------
def _install_s3_missing_key_403() -> None:
    from moto.s3.exceptions import MissingKey
    from moto.s3.responses import S3Response

    def refuse_like_s3(original):
        def answer(self, *args, **kwargs):  # noqa: ANN001 - moto's signature
            try:
                return original(self, *args, **kwargs)
            except MissingKey:
                if ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT:
                    parsed = urlparse(self.uri)
                    request = S3IAMRequest(account_id=self.current_account, method=self.method,
                                           path=parsed.path + ("?" + parsed.query if parsed.query else ""),
                                           data=self.data, body=self.raw_body, headers=self.headers,
                                           action="ListBucket")
                    request.check_action_permitted(f"arn:aws:s3:::{self.bucket_name}")  # raises AccessDenied
                raise

        return answer

    S3Response.get_object = refuse_like_s3(S3Response.get_object)
    S3Response.head_object = refuse_like_s3(S3Response.head_object)


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


def _sns_topic_resource(self) -> str:
    """AWS authorizes sns:Publish (and the other topic actions) on the topic's ARN; moto on "*"."""
    return self._get_param("TopicArn") or "*"


def authorize_dynamodb_by_table() -> None:
    global _installed
    if _installed:
        return
    from local import moto_iam, moto_mail, moto_transactions

    moto_iam.install()  # IAM conditions, boundaries, PassRole, stack roles
    moto_mail.install()  # SES by identity ARN, presigned S3 links, the outbox
    moto_transactions.install()  # a transaction's rollback costs what it touches, not the whole table
    original_call_action = DynamoHandler.call_action

    def call_action_as_aws(self):  # noqa: ANN001 - moto's signature
        return _call_as_aws(self, original_call_action)

    from moto.cloudformation.responses import CloudFormationResponse

    from moto.cognitoidp.responses import CognitoIdpResponse

    CloudFormationResponse._determine_resource = _cloudformation_stack_resource
    CognitoIdpResponse._determine_resource = _cognito_pool_resource
    from moto.sns.responses import SNSResponse

    SNSResponse._determine_resource = _sns_topic_resource
    DynamoHandler._authenticate_and_authorize_normal_action = _authorize_by_table
    DynamoHandler.call_action = call_action_as_aws
    _install_request_overhead_cuts()
    _install_dynamodb_plain_json_answers()
    _install_update_expression_cache()
    _install_sqs_redelivery()
    _install_sqs_long_poll_without_spinning()
    _install_sqs_cheap_attribute_reads()
    _install_sqs_get_queue_url_by_name()
    _install_s3_missing_key_403()
    from local import moto_sqs_fifo

    moto_sqs_fifo.install()
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


class MotoServer:
    """moto's WSGI application on waitress instead of werkzeug's development server.

    moto's ThreadedMotoServer starts a thread per connection, sends an
    answer's headers and body in separate writes and listens with a small
    backlog: under an on-sale's burst it was a third of the moto process's
    time. waitress serves the same application from a fixed pool of worker
    threads, keeps connections alive, sends each answer in one write, and
    listens with a backlog like a real service's. Every request still goes
    through moto and Loket's rules above, unchanged.
    """

    BACKLOG = 2048
    # A worker is held for the whole of an SQS long poll (up to 20 s): enough
    # of them that every poller of a full local stack plus the API's and the
    # benchmarks' concurrency never waits for a free one.
    THREADS = 96
    CONNECTIONS = 4096

    def __init__(self, host: str = "127.0.0.1", port: int = 0, threads: int = THREADS,
                 backlog: int = BACKLOG) -> None:
        import logging

        from moto.server import DomainDispatcherApplication, create_backend_app
        from waitress.server import create_server

        app = DomainDispatcherApplication(create_backend_app)

        def moto_app(environ: dict[str, Any], start_response: Any) -> Any:
            # werkzeug's server gave moto the request target as RAW_URI (S3 keys keep their encoding).
            environ.setdefault("RAW_URI", environ.get("REQUEST_URI", ""))
            return app(environ, start_response)

        # "Task queue depth" is a burst working as intended, not a fault.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        self._server = create_server(
            moto_app, host=host, port=port, threads=threads, backlog=backlog, connection_limit=self.CONNECTIONS,
            asyncore_use_poll=True,  # select() stops at 1,024 descriptors
            clear_untrusted_proxy_headers=False,  # every header reaches moto as sent (SigV4 signs them)
            channel_timeout=120, ident="amazon.com")
        self._thread = threading.Thread(target=self._server.run, name="moto-http", daemon=True)

    def start(self) -> "MotoServer":
        self._thread.start()
        return self

    def get_host_and_port(self) -> tuple[str, int]:
        return str(self._server.effective_host), int(self._server.effective_port)

    def stop(self) -> None:
        from waitress import wasyncore

        self._server.task_dispatcher.shutdown(timeout=2)  # a long poll may still run: it ends with the process
        wasyncore.close_all(self._server._map)
        self._thread.join(timeout=10)


def start_local_aws(port: int = 0, host: str = "127.0.0.1") -> LocalAws:
    """Start moto on `host:port` with IAM enforcement on.

    The operator (the person running the stack, like an admin deploying to a
    real account) is created while auth is still off; from then on every
    request, including the operator's, is signed and checked against IAM.
    """
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    authorize_dynamodb_by_table()
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
    server = MotoServer(host=host, port=port).start()
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


class MotoProcess:
    """A moto server running local/moto_process.py in a child process."""

    def __init__(self, port: int = 0) -> None:
        import subprocess
        import sys

        self.process = subprocess.Popen([sys.executable, "-m", "local.moto_process", str(port)],
                                        cwd=str(Path(__file__).resolve().parents[1]), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the moto process did not start")
        self.started = json.loads(line)

    def configure_faults(self, spec: str) -> None:
        self.process.stdin.write(f"faults {spec}\n")
        self.process.stdin.flush()

    def refused(self) -> dict[str, int]:
        self.process.stdin.write("counts\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())["refused"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except Exception:
                self.process.kill()


def start_local_aws_process(port: int = 0) -> LocalAws:
    """As start_local_aws, with moto in a child process (its own interpreter lock)."""
    child = MotoProcess(port)
    operator = boto3.Session(aws_access_key_id=child.started["access_key"],
                             aws_secret_access_key=child.started["secret_key"], region_name=REGION)
    return LocalAws(endpoint=child.started["endpoint"], operator=operator, server=child)
