"""The local moto server (local/moto_support.py MotoServer): many clients at
once are all answered over kept-alive connections, and IAM is as strict
through it as before (docs/architecture.md, "The local AWS")."""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from urllib.parse import urlparse

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

from chalicelib.adapters import aws, tenancy
from local.moto_support import REGION

CLIENTS = 200
KEY = {"pk": {"S": "SETTINGS"}, "sk": {"S": "SETTINGS"}}


def _signed_caller_identity(loket) -> tuple[str, dict[str, str]]:
    """One signed sts:GetCallerIdentity request (always allowed, as in AWS)."""
    body = "Action=GetCallerIdentity&Version=2011-06-15"
    request = AWSRequest(method="POST", url=loket.aws.endpoint + "/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(loket.operator.get_credentials(), "sts", REGION).add_auth(request)
    return body, dict(request.headers.items())


def test_two_hundred_clients_at_once_are_all_answered_over_kept_alive_connections(loket):
    endpoint = urlparse(loket.aws.endpoint)
    body, headers = _signed_caller_identity(loket)
    connected = threading.Barrier(CLIENTS, timeout=60)
    answers: list[tuple[int, int, bool]] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=60)
        try:
            connection.connect()
            connected.wait()  # every connection open before any request is sent
            statuses = []
            first_socket = connection.sock
            for _ in range(2):
                connection.request("POST", "/", body=body, headers=headers)
                response = connection.getresponse()
                text = response.read().decode()
                statuses.append(response.status if "GetCallerIdentityResult" in text else -response.status)
            with lock:
                answers.append((statuses[0], statuses[1], connection.sock is first_socket))
        except Exception as error:  # a reset or a timeout is what this test looks for
            with lock:
                failures.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert len(answers) == CLIENTS
    assert all(first == second == 200 for first, second, _ in answers), answers
    assert all(kept_alive for _, _, kept_alive in answers), "the second request needed a new connection"


def test_iam_refuses_a_venue_role_on_another_venues_table_and_a_bad_signature(loket):
    own = tenancy.venue_session("concertzaal")
    dynamodb = aws.client("dynamodb", own)
    assert "Item" in dynamodb.get_item(TableName="loket-local-venue-concertzaal", Key=KEY)
    with pytest.raises(ClientError) as refused:
        dynamodb.get_item(TableName="loket-local-venue-club-kaap", Key=KEY)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    credentials = own.get_credentials()
    import boto3

    forged = boto3.Session(aws_access_key_id=credentials.access_key, aws_secret_access_key="not-the-secret",
                           aws_session_token=credentials.token, region_name=REGION)
    with pytest.raises(ClientError) as unsigned:
        aws.client("dynamodb", forged).get_item(TableName="loket-local-venue-concertzaal", Key=KEY)
    assert unsigned.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "signature" in str(unsigned.value).lower()


def test_a_policy_change_takes_effect_on_the_very_next_request(loket):
    """Policy evaluations are remembered by the policies' text (local/moto_iam.py):
    a new or removed policy is a different text, so no answer is stale."""
    own = tenancy.venue_session("cc-reien")
    dynamodb = aws.client("dynamodb", own)
    table = "loket-local-venue-cc-reien"
    iam = loket.operator.client("iam", endpoint_url=loket.aws.endpoint)
    name = f"test-deny-{uuid.uuid4().hex[:8]}"
    assert "Item" in dynamodb.get_item(TableName=table, Key=KEY)
    iam.put_role_policy(RoleName="loket-local-venue-cc-reien", PolicyName=name, PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Deny", "Action": "dynamodb:GetItem", "Resource": "*"}]}))
    try:
        with pytest.raises(ClientError) as refused:
            dynamodb.get_item(TableName=table, Key=KEY)
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    finally:
        iam.delete_role_policy(RoleName="loket-local-venue-cc-reien", PolicyName=name)
    assert "Item" in dynamodb.get_item(TableName=table, Key=KEY)
