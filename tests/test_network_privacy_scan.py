"""Nothing personal at network level, proven (docs/privacy.md, issue 11).

After a realistic run (one basket across two venues paid through Stripe's
signed webhook, a second buyer at a third venue, each venue's confirmation
mail with its PDF, a "my tickets" link asked for, mailed and used, a lead
reading an order), the scan reads every network-level store and looks for
the buyers' e-mail addresses and names:

  network table          every item (operator credentials: a full Scan)
  site bucket            every object: storefront files, catalogue JSON, venue pictures
  payment-events queue   every message the webhook queued, read before the worker took it,
                         and its dead-letter queue
  logs                   every line the loket logger wrote during the run (through its real
                         handler, so the redaction filter is part of what is tested)
  metrics                every EMF line printed during the run, its dimension values included

The scan must be able to fail: the last test plants an address in each kind of
store and checks the scan reports it there.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from contextlib import contextmanager, redirect_stdout

import pytest

from chalicelib.observability import count, logger
from local import faults as local_faults
from test_my_tickets_api import ask_link, link_mails, link_in, open_link
from test_privacy import person

OBSERVING = {"dynamodb_conflict": 0.0, "dynamodb_throttle": 0.0, "sqs_duplicate": 0.0}


@contextmanager
def captured_logs():
    """What the loket logger's own handlers write, with their formatter and filters."""
    buffer = io.StringIO()
    handlers = logging.getLogger("loket").handlers
    streams = [h.setStream(buffer) for h in handlers]
    try:
        yield buffer
    finally:
        for handler, stream in zip(handlers, streams):
            handler.setStream(stream)


