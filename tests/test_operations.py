"""Operating Loket, on the local stack (moto with IAM enforced; docs/operations.md).

What stands in for what: moto's CloudFormation creates the venue stacks and
honours DeletionPolicy Retain as AWS does; it ignores CloudWatch alarms and
the CloudFront types (tests/test_templates.py checks those definitions
statically, and the local edge, local/edge.py, stands in for CloudFront).
Waiting out a queue's 720 s visibility timeout is replaced by setting it to 0
for the test: SQS then hands the message out again at once, and counts each
receive as AWS does.
"""

from __future__ import annotations

import json
import uuid

import requests

from chalicelib.adapters import aws, identity, provisioning, venue_export
from local import demo, ops, stack as local_stack
from local.runner import drain

VENUE = "zaal-archief"


def _table_items(operator, table: str) -> list[dict]:
    return sorted(venue_export.scan_items(aws.client("dynamodb", operator), table),
                  key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def test_a_venue_is_offboarded_only_after_its_export_and_restored_from_it_identically(api, loket):
    admin = api.token("netwerk-admin")
    assert api.call("POST", "/network/venues", {"slug": VENUE, "name": "Zaal Archief"}, token=admin).status_code == 202
    assert api.call("GET", f"/network/venues/{VENUE}", token=admin).data["status"] == "active"
    identity.create_staff(f"{VENUE}-lead", demo.DEMO_PASSWORD, [identity.venue_group(VENUE, "lead")])
    local_stack.verify_mail_identity(f"{VENUE}.loket.test")  # as the operator does for a venue's mail in AWS
    event = api.new_event(VENUE, capacity=50)
    buyers = [f"koper-{uuid.uuid4().hex[:6]}@example.be" for _ in range(3)]
    for number, email in enumerate(buyers, start=1):
        api.buy(event, quantity=number, email=email)
    table = f"loket-local-venue-{VENUE}"
    before = _table_items(loket.operator, table)

    # Without step 1, or with a wrong confirmation, nothing is deleted.
    refused = api.call("DELETE", f"/network/venues/{VENUE}", token=admin)
    assert refused.status_code == 428 and refused.data["type"].endswith("/offboarding-not-confirmed")
    exported = api.call("POST", f"/network/venues/{VENUE}/offboarding", token=admin)
    assert exported.status_code == 202, exported.data
    assert api.call("DELETE", f"/network/venues/{VENUE}?confirmation=nope", token=admin).status_code == 428
    assert api.call("GET", f"/network/venues/{VENUE}", token=admin).data["status"] == "offboarding"
    assert table in loket.operator.client("dynamodb").list_tables()["TableNames"]

    # The export holds every item: each order and customer, the venue's secret.
    bucket, prefix = exported.data["export"][len("s3://"):].split("/", 1)
    manifest, items = venue_export.read_export(loket.operator.client("s3"), bucket, prefix)
    exported_items = sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))
    assert exported_items == before
    customers = [i for i in items if i["pk"]["S"].startswith("CUSTOMER#")]
    orders = [i for i in items if i["pk"]["S"].startswith("ORDER#") and i["sk"]["S"] == "ORDER"]
    assert len(customers) == 3 and len(orders) == 3
    assert sorted(i["buyer"]["M"]["email"]["S"] for i in orders) == sorted(buyers)
    assert manifest["counts"]["CUSTOMER"] == 3 and manifest["item_count"] == len(before)
    # The answer and the registry carry counts and the key, never a buyer.
    assert not any(email in json.dumps(exported.data) for email in buyers)

    gone = api.call("DELETE", f"/network/venues/{VENUE}?confirmation={exported.data['confirmation']}", token=admin)
    assert gone.status_code == 200 and gone.data["item_count"] == len(before)
    assert api.call("GET", f"/network/venues/{VENUE}", token=admin).status_code == 404
    # The stack is gone, its table kept (DeletionPolicy: Retain), intact.
    assert provisioning.stack_state(loket.operator.client("cloudformation"), f"loket-local-venue-{VENUE}")[0] is None
    assert _table_items(loket.operator, table) == before

    # The operator deletes what was retained, then restores into a fresh stack.
    purged = ops.purge_venue(loket.operator, "local", VENUE, exported.data["export"])
    assert purged["items"] == len(before) and table not in loket.operator.client("dynamodb").list_tables()["TableNames"]
    restored = ops.restore_venue(loket.operator, "local", VENUE, exported.data["export"], poll=0.05)
    assert restored["items_written"] == len(before)
    assert _table_items(loket.operator, table) == before
    # Back in business on its own role: the job activates it, staff read it.
    assert api.call("GET", f"/network/venues/{VENUE}", token=admin).data["status"] == "active"
    lead = api.token(f"{VENUE}-lead")
    events = api.call("GET", f"/venues/{VENUE}/events", token=lead)
    assert events.status_code == 200 and event["event_id"] in json.dumps(events.data)
    print(f"\nexport/restore round trip: {len(before)} items, counts {manifest['counts']}")


