"""The CloudFormation we ship is valid and as an operator needs it: the
hand-written stacks and the template `chalice package` produces for AWS
(which cannot be deployed here). `chalice package` and checkov run once for
this module and are shared by its tests (docs/operations.md "Checked before
deploying")."""

import fnmatch
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[1]
CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"  # its own venv (Makefile): it pins an older boto3
HAND_WRITTEN = ("platform.yaml", "venue.yaml", "edge.yaml")


def _template(name: str) -> dict:
    template, errors = decode(str(ROOT / "infra" / name))
    assert not errors, errors
    return template


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    from local.deploy import package

    return package("dev", tmp_path_factory.mktemp("out"), role_arn="arn:aws:iam::123456789012:role/loket-dev-api")


@pytest.fixture(scope="module")
def templates(packaged):
    return {**{name: _template(name) for name in HAND_WRITTEN}, "sam.json": json.loads(packaged.read_text())}


def test_the_package_carries_bytecode_that_a_fresh_lambda_loads_instead_of_compiling(packaged, tmp_path):
    """Lambda cannot write __pycache__, so the package brings it (local/deploy.py
    add_bytecode): every module of the app, as unchecked hash-based .pyc that
    Python loads whatever timestamps the zip gives; checked by importing from
    the unpacked package the way a fresh instance does."""
    import importlib.util
    import zipfile

    with zipfile.ZipFile(packaged.parent / "deployment.zip") as package:
        names = set(package.namelist())
        ours = [n for n in names if n.endswith(".py") and (n == "app.py" or n.startswith("chalicelib/"))]
        assert len(ours) > 50
        for source in ours:
            compiled = importlib.util.cache_from_source(source)
            assert compiled in names, source
            header = package.read(compiled)[:8]
            assert header[:4] == importlib.util.MAGIC_NUMBER
            assert int.from_bytes(header[4:8], "little") == 0b01, "hash-based, unchecked"
        assert sum(n.endswith(".pyc") for n in names) > 0.9 * sum(n.endswith(".py") for n in names)
        package.extractall(tmp_path, [n for n in names if n.startswith(("chalicelib/", "__pycache__/app.")) or n == "app.py"])
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    loaded = subprocess.run([sys.executable, "-v", "-c", "import chalicelib.domain.onsale"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert f"code object from '{tmp_path}/chalicelib/domain/__pycache__/onsale.cpython" in loaded.stderr
    # The same app packages to the same bytes: the deploy names the code by its content.
    from local.deploy import package

    again = package("dev", tmp_path / "again", role_arn="arn:aws:iam::123456789012:role/loket-dev-api")
    assert (again.parent / "deployment.zip").read_bytes() == (packaged.parent / "deployment.zip").read_bytes()


def test_hand_written_templates_pass_cfn_lint():
    result = subprocess.run([CFN_LINT, *(str(ROOT / "infra" / name) for name in HAND_WRITTEN)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_packaged_chalice_app_passes_cfn_lint_and_reports_partial_batch_failures(packaged):
    result = subprocess.run([CFN_LINT, str(packaged)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    template = json.loads(packaged.read_text())
    consumer = template["Resources"]["PaymentEvents"]["Properties"]
    assert consumer["Events"]["PaymentEventsSqsEventSource"]["Properties"]["FunctionResponseTypes"] == [
        "ReportBatchItemFailures"]
    assert consumer["Role"].endswith("role/loket-dev-api")
    assert "loket-dev-payment-events" in json.dumps(consumer["Events"])


# -- checkov ---------------------------------------------------------------------------------
# What checkov reports that we keep, each with the reason (docs/operations.md
# "checkov"). Keyed by (check, file, resource pattern): a new resource of the
# same kind is not waved through unless it matches, and an entry nothing
# matches any more fails the test, so the list cannot rot.
ACCEPTED = {
    ("CKV_AWS_27", "*.yaml", "AWS::SQS::Queue.*"):
        "every queue has SqsManagedSseEnabled (SSE-SQS); checkov only knows KMS keys (asserted below)",
    ("CKV_AWS_119", "*.yaml", "AWS::DynamoDB::Table.*"):
        "encrypted at rest with the AWS-owned key (SSESpecification); a customer key per venue adds a key "
        "policy to run and a cost per venue, and isolation is by IAM role, not by key",
    ("CKV_AWS_18", "platform.yaml", "AWS::S3::Bucket.*"):
        "no S3 server access logs: reads of personal data (documents, backups) are audited with CloudTrail "
        "data events on those two buckets (operations.md), the site is served by CloudFront",
    ("CKV_AWS_21", "platform.yaml", "AWS::S3::Bucket.SiteBucket"):
        "the site bucket holds only rebuildable files: the deploy uploads the storefront, the app republishes "
        "the catalogue every minute",
    ("CKV_AWS_26", "venue.yaml", "AWS::SNS::Topic.MailEventsTopic"):
        "SES cannot publish to a topic under the AWS-managed SNS key; bounce reports carry the address SES "
        "bounced, kept in transit only",
    ("CKV_AWS_26", "platform.yaml", "AWS::SNS::Topic.AlarmTopic"):
        "CloudWatch cannot publish to a topic under the AWS-managed SNS key; alarms carry names and numbers only",
    ("CKV_AWS_116", "sam.json", "AWS::Serverless::Function.*"):
        "failures are kept elsewhere: SQS-fed functions by their queue's DLQ, the API answers synchronously, "
        "scheduled jobs run again a minute later, SNS-fed mail events retry per SNS's delivery policy",
    ("CKV_AWS_117", "sam.json", "AWS::Serverless::Function.*"):
        "the functions reach only AWS APIs and Stripe over TLS; a VPC would add NAT gateways and cold start",
    ("CKV_AWS_115", "sam.json", "AWS::Serverless::Function.*"):
        "reserved concurrency throttles an SQS trigger into the DLQ; SQS-fed functions are bounded by the event "
        "source's MaximumConcurrency instead, the API by API Gateway's throttling",
    ("CKV_AWS_173", "sam.json", "AWS::Serverless::Function.*"):
        "the environment holds names only; secrets are SecureString parameters read at run time",
    ("CKV_AWS_73", "sam.json", "AWS::Serverless::Api.RestAPI"):
        "no X-Ray (cold start, docs/decisions.md); requests are followed by request id in the logs",
    ("CKV_AWS_76", "sam.json", "AWS::Serverless::Api.RestAPI"):
        "access logs need an account-wide API Gateway logging role; the function logs every request with its "
        "request id, the 5xx alarm reads API Gateway's metrics",
    ("CKV_AWS_120", "sam.json", "AWS::Serverless::Api.RestAPI"):
        "the API answers per buyer and must not be cached; the catalogue is cached by CloudFront",
    ("CKV_AWS_68", "edge.yaml", "AWS::CloudFront::Distribution.Distribution"):
        "no WAF by default (a cost per rule); the API limits per client itself; see operations.md",
    ("CKV_AWS_86", "edge.yaml", "AWS::CloudFront::Distribution.Distribution"):
        "standard logs would hold every viewer's IP address; the distribution's metrics are enough to operate",
    ("CKV_AWS_174", "edge.yaml", "AWS::CloudFront::Distribution.Distribution"):
        "TLSv1.2_2021 is set with an own domain; the cloudfront.net certificate cannot be given a minimum",
}


@pytest.fixture(scope="module")
def checkov_failures(packaged, tmp_path_factory):
    """One checkov run over the three hand-written templates and the packaged one."""
    scanned = tmp_path_factory.mktemp("checkov")
    for name in HAND_WRITTEN:
        (scanned / name).write_text((ROOT / "infra" / name).read_text())
    (scanned / "sam.json").write_text(packaged.read_text())
    assert CHECKOV.exists(), "make test installs checkov into .venv-checkov"
    result = subprocess.run([str(CHECKOV), "-d", str(scanned), "--framework", "cloudformation", "-o", "json",
                             "--quiet", "--skip-download"], capture_output=True, text=True)
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert all(r["summary"]["parsing_errors"] == 0 for r in reports), result.stdout[-2000:]
    assert sum(r["summary"]["resource_count"] for r in reports) > 60  # it read every template
    return [(c["check_id"], c["file_path"].lstrip("/"), c["resource"])
            for r in reports for c in r["results"]["failed_checks"]]


def test_checkov_leaves_no_finding_unexplained(checkov_failures):
    def explained(check, file, resource):
        return [key for key in ACCEPTED if key[0] == check and fnmatch.fnmatch(file, key[1])
                and fnmatch.fnmatch(resource, key[2])]

    unexplained = [f for f in checkov_failures if not explained(*f)]
    assert not unexplained, "fix these, or accept each with its reason in ACCEPTED: " + json.dumps(unexplained)
    used = {key for f in checkov_failures for key in explained(*f)}
    assert set(ACCEPTED) == used, f"accepted but no longer reported (remove): {set(ACCEPTED) - used}"


def test_every_queue_is_encrypted_as_the_accepted_checkov_finding_says(templates):
    for name in HAND_WRITTEN:
        for logical, resource in templates[name]["Resources"].items():
            if resource["Type"] == "AWS::SQS::Queue":
                assert resource["Properties"].get("SqsManagedSseEnabled") is True, (name, logical)


# -- nothing lost -----------------------------------------------------------------------------
DATA_TYPES = {"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::Cognito::UserPool", "AWS::SQS::Queue"}
# Arrivals of a running on-sale only: meaningless once the venue is gone, and
# the stack must be able to remove it. Every other queue holds data.
TRANSIENT = {("venue.yaml", "OnSaleQueue")}


def test_every_table_bucket_queue_with_data_and_the_user_pool_outlive_their_stack(templates):
    retained = []
    for name in HAND_WRITTEN:
        for logical, resource in templates[name]["Resources"].items():
            if resource["Type"] in DATA_TYPES and (name, logical) not in TRANSIENT:
                assert resource.get("DeletionPolicy") == "Retain", (name, logical)
                assert resource.get("UpdateReplacePolicy") == "Retain", (name, logical)
                retained.append(logical)
            if resource["Type"] == "AWS::DynamoDB::Table":
                assert resource["Properties"]["PointInTimeRecoverySpecification"] == {
                    "PointInTimeRecoveryEnabled": True}, (name, logical)
    assert {"VenueTable", "NetworkTable", "UserPool", "DocumentsBucket", "BackupsBucket", "PaymentEventsQueue",
            "WebhookDeadLetterQueue"} <= set(retained)


# -- queues as AWS advises ----------------------------------------------------------------------
def test_queues_outwait_their_function_six_times_and_throttle_without_dropping(templates):
    functions = {logical: r["Properties"] for logical, r in templates["sam.json"]["Resources"].items()
                 if r["Type"] == "AWS::Serverless::Function"}
    platform, venue = templates["platform.yaml"]["Resources"], templates["venue.yaml"]["Resources"]
    pairs = [(platform["PaymentEventsQueue"], functions["PaymentEvents"]), (venue["OnSaleQueue"], functions["OnsaleWorker"])]
    for queue, function in pairs:
        assert queue["Properties"]["VisibilityTimeout"] >= 6 * function["Timeout"], (queue, function["Timeout"])
    for name in ("platform.yaml", "venue.yaml"):
        for logical, resource in templates[name]["Resources"].items():
            if resource["Type"] == "AWS::SQS::Queue" and "DeadLetter" not in logical:
                redrive = resource["Properties"]["RedrivePolicy"]
                assert 3 <= redrive["maxReceiveCount"] <= 10 and "deadLetterTargetArn" in redrive, logical
    # Reserved concurrency makes Lambda refuse the poller's invocations; each
    # refusal counts as a receive, so messages reached the DLQ unprocessed.
    # The event source's MaximumConcurrency makes the poller wait instead.
    payment_events = functions["PaymentEvents"]
    assert "ReservedConcurrentExecutions" not in payment_events
    assert payment_events["Events"]["PaymentEventsSqsEventSource"]["Properties"]["ScalingConfig"] == {
        "MaximumConcurrency": 5}
    assert venue["OnSaleWorkerMapping"]["Properties"]["ScalingConfig"] == {
        "MaximumConcurrency": {"Ref": "OnSaleWorkerConcurrency"}}


# -- seen, not guessed ----------------------------------------------------------------------------
def _alarms(template: dict) -> dict:
    return {logical: r["Properties"] for logical, r in template["Resources"].items()
            if r["Type"] == "AWS::CloudWatch::Alarm"}


def _metrics_of(alarm: dict) -> list[tuple[str, str, str]]:
    """(namespace, metric, dimension value as text) of an alarm, plain or metric math."""
    if "MetricName" in alarm:
        return [(alarm["Namespace"], alarm["MetricName"], json.dumps(alarm.get("Dimensions", [])))]
    return [(m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"],
             json.dumps(m["MetricStat"]["Metric"].get("Dimensions", []))) for m in alarm["Metrics"] if "MetricStat" in m]


def test_an_alarm_watches_each_failure_an_operator_must_see(templates):
    platform, venue = _alarms(templates["platform.yaml"]), _alarms(templates["venue.yaml"])
    every = {**platform, **venue}
    watched = {metric for alarm in every.values() for metric in _metrics_of(alarm)}

    def watches(namespace: str, metric: str, dimension_text: str) -> bool:
        return any(n == namespace and m == metric and dimension_text in d for n, m, d in watched)

    # A filling dead-letter queue, whichever: payment events, each venue's webhooks and on-sale.
    for template, queues in ((templates["platform.yaml"], ["PaymentEventsDeadLetterQueue"]),
                             (templates["venue.yaml"], ["WebhookDeadLetterQueue", "OnSaleDeadLetterQueue"])):
        for queue in queues:
            assert watches("AWS/SQS", "ApproximateNumberOfMessagesVisible", f'["{queue}", "QueueName"]'), queue
            assert template["Resources"][queue]["Type"] == "AWS::SQS::Queue"
    # The API's 5xx rate, under the name the packaged API really gets.
    api_name = templates["sam.json"]["Resources"]["RestAPI"]["Properties"]["Name"]
    assert api_name == {"Fn::Sub": "loket-${Stage}"}
    assert watches("AWS/ApiGateway", "5XXError", '"loket-${Stage}"')
    assert platform["ApiServerErrorRateAlarm"]["Statistic"] == "Average"  # a rate, not a count
    # Errors and throttles of every function the app packages, by the name it gets.
    for logical, resource in templates["sam.json"]["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            function_name = resource["Properties"]["FunctionName"]["Fn::Sub"]
            for metric in ("Errors", "Throttles"):
                assert watches("AWS/Lambda", metric, f'"{function_name}"'), (logical, metric)
    # Throttling of each venue's table, and of the network table.
    for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
        assert watches("AWS/DynamoDB", metric, '"VenueTable"') and watches("AWS/DynamoDB", metric, '"NetworkTable"')
    # Stripe's error rate, from the metrics the code emits (EMF) under those very names.
    stripe = platform["StripeErrorRateAlarm"]
    assert {m for _, m, _ in _metrics_of(stripe)} == {"PaymentProviderCalls", "PaymentProviderErrors"}
    assert "/" in next(m["Expression"] for m in stripe["Metrics"] if m.get("ReturnData"))
    # A cancelled order's refund that the scheduled retry gave up on, per venue.
    assert watches("Loket", "RefundsStale", '"VenueSlug"')
    # Webhook delivery failures per venue: its webhooks' DLQ, in its own stack.
    assert "${VenueSlug}" in json.dumps(venue["WebhookDeliveryFailedAlarm"]["AlarmName"])
    # Every alarm tells someone: the stage's topic.
    for logical, alarm in every.items():
        assert "loket-${Stage}-alarms" in json.dumps(alarm["AlarmActions"]) or alarm["AlarmActions"] == [
            {"Ref": "AlarmTopic"}], logical
    functions = [r for r in templates["sam.json"]["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    assert len(platform) == 4 + 2 * len(functions) and len(venue) == 4  # nothing unaccounted for


def test_the_stripe_metrics_the_alarm_divides_are_the_ones_the_code_emits(capsys, monkeypatch, templates):
    """Under the functions' environment (.chalice/config.json), Powertools adds
    the service dimension: the alarm must name exactly the emitted dimensions,
    or it watches a metric nobody writes."""
    from chalicelib import observability

    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for name, value in config["environment_variables"].items():
        monkeypatch.setenv(name, value)
    observability.payment_provider_call(failed=False)
    observability.payment_provider_call(failed=True)
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    names = [m["Name"] for record in emitted for directive in record["_aws"]["CloudWatchMetrics"]
             for m in directive["Metrics"]]
    assert names == ["PaymentProviderCalls", "PaymentProviderCalls", "PaymentProviderErrors"]
    alarm = templates["platform.yaml"]["Resources"]["StripeErrorRateAlarm"]["Properties"]
    for record in emitted:
        directive = record["_aws"]["CloudWatchMetrics"][0]
        dimensions = {name: record[name] for name in directive["Dimensions"][0]}
        metric = next(m["MetricStat"]["Metric"] for m in alarm["Metrics"]
                      if m.get("MetricStat", {}).get("Metric", {}).get("MetricName") == directive["Metrics"][0]["Name"])
        assert directive["Namespace"] == metric["Namespace"]
        assert dimensions == {d["Name"]: d["Value"] for d in metric["Dimensions"]}


def test_the_stuck_refund_alarm_watches_the_metric_the_code_emits(capsys, monkeypatch, templates):
    """The same for the per-venue count the refund retry emits (services/order_cancellation.py)."""
    from chalicelib import observability

    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for name, value in config["environment_variables"].items():
        monkeypatch.setenv(name, value)
    observability.count("RefundsStale", "club-kaap")
    record = next(json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{"))
    directive = record["_aws"]["CloudWatchMetrics"][0]
    alarm = templates["venue.yaml"]["Resources"]["RefundStuckAlarm"]["Properties"]
    assert (directive["Namespace"], directive["Metrics"][0]["Name"]) == (alarm["Namespace"], alarm["MetricName"])
    dimensions = {name: record[name] for name in directive["Dimensions"][0]}
    assert dimensions == {d["Name"]: "club-kaap" if d["Value"] == {"Ref": "VenueSlug"} else d["Value"]
                          for d in alarm["Dimensions"]}


# -- IAM: what the code uses, on names ----------------------------------------------------------
# Actions no boto3 call in chalicelib names, and who uses them.
USED_OUTSIDE_THE_CODE = {
    "iam:PassRole": "CloudFormation, when the API starts a venue stack with the provisioner role",
    "logs:CreateLogGroup": "the Lambda runtime", "logs:CreateLogStream": "the Lambda runtime",
    "logs:PutLogEvents": "the Lambda runtime",
    "sqs:ReceiveMessage": "Lambda's event source mappings, with the function's role",
    "sqs:ChangeMessageVisibility": "Lambda's event source mappings",
    "sqs:GetQueueAttributes": "Lambda's event source mappings",
    "sqs:DeleteMessage": "Lambda's event source mappings",
    "dynamodb:ConditionCheckItem": "a ConditionCheck inside transact_write_items",
    "s3:GetObject": "CloudFormation reads the venue template with the caller's rights; presigned links",
    "ssm:GetParameter": "Powertools' SSMProvider.get (adapters/secrets.py)",
    "apigateway:POST": "create_api_key, create_usage_plan_key (adapters/gateway_keys.py): API Gateway's IAM "
                       "actions are HTTP methods",
    "apigateway:DELETE": "delete_api_key (adapters/gateway_keys.py)",
}
# Resource "*" only where no name can be known, and always narrowed by a condition.
WILDCARD_ALLOWED = {"VenueTableEncryptionWithTheAwsManagedKey", "OnSaleWorkerMappingsOnly",
                    "DenyLiftingTheBoundaryAttachingOrPassing"}


def _statements(templates: dict):
    for name in HAND_WRITTEN:
        for logical, resource in templates[name]["Resources"].items():
            if resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
                for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                    yield name, logical, statement


def test_no_wildcard_resource_where_a_name_is_known(templates):
    for name, logical, statement in _statements(templates):
        resources = statement.get("Resource", statement.get("NotResource"))
        resources = resources if isinstance(resources, list) else [resources]
        for resource in resources:
            text = json.dumps(resource)
            if resource == "*":
                assert statement["Sid"] in WILDCARD_ALLOWED and (statement.get("Condition") or
                                                                statement["Effect"] == "Deny"), (logical, statement)
            # A service-wide wildcard (userpool/*, table/*, ...) without a Loket name in it:
            assert not re.search(r":(userpool|table|function|role|policy|queue)/\*\"", text), (logical, text)


def test_the_functions_and_venue_roles_are_granted_only_calls_the_code_makes(templates):
    code = "\n".join(path.read_text() for path in (ROOT / "chalicelib").rglob("*.py"))
    code += (ROOT / "app.py").read_text()
    granted = set()
    for policy in ("ApiAccessPolicy", "VenueAccessPolicy"):
        for name in ("platform.yaml", "venue.yaml"):
            resource = templates[name]["Resources"].get(policy)
            for statement in resource["Properties"]["PolicyDocument"]["Statement"] if resource else []:
                if statement["Effect"] == "Allow":
                    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                    granted.update(actions)
    unused = []
    for action in sorted(granted):
        method = re.sub(r"(?<!^)(?=[A-Z])", "_", action.split(":", 1)[1]).lower()
        if action not in USED_OUTSIDE_THE_CODE and not re.search(rf"[.\"']{method}\b", code):
            unused.append(f"{action} ({method})")
    assert not unused, f"granted but never called: {unused}"
    assert len(granted) > 25


# -- the edge -------------------------------------------------------------------------------------
def test_the_edge_passes_every_header_the_api_reads_and_never_host(templates):
    """CloudFront forwards only what its policies name: a header the API reads
    but the edge drops breaks that route in AWS only (never locally)."""
    code = "\n".join(path.read_text() for path in (ROOT / "chalicelib").rglob("*.py"))
    read = {name.lower() for name in re.findall(r'header\(request, "([^"]+)"', code)}
    read |= {name.lower() for name in re.findall(r'_HEADER = "([^"]+)"', code)}
    assert {"authorization", "idempotency-key", "x-buyer-session", "cloudfront-viewer-address"} <= read
    edge = templates["edge.yaml"]["Resources"]
    forwarded = {h.lower() for h in edge["ApiOriginRequestPolicy"]["Properties"]["OriginRequestPolicyConfig"][
        "HeadersConfig"]["Headers"]}
    api_cache = edge["ApiCachePolicy"]["Properties"]["CachePolicyConfig"]
    keyed = {h.lower() for h in api_cache["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]["Headers"]}
    assert read <= forwarded | keyed, read - forwarded - keyed
    assert "host" not in forwarded | keyed and api_cache["DefaultTTL"] == 0
    api = next(b for b in edge["Distribution"]["Properties"]["DistributionConfig"]["CacheBehaviors"]
               if b["PathPattern"] == "/api/*")
    assert api["CachePolicyId"] == {"Ref": "ApiCachePolicy"}
    assert api["OriginRequestPolicyId"] == {"Ref": "ApiOriginRequestPolicy"}
    catalogue = edge["CatalogueCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert catalogue["MaxTTL"] <= 5  # a sell-out visible within seconds


# -- the per-key rate limit (docs/integrations.md "Rate limit") ---------------------------------------
def test_every_v1_route_is_behind_the_api_key_authorizer_and_the_usage_plan(templates):
    from chalicelib.services import api_keys

    resources = templates["sam.json"]["Resources"]
    body = resources["RestAPI"]["Properties"]["DefinitionBody"]
    assert body["x-amazon-apigateway-api-key-source"] == "AUTHORIZER"  # the key comes from the authorizer only
    authorizer = body["securityDefinitions"]["loketApiKey"]["x-amazon-apigateway-authorizer"]
    assert "${ApiKeyAuthorizer.Arn}" in authorizer["authorizerUri"]["Fn::Sub"]
    assert resources["ApiKeyAuthorizer"]["Properties"]["FunctionName"] == {"Fn::Sub": "loket-${Stage}-api_key_authorizer"}
    operations = [(path, method, operation) for path, methods in body["paths"].items()
                  for method, operation in methods.items() if method != "options"]
    v1 = [operation for path, _, operation in operations if path.startswith("/v1/")]
    assert len(v1) > 5 and all(o["security"] == [{"loketApiKey": [], "usagePlanKey": []}] for o in v1)
    assert not [path for path, _, operation in operations if "security" in operation and not path.startswith("/v1/")]
    plan = resources["ApiUsagePlan"]["Properties"]
    assert plan["ApiStages"] == [{"ApiId": {"Ref": "RestAPI"}, "Stage": "api"}]
    # The plan's numbers are the gate's own window (services/api_keys.py), so local and AWS agree.
    assert plan["Throttle"] == {"RateLimit": api_keys.RATE_PER_SECOND,
                                "BurstLimit": api_keys.RATE_PER_SECOND + api_keys.RATE_BURST}
    assert plan["Quota"]["Period"] == "DAY" and plan["Quota"]["Limit"] > 0
    assert resources["ApiUsagePlanIdParameter"]["Properties"]["Name"] == {"Fn::Sub": "/loket/${Stage}/api/usage-plan-id"}
    # API Gateway itself answers the authorizer's refusals and the quota as problem+json.
    assert {resources[r]["Properties"]["ResponseType"] for r in ("UnauthorizedResponse", "AccessDeniedResponse",
                                                                   "QuotaExceededResponse")} == {
        "UNAUTHORIZED", "ACCESS_DENIED", "QUOTA_EXCEEDED"}