def network_stores(loket, logs: str, printed: str, queued: list[str]) -> dict[str, list[str]]:
    """Every network-level store as texts, by store name."""
    operator = loket.aws.operator
    endpoint = loket.aws.endpoint
    stores: dict[str, list[str]] = {}
    with local_faults.injected(**OBSERVING):
        dynamodb = operator.client("dynamodb", endpoint_url=endpoint)
        items, start = [], {}
        while True:
            page = dynamodb.scan(TableName="loket-local-network", **start)
            items += [json.dumps(i) for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
        stores["network table"] = items
        s3 = operator.client("s3", endpoint_url=endpoint)
        bucket = loket.outputs["SiteBucketName"]
        objects = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
                objects.append(entry["Key"] + "\n" + body.decode("utf-8", "replace"))
        stores["site bucket"] = objects
        sqs = operator.client("sqs", endpoint_url=endpoint)
        dead = sqs.receive_message(QueueUrl=loket.outputs["PaymentEventsDeadLetterQueueUrl"], MaxNumberOfMessages=10,
                                   VisibilityTimeout=0).get("Messages", [])
        stores["payment-events messages"] = queued + [m["Body"] for m in dead]
    stores["logs"] = logs.splitlines()
    emf = [line for line in printed.splitlines() if '"_aws"' in line]
    stores["metric lines (EMF)"] = emf
    dimensions = []
    for line in emf:
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            dimensions += [str(document.get(name)) for names in directive["Dimensions"] for name in names]
    stores["metric dimensions"] = dimensions
    return stores


def scan(stores: dict[str, list[str]], needles: list[str]) -> dict[str, list[str]]:
    """Per store, which needles (case-insensitive) it holds."""
    found = {}
    for name, texts in stores.items():
        hits = sorted({n for n in needles for text in texts if n.lower() in text.lower()})
        if hits:
            found[name] = hits
    return found


def pay_queued(api, checkout: dict) -> list[str]:
    """Pay, let Stripe's webhook queue the event, and keep what was queued before the worker takes it."""
    assert api.deliver(api.pay(checkout["checkout_url"])).status_code == 200
    with local_faults.injected(**OBSERVING):
        sqs = api.loket.aws.operator.client("sqs", endpoint_url=api.loket.aws.endpoint)
        queued = [m["Body"] for m in sqs.receive_message(
            QueueUrl=api.loket.outputs["PaymentEventsQueueUrl"], MaxNumberOfMessages=10,
            VisibilityTimeout=0).get("Messages", [])]
    assert queued
    api.run_workers()
    assert api.basket(checkout).data["status"] == "paid"
    return queued


@pytest.fixture(scope="module")
def realistic_run(api, loket):
    first, second = person("Sofie"), person("Tom")
    queued: list[str] = []
    printed = io.StringIO()  # EMF metrics are printed to stdout
    with captured_logs() as logs, redirect_stdout(printed):
        # One basket across two venues, one payment.
        events = [api.new_event("concertzaal"), api.new_event("club-kaap")]
        holds = [api.hold(event, 1).data for event in events]
        checkout = api.call("POST", "/checkout", {
            "holds": [{"venue": h["venue"], "hold_id": h["hold_id"]} for h in holds], "buyer": first},
            headers={"Idempotency-Key": str(uuid.uuid4())}).data
        queued += pay_queued(api, checkout)
        # A second buyer at a third venue.
        hold = api.hold(api.new_event("cc-reien"), 2).data
        other = api.call("POST", "/checkout", {"holds": [{"venue": "cc-reien", "hold_id": hold["hold_id"]}],
                                               "buyer": second}, headers={"Idempotency-Key": str(uuid.uuid4())}).data
        queued += pay_queued(api, other)
        # The "my tickets" link: asked, mailed, used, the tickets listed.
        assert ask_link(api, first["email"]).status_code == 202
        session = open_link(api, link_in(link_mails(first["email"])[0])).data["session"]
        mine = api.call("GET", "/my-tickets", headers={"X-My-Tickets-Session": session}, buyer="").data
        assert len(mine["orders"]) == 2
        # A lead reads an order's buyer (audited in the venue's own table).
        order_id = next(o["order_id"] for o in mine["orders"] if o["venue"] == "concertzaal")
        assert api.call("GET", f"/venues/concertzaal/orders/{order_id}",
                        token=api.token("concertzaal-lead")).data["buyer"]["email"] == first["email"]
        # A log call that is handed personal data by mistake: the redaction filter catches it.
        logger.info("buyer wrote in", extra={"from": first["email"], "phone": "+32 475 12 34 56"})
        count("PrivacyScanProbe", "concertzaal")
    return {"buyers": [first, second], "logs": logs.getvalue(), "printed": printed.getvalue(), "queued": queued}


def needles_of(buyers: list[dict[str, str]]) -> list[str]:
    return [b["email"] for b in buyers] + [b["name"] for b in buyers] + ["+32 475 12 34 56", "0475 12 34 56"]


def test_the_network_level_stores_hold_no_buyers_email_name_or_phone(realistic_run, loket):
    stores = network_stores(loket, realistic_run["logs"], realistic_run["printed"], realistic_run["queued"])
    # The run really filled every store the scan reads.
    assert all(stores[name] for name in stores), {name: len(texts) for name, texts in stores.items()}
    assert any("basket" in line for line in stores["logs"]) and any("buyer wrote in" in l for l in stores["logs"])
    assert "concertzaal" in stores["metric dimensions"]
    assert scan(stores, needles_of(realistic_run["buyers"])) == {}
    print({name: len(texts) for name, texts in stores.items()})


def test_the_scan_finds_an_address_planted_in_each_store(realistic_run, loket):
    buyer = realistic_run["buyers"][0]
    planted_key = {"pk": {"S": f"PLANTED#{uuid.uuid4().hex}"}, "sk": {"S": "X"}}
    dynamodb = loket.aws.operator.client("dynamodb", endpoint_url=loket.aws.endpoint)
    s3 = loket.aws.operator.client("s3", endpoint_url=loket.aws.endpoint)
    planted_object = f"catalogue/planted-{uuid.uuid4().hex}.json"
    with local_faults.injected(**OBSERVING):
        dynamodb.put_item(TableName="loket-local-network", Item={**planted_key, "note": {"S": buyer["email"]}})
        s3.put_object(Bucket=loket.outputs["SiteBucketName"], Key=planted_object, Body=buyer["name"].encode())
    try:
        leaked_line = json.dumps({"message": "leak", "to": buyer["email"]})
        stores = network_stores(loket, realistic_run["logs"] + "\n" + leaked_line, realistic_run["printed"],
                                realistic_run["queued"] + [json.dumps({"email": buyer["email"]})])
        found = scan(stores, needles_of(realistic_run["buyers"]))
        assert found["network table"] == [buyer["email"]]
        assert found["site bucket"] == [buyer["name"]]
        assert found["payment-events messages"] == [buyer["email"]]
        assert found["logs"] == [buyer["email"]]
    finally:
        with local_faults.injected(**OBSERVING):
            dynamodb.delete_item(TableName="loket-local-network", Key=planted_key)
            s3.delete_object(Bucket=loket.outputs["SiteBucketName"], Key=planted_object)