def _as_lambda_runs(handler):
    """A function that raises fails its whole batch: Lambda's event source
    returns every message to the queue (Powertools raises when every record
    of a batch failed)."""
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    def run(event, context):
        try:
            return handler(event, context)
        except BatchProcessingError:
            return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}

    return run


def test_a_poison_payment_event_lands_in_the_dead_letter_queue_and_the_redrive_returns_it(loket, app, faults):
    sqs = loket.operator.client("sqs")
    queue = loket.outputs["PaymentEventsQueueUrl"]
    dead_letters = sqs.get_queue_url(QueueName="loket-local-payment-events-dlq")["QueueUrl"]
    poison = json.dumps({"not": "a stripe event", "marker": uuid.uuid4().hex})
    # No injected duplicate deliveries here: this test counts the one message.
    with faults(sqs_duplicate=0.0):
        drain(queue, app.payment_events)  # what other tests left
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "0"})
        try:
            sqs.send_message(QueueUrl=queue, MessageBody=poison)
            # The real worker fails it on every receive; after maxReceiveCount (5) SQS moves it.
            drain(queue, _as_lambda_runs(app.payment_events))
            in_queue = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
            assert in_queue["Attributes"]["ApproximateNumberOfMessages"] == "0"
            peek = sqs.receive_message(QueueUrl=dead_letters, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                       AttributeNames=["All"]).get("Messages", [])
            assert [m["Body"] for m in peek] == [poison]

            assert ops.redrive(sqs, dead_letters, queue) == 1
            back = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            assert [m["Body"] for m in back] == [poison]
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=back[0]["ReceiptHandle"])
            assert sqs.receive_message(QueueUrl=dead_letters, WaitTimeSeconds=0).get("Messages", []) == []
        finally:
            sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "720"})


def test_the_storefront_loads_in_chromium_from_the_edge_with_the_headers_the_deploy_sets(site, browser):
    """The running site (tests/browser_site.py): the storefront uploaded by
    local/site.py, as `make deploy` uploads it, and served by the local edge
    with the response headers of infra/edge.yaml's policy."""
    from local.site import security_headers, site_objects

    expected = {item.key: item for item in site_objects()}
    context = browser.new_context()
    page = context.new_page()
    errors, failed, answers = [], [], {}
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("response", lambda response: answers.__setitem__(response.url, response))
    try:
        page.goto(site.url("/"), wait_until="networkidle")
        page.wait_for_selector("a[href*='event.html']", timeout=20_000)  # the catalogue's events are drawn
        assert not errors and not failed, (errors, failed)
        served = 0
        for url, response in answers.items():
            key = url.split(site.base, 1)[-1].split("?", 1)[0].lstrip("/") or "index.html"
            headers = response.all_headers()
            for name, value in security_headers().items():
                assert headers.get(name.lower()) == value, (url, name)
            if key in expected:
                assert response.status == 200, url
                assert headers["content-type"] == expected[key].content_type, url
                assert headers["cache-control"] == expected[key].cache_control, url
                served += 1
        assert served >= 4 and {"index.html"} <= {k for k in expected if site.url("/" + k) in answers or k == "index.html"}
        catalogue = next(r for u, r in answers.items() if "/catalogue/" in u and u.endswith(".json"))
        assert catalogue.all_headers()["content-type"].startswith("application/json")
        assert "max-age=" in catalogue.all_headers()["cache-control"]  # the edge keeps it at most 5 s (edge.yaml)
    finally:
        context.close()


