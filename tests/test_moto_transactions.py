"""The local DynamoDB rolls back a cancelled transaction item by item, and
never copies the whole table to do it (local/moto_transactions.py)."""

import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import dynamodb_backends

from local.moto_support import ACCOUNT_ID, REGION

TABLE = "loket-local-network"


def _key(name):
    return {"pk": {"S": "MOTO-TX-TEST"}, "sk": {"S": name}}


def test_a_cancelled_transaction_leaves_every_item_as_it_was_without_copying_the_table(loket, faults):
    # The stand-in itself is under test here, not Loket's handling of its faults.
    with faults(dynamodb_conflict=0.0, dynamodb_throttle=0.0):
        dynamodb = loket.operator.client("dynamodb")
        dynamodb.put_item(TableName=TABLE, Item={**_key("a"), "n": {"N": "1"}})
        table = dynamodb_backends[ACCOUNT_ID][REGION].tables[TABLE]
        with pytest.raises(ClientError) as cancelled:
            dynamodb.transact_write_items(TransactItems=[
                {"Update": {"TableName": TABLE, "Key": _key("a"), "UpdateExpression": "SET n = :two",
                            "ExpressionAttributeValues": {":two": {"N": "2"}}}},
                {"Put": {"TableName": TABLE, "Item": {**_key("b"), "n": {"N": "1"}}}},
                {"ConditionCheck": {"TableName": TABLE, "Key": _key("c"), "ConditionExpression": "attribute_exists(pk)"}},
            ])
        assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
        assert dynamodb.get_item(TableName=TABLE, Key=_key("a"))["Item"]["n"] == {"N": "1"}
        assert "Item" not in dynamodb.get_item(TableName=TABLE, Key=_key("b"))
        assert dynamodb_backends[ACCOUNT_ID][REGION].tables[TABLE] is table, "the table was not swapped for a copy"
        dynamodb.transact_write_items(TransactItems=[
            {"Update": {"TableName": TABLE, "Key": _key("a"), "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            {"Put": {"TableName": TABLE, "Item": {**_key("b"), "n": {"N": "1"}}}}])
        assert dynamodb.get_item(TableName=TABLE, Key=_key("a"))["Item"]["n"] == {"N": "2"}
        assert dynamodb.get_item(TableName=TABLE, Key=_key("b"))["Item"]["n"] == {"N": "1"}