def test_a_venue_lead_sees_its_failed_requests_and_sends_them_to_the_supplier_without_buyer_data(api, loket,
                                                                                               monkeypatch):
    from chalicelib.services import mail_feedback

    venue = "concertzaal"
    lead = api.token(f"{venue}-lead")
    buyer = f"geheim-{uuid.uuid4().hex[:6]}@example.be"
    api.buy(api.new_event(venue), email=buyer)

    # The supplier's end: a queue subscribed to the support topic, as a ticket system would be.
    sqs, sns = loket.operator.client("sqs"), loket.operator.client("sns")
    inbox = sqs.create_queue(QueueName=f"supplier-inbox-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":loket-local-support"))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn, Attributes={"RawMessageDelivery": "true"})

    def broken(store):
        raise RuntimeError(f"something about {buyer}")  # an error whose text names a buyer

    monkeypatch.setattr(mail_feedback, "for_lead", broken)
    failed = api.call("GET", f"/venues/{venue}/mail-events", token=lead)
    assert failed.status_code == 500
    request_id = failed.data["request_id"]
    assert request_id

    health = api.call("GET", f"/venues/{venue}/health", token=lead)
    assert health.status_code == 200
    assert set(health.data["queues"]) == {"webhooks", "webhooks_dead_letters", "onsale", "onsale_dead_letters"}
    assert {"request_id": request_id, "kind": "RuntimeError", "route": "/venues/{venue}/mail-events"}.items() <= \
        next(e for e in health.data["recent_errors"] if e["request_id"] == request_id).items()
    assert buyer not in json.dumps(health.data)
    # Another venue's lead sees none of it, and cannot ask on this venue's behalf.
    other = api.token("cc-reien-lead")
    assert request_id not in json.dumps(api.call("GET", "/venues/cc-reien/health", token=other).data)
    assert api.call("GET", f"/venues/{venue}/health", token=other).status_code == 404

    sent = api.call("POST", f"/venues/{venue}/support-requests",
                    {"summary": "Mail-events page fails", "request_ids": [request_id]}, token=lead)
    assert sent.status_code == 201, sent.data
    received = sqs.receive_message(QueueUrl=inbox, WaitTimeSeconds=2).get("Messages", [])
    assert len(received) == 1
    ticket = json.loads(received[0]["Body"])
    assert ticket["venue"] == venue and ticket["request_ids"] == [request_id]
    assert ticket["requested_by"] == f"{venue}-lead" and "webhooks_dead_letters" in ticket["queues"]
    assert any(e["request_id"] == request_id and e["kind"] == "RuntimeError" for e in ticket["recent_errors"])
    assert buyer not in received[0]["Body"]
    listed = api.call("GET", f"/venues/{venue}/health", token=lead).data["support_requests"]
    assert [s["support_id"] for s in listed][:1] == [ticket["support_id"]]


def test_destroy_refuses_while_venues_are_onboarded_and_deletes_data_only_with_the_stage_typed_again(loket):
    import pytest

    from local import deploy

    with pytest.raises(SystemExit, match="venues are still onboarded"):
        deploy.destroy("local", session=loket.operator, delete_data="local")
    stacks = {s["StackName"] for s in loket.operator.client("cloudformation").list_stacks()["StackSummaries"]
              if s["StackStatus"] != "DELETE_COMPLETE"}
    assert "loket-local-platform" in stacks  # nothing was touched
    with pytest.raises(SystemExit, match="must repeat the stage's name"):
        deploy.destroy("gone", session=loket.operator, delete_data="prod")


def test_a_venue_whose_stack_failed_is_offboarded_with_a_confirmation_and_nothing_to_export(api, loket):
    from chalicelib import bootstrap

    admin = api.token("netwerk-admin")
    assert api.call("POST", "/network/venues", {"slug": "zaal-mislukt", "name": "Zaal Mislukt"},
                    token=admin).status_code == 202
    # As the job records a stack that ended in ROLLBACK_COMPLETE (services/venues.finish_onboarding).
    bootstrap.network().update_venue("zaal-mislukt", status="failed")
    assert api.call("DELETE", "/network/venues/zaal-mislukt", token=admin).status_code == 428
    prepared = api.call("POST", "/network/venues/zaal-mislukt/offboarding", token=admin)
    assert prepared.status_code == 202 and prepared.data["item_count"] == 0
    gone = api.call("DELETE", f"/network/venues/zaal-mislukt?confirmation={prepared.data['confirmation']}",
                    token=admin)
    assert gone.status_code == 200
    assert api.call("GET", "/network/venues/zaal-mislukt", token=admin).status_code == 404
    assert provisioning.stack_state(loket.operator.client("cloudformation"), "loket-local-venue-zaal-mislukt")[0] is None


def test_make_deploy_runs_its_five_steps_in_order_and_a_first_auto_deploy_deploys_the_app_again(loket, monkeypatch):
    """`local/deploy.py deploy` against the local stack. What stands in: moto
    cannot create the platform stack as AWS (Cognito), the SAM app or the
    CloudFront distribution, so those three steps are replaced by recorders
    returning what the stacks would answer; the secrets go to moto's Parameter
    Store and the storefront into the local site bucket for real."""
    from local import deploy
    from local.site import site_objects

    steps = []
    monkeypatch.setattr(provisioning, "deploy_platform", lambda session, stage, **kwargs: (
        steps.append("platform"), dict(loket.outputs))[1])
    monkeypatch.setattr(deploy, "deploy_edge_stack", lambda session, stage, bucket, api_url, env, **kwargs: (
        steps.append(("edge", api_url)), {"SiteUrl": "https://d111.cloudfront.net", "DistributionId": "E111"})[1])

    def app(session, stage, outputs, public_url):
        steps.append(("app", public_url))
        return {"ApiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com/api/"}

    printed = []
    env = {"LOKET_PUBLIC_BASE_URL": "auto", "STRIPE_SECRET_KEY": "sk_test_ops_" + uuid.uuid4().hex[:8],
           "STRIPE_WEBHOOK_SECRET": "whsec_ops"}
    summary = deploy.deploy("opsdeploy", session=loket.operator, env=env, deploy_app=app, out=printed.append, poll=0)
    assert steps == ["platform", ("app", "https://first-deploy.invalid"),
                     ("edge", "https://abc123.execute-api.eu-west-1.amazonaws.com/api/"),
                     ("app", "https://d111.cloudfront.net")]
    assert [line for line in printed if line.endswith(" ...")] == [
        f"[{n}/5] {title} ..." for n, title in enumerate(deploy.DEPLOY_STEPS, start=1)]
    assert printed[-1] == "Site: https://d111.cloudfront.net" and summary["site_url"] == "https://d111.cloudfront.net"
    ssm = loket.operator.client("ssm")
    assert ssm.get_parameter(Name="/loket/opsdeploy/stripe/secret-key", WithDecryption=True)["Parameter"][
        "Value"] == env["STRIPE_SECRET_KEY"]
    assert env["STRIPE_SECRET_KEY"] not in "\n".join(printed)
    s3 = loket.operator.client("s3")
    assert summary["storefront_files"] == len(site_objects())
    page = s3.head_object(Bucket=loket.outputs["SiteBucketName"], Key="index.html")
    assert page["ContentType"] == "text/html; charset=utf-8" and page["CacheControl"] == "no-cache"
