"""`make package` / `make deploy STAGE=...` / `make destroy STAGE=...`:
Loket into (and out of) a real AWS account (docs/operations.md).

deploy:  1. the platform stack (infra/platform.yaml) and the venue template
         2. the stage's secrets in Parameter Store
         3. the Chalice app: `chalice package` + infra/app-overrides.json,
            code uploaded to the artifacts bucket, deployed as a SAM stack
            running as the platform's ApiFunctionRole
         4. the edge stack (infra/edge.yaml): CloudFront before the site
            bucket (origin access control) and the API (/api/*)
         5. the storefront files into the site bucket, with Content-Type and
            Cache-Control (local/site.py, as the local stack does)
Venues are then onboarded by a network admin: `python -m local.deploy
onboard --api URL --admin USER --slug SLUG --name NAME` (POST /network/venues).
Needs AWS credentials of an operator and, in the operator's environment,
LOKET_PUBLIC_BASE_URL (the storefront's public https address),
STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET. deploy refuses to start without
them. The two secrets are written to SSM Parameter Store as SecureString
(`/loket/{stage}/stripe/...`); the functions get only the parameters' names,
never the values (not in the template, not in their environment).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from chalicelib.adapters import provisioning

ROOT = Path(__file__).resolve().parents[1]


def package(stage: str, out: Path, role_arn: str | None = None) -> Path:
    """Run `chalice package` and return the SAM template path."""
    env = {**os.environ, "LOKET_STAGE": stage, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-1")}
    subprocess.run([str(Path(sys.executable).with_name("chalice")), "package", "--stage", stage,
                    "--merge-template", str(ROOT / "infra" / "app-overrides.json"), str(out)],
                   cwd=ROOT, env=env, check=True)
    template_path = out / "sam.json"
    template = harden_template(json.loads(template_path.read_text()))
    runtimes = {r["Properties"].get("Runtime") for r in template["Resources"].values()
                if r["Type"] == "AWS::Serverless::Function"}
    add_bytecode(out / "deployment.zip", runtimes)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function" and role_arn:
            resource["Properties"]["Role"] = role_arn
    template_path.write_text(json.dumps(template, indent=2))
    return template_path


def add_bytecode(zip_path: Path, runtimes: set[str | None]) -> int:
    """Compiled modules beside the sources in the deployment package. Lambda
    cannot write `__pycache__` (its code directory is read-only), so without
    them every fresh instance compiles boto3, botocore, pydantic and the app
    from source before its first answer: `import app` from the package took
    545-836 ms with sources only and 159-258 ms with this bytecode (5 runs
    each, alternating; docs/decisions.md "Cold start"). Unchecked hash-based
    .pyc files: valid whatever the timestamps the zip gives the sources.
    Only when this interpreter is the functions' runtime (the same bytecode
    version); otherwise the package stays as it was. Returns the files added."""
    import compileall
    import py_compile
    import tempfile
    import zipfile

    here = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtimes != {here}:
        print(f"add_bytecode: functions run {sorted(map(str, runtimes))}, this is {here}: no bytecode added",
              file=sys.stderr)
        return 0
    added = 0
    with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(zip_path, "a", zipfile.ZIP_DEFLATED) as package:
        existing = set(package.namelist())
        sources = [name for name in existing if name.endswith(".py")]
        for name in sources:
            package.extract(name, scratch)
        # quiet=2: a few packaged files are not meant to compile (templates, tests of other Pythons)
        # ddir: the path Lambda unpacks to, not this scratch directory (the same app gives the same bytes)
        compileall.compile_dir(scratch, ddir="/var/task", quiet=2,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        for compiled in sorted(Path(scratch).rglob("__pycache__/*.pyc")):
            name = compiled.relative_to(scratch).as_posix()
            if name not in existing:
                # A fixed time: the same app packages to the same bytes (the deploy names code by content).
                entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                entry.external_attr = 0o644 << 16
                package.writestr(entry, compiled.read_bytes(), zipfile.ZIP_DEFLATED)
                added += 1
    return added


def harden_template(template: dict) -> dict:
    """What the packaged app must look like, whatever infra/app-overrides.json
    says: no secret as a stack parameter or function environment variable,
    only the SSM parameters' names; API Gateway's own error answers as
    problem+json."""
    from chalicelib import settings

    variables = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    for name in settings.PLAIN_SECRET_VARIABLES:
        variables.pop(name, None)
    for parameter in ("StripeSecretKey", "StripeWebhookSecret"):
        template.get("Parameters", {}).pop(parameter, None)
    for secret, variable in settings.SECRET_PARAMETER_VARIABLES.items():
        variables[variable] = {"Fn::Sub": settings.secret_parameter_name("${Stage}", secret)}
    template["Resources"].update(gateway_responses())
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        # Names the rest of Loket relies on: venue stacks map their on-sale
        # queue to loket-{stage}-onsale_worker (settings.onsale_worker_arn),
        # the alarms and the log policy name loket-{stage}-*. Without them SAM
        # would invent names.
        name = FUNCTION_NAMES.get(logical_id, _snake(logical_id))
        resource["Properties"]["FunctionName"] = {"Fn::Sub": f"loket-${{Stage}}-{name}"}
        # The platform's API role by its name (platform.yaml ApiFunctionRole),
        # never the placeholder chalice needs in .chalice/config.json.
        resource["Properties"]["Role"] = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/loket-${Stage}-api"}
    api = template["Resources"].get("RestAPI", {}).get("Properties", {})
    if "DefinitionBody" in api:
        # The API's name is the ApiName dimension of its metrics and alarms: one per stage.
        api["DefinitionBody"].setdefault("info", {})["title"] = {"Fn::Sub": "loket-${Stage}"}
        api["Name"] = {"Fn::Sub": "loket-${Stage}"}
        usage_plan_security(api["DefinitionBody"])
    return template


# The API key authorizer's answer is cached per key for this long: fewer lookups per request.
# A revoked key is refused by the gate at once anyway (docs/integrations.md "Rate limit").
AUTHORIZER_TTL_SECONDS = 60


def usage_plan_security(definition: dict) -> None:
    """Every /v1 route behind the API key authorizer (api/authorizer.py), which names the caller's
    API Gateway key, and requiring that key, so the usage plan (infra/app-overrides.json
    ApiUsagePlan) limits each venue key. The key comes from the authorizer (key source AUTHORIZER),
    never from a header an integrator sends. Chalice's own built-in authorizers would also run
    under `chalice local` and the test client and answer there in place of the gate; this one
    exists only in AWS."""
    definition["x-amazon-apigateway-api-key-source"] = "AUTHORIZER"
    definition.setdefault("securityDefinitions", {}).update({
        "loketApiKey": {
            "type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "custom",
            "x-amazon-apigateway-authorizer": {
                "type": "token",
                "authorizerUri": {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/"
                                             "2015-03-31/functions/${ApiKeyAuthorizer.Arn}/invocations"},
                "authorizerResultTtlInSeconds": AUTHORIZER_TTL_SECONDS,
                # Anything that is not a Loket key is refused before the function runs.
                "identityValidationExpression": "^[Bb]earer lk_(live|test)_[A-Za-z0-9_-]{20,}$"}},
        "usagePlanKey": {"type": "apiKey", "name": "x-api-key", "in": "header"}})
    for path, operations in definition.get("paths", {}).items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            if method != "options":
                operation["security"] = [{"loketApiKey": [], "usagePlanKey": []}]


FUNCTION_NAMES = {"APIHandler": "api_handler"}


def _snake(logical_id: str) -> str:
    import re

    return re.sub(r"(?<!^)(?=[A-Z])", "_", logical_id).lower()


def gateway_responses() -> dict:
    """API Gateway answers some requests without calling the function: an
    unknown path or method (403 "Missing Authentication Token"), a body over
    its limit, throttling, its own errors. Answer those as problem+json too.
    (`chalice local` and the test client mirror the first one:
    chalicelib/api/http.py `mirror_gateway_responses_locally`.)"""
    from chalicelib.api.http import NO_SUCH_ROUTE_DETAIL, PROBLEM_JSON
    from chalicelib.errors import PROBLEM_BASE

    def response(response_type: str, status: str | None, slug: str, title: str, detail: str) -> dict:
        # The DEFAULT_4XX/5XX templates cannot know the status code: "status" is optional in RFC 9457.
        status_member = f'"status": {status}, ' if status else ""
        body = ('{"type": "%s%s", "title": "%s", %s"detail": %s, "instance": "$context.path", '
                '"request_id": "$context.requestId"}') % (PROBLEM_BASE, slug, title, status_member, detail)
        properties = {"RestApiId": {"Ref": "RestAPI"}, "ResponseType": response_type,
                      "ResponseParameters": {"gatewayresponse.header.Content-Type": f"'{PROBLEM_JSON}'"},
                      "ResponseTemplates": {"application/json": body}}
        if status:
            properties["StatusCode"] = status
        return {"Type": "AWS::ApiGateway::GatewayResponse", "Properties": properties}

    gateway_message = "$context.error.messageString"
    return {
        "NoSuchRouteResponse": response("MISSING_AUTHENTICATION_TOKEN", "404", "no-such-route",
                                        "There is no such address", json.dumps(NO_SUCH_ROUTE_DETAIL)),
        "PayloadTooLargeResponse": response("REQUEST_TOO_LARGE", "413", "payload-too-large",
                                            "The request body is too large", gateway_message),
        "UnsupportedMediaTypeResponse": response("UNSUPPORTED_MEDIA_TYPE", "415", "unsupported-media-type",
                                                 "Unsupported Content-Type", gateway_message),
        "ThrottledResponse": response("THROTTLED", "429", "too-many-requests", "Too many requests; try again "
                                      "in a moment", gateway_message),
        # The API key authorizer (api/authorizer.py) in front of /v1: no key, or one that is not valid
        # any more, answered as the gate answers it; a key over its usage plan's day.
        "UnauthorizedResponse": response("UNAUTHORIZED", "401", "not-authenticated", "Sign in first",
                                         json.dumps("Send your venue's API key as 'Authorization: Bearer lk_...'.")),
        "AccessDeniedResponse": response("ACCESS_DENIED", "401", "not-authenticated", "Sign in first",
                                         json.dumps("This API key is not valid: it was revoked, it expired after "
                                                    "a rotation, or it never existed.")),
        "QuotaExceededResponse": response("QUOTA_EXCEEDED", "429", "rate-limited", "Too many requests",
                                          json.dumps("This API key made its requests for today (the usage plan's "
                                                     "daily quota); it works again tomorrow (UTC).")),
        "Default4xxResponse": response("DEFAULT_4XX", None, "gateway-refused", "The request was refused",
                                      gateway_message),
        "Default5xxResponse": response("DEFAULT_5XX", None, "gateway-error", "The API is unavailable",
                                      gateway_message),
    }


def operator_inputs(stage: str, env: dict[str, str]) -> dict[str, str]:
    """What deploy needs from the operator's environment, checked before
    anything is touched in AWS. Raises SystemExit naming what is missing."""
    from urllib.parse import urlsplit

    from chalicelib import settings

    problems = []
    public_url = (env.get("LOKET_PUBLIC_BASE_URL") or "").strip().rstrip("/")
    parts = urlsplit(public_url)
    if public_url == "auto":
        pass  # the CloudFront distribution's own https address (deploy)
    elif not public_url:
        problems.append("LOKET_PUBLIC_BASE_URL is empty: set the storefront's public https address (buyers are "
                        "sent back there after paying)")
    elif parts.scheme != "https" or parts.hostname in ("localhost", "127.0.0.1", "0.0.0.0", "::1", None):
        problems.append(f"LOKET_PUBLIC_BASE_URL must be a public https address, not {public_url!r}")
    key, webhook = (env.get("STRIPE_SECRET_KEY") or "").strip(), (env.get("STRIPE_WEBHOOK_SECRET") or "").strip()
    if not key.startswith(("sk_live_", "sk_test_", "rk_live_", "rk_test_")) or key == settings.EMULATOR_KEY:
        problems.append("STRIPE_SECRET_KEY must be the stage's Stripe secret key (sk_live_/sk_test_/rk_...)")
    if not webhook.startswith("whsec_") or webhook == settings.EMULATOR_WEBHOOK_SECRET:
        problems.append("STRIPE_WEBHOOK_SECRET must be the signing secret of the stage's Stripe webhook endpoint "
                        "(whsec_...)")
    if stage == settings.LOCAL_STAGE:
        problems.append("the stage 'local' is the local stack (make run); deploy a named stage such as dev or prod")
    if problems:
        raise SystemExit(f"deploy {stage}: refusing to deploy: " + "; ".join(problems) + ".")
    return {"public_base_url": public_url, settings.STRIPE_SECRET_KEY: key, settings.STRIPE_WEBHOOK_SECRET: webhook}


def put_stage_secrets(session, stage: str, inputs: dict[str, str]) -> list[str]:  # noqa: ANN001 - boto3 session
    """Write the stage's Stripe secrets to Parameter Store as SecureString
    (KMS key alias/aws/ssm); returns the parameter names."""
    from chalicelib import settings

    import secrets

    ssm = session.client("ssm")
    names = []
    for secret in settings.SECRET_PARAMETER_VARIABLES:
        name = settings.secret_parameter_name(stage, secret)
        names.append(name)
        if secret == settings.TOKEN_SIGNING_KEY:
            # Made once: replacing it would lock every buyer out of their open baskets.
            try:
                ssm.put_parameter(Name=name, Value=secrets.token_hex(32), Type="SecureString", Overwrite=False,
                                  Description=f"Loket {stage}: key for buyer tokens (made by local/deploy.py)")
            except ssm.exceptions.ParameterAlreadyExists:
                pass
            continue
        ssm.put_parameter(Name=name, Value=inputs[secret], Type="SecureString", Overwrite=True,
                          Description=f"Loket {stage}: {secret} (written by local/deploy.py)")
    return names


class Steps:
    """Prints each step as it runs (`make deploy` is read by a person) and
    keeps what each stack ended with, for the summary."""

    def __init__(self, total: int, out=print) -> None:
        self.total, self.done, self.out, self.stacks = total, 0, out, {}

    def run(self, title: str, action, *args, **kwargs):
        self.done += 1
        self.out(f"[{self.done}/{self.total}] {title} ...")
        started = time.monotonic()
        result = action(*args, **kwargs)
        self.out(f"[{self.done}/{self.total}] {title}: done in {time.monotonic() - started:.0f} s")
        return result


def deploy_app_stack(session, stage: str, outputs: dict[str, str], public_base_url: str) -> dict[str, str]:  # noqa: ANN001
    """Package the Chalice app, upload its code, and create or update its
    stack through a change set (an unchanged app is not an error)."""
    build = ROOT / "build" / stage
    template_path = package(stage, build, role_arn=outputs["ApiFunctionRoleArn"])
    code = (build / "deployment.zip").read_bytes()
    # Named by content: an unchanged app uploads to the same key and changes nothing.
    code_key = f"app/{stage}/deployment-{hashlib.sha256(code).hexdigest()[:16]}.zip"
    session.client("s3").put_object(Bucket=outputs["ArtifactsBucketName"], Key=code_key, Body=code)
    template = json.loads(template_path.read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{outputs['ArtifactsBucketName']}/{code_key}"
    cfn = session.client("cloudformation")
    parameters = {
        "Stage": stage, "SiteBucketName": outputs["SiteBucketName"],
        "PaymentEventsQueueUrl": outputs["PaymentEventsQueueUrl"],
        "VenueProvisionerRoleArn": outputs["VenueProvisionerRoleArn"], "ApiPrincipalArn": outputs["ApiPrincipalArn"],
        "VenueTemplateUrl": outputs["VenueTemplateUrl"], "UserPoolId": outputs["UserPoolId"],
        "UserPoolClientId": outputs["UserPoolClientId"],
        "PublicBaseUrl": public_base_url,
    }
    name = app_stack_name(stage)
    kwargs = dict(StackName=name, TemplateBody=json.dumps(template),
                  Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
                  Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    status, _ = provisioning.stack_state(cfn, name)
    change_set = cfn.create_change_set(ChangeSetName=f"deploy-{os.urandom(4).hex()}",
                                       ChangeSetType="CREATE" if status is None else "UPDATE", **kwargs)
    try:
        cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=change_set["Id"])
    except Exception:  # noqa: BLE001 - the waiter fails on an empty change set too
        described = cfn.describe_change_set(ChangeSetName=change_set["Id"])
        if "didn't contain changes" in described.get("StatusReason", "") or "No updates" in described.get(
                "StatusReason", ""):
            cfn.delete_change_set(ChangeSetName=change_set["Id"])
            return provisioning.wait_for(cfn, name)
        raise
    cfn.execute_change_set(ChangeSetName=change_set["Id"])
    return provisioning.wait_for(cfn, name)


def app_stack_name(stage: str) -> str:
    return f"loket-{stage}-app"


def edge_stack_name(stage: str) -> str:
    return f"loket-{stage}-edge"


def deploy_edge_stack(session, stage: str, site_bucket: str, api_url: str, env: dict[str, str],  # noqa: ANN001
                      poll: float = 5) -> dict[str, str]:
    """The CloudFront distribution (infra/edge.yaml) before the site bucket and the API."""
    parameters = {"Stage": stage, "SiteBucketName": site_bucket, "ApiDomainName": urlsplit(api_url).hostname}
    if env.get("LOKET_CERTIFICATE_ARN"):
        parameters.update(Aliases=urlsplit(env["LOKET_PUBLIC_BASE_URL"]).hostname,
                          CertificateArn=env["LOKET_CERTIFICATE_ARN"])
    return provisioning.deploy_stack(session.client("cloudformation"), edge_stack_name(stage), parameters,
                                     template_body=(ROOT / "infra" / "edge.yaml").read_text(), poll=poll)


DEPLOY_STEPS = ("platform stack", "stage secrets", "app stack", "edge stack (CloudFront)", "storefront files")


def deploy(stage: str, *, session=None, env: dict[str, str] | None = None, deploy_app=deploy_app_stack,  # noqa: ANN001
           out=print, poll: float = 5) -> dict[str, str]:
    """`make deploy`: create or update, in order, the platform stack, the
    stage's secrets, the app stack, the edge stack, then upload the
    storefront; idempotent (a second run changes nothing). The edge comes
    after the app because its /api/* origin is the app's API. With
    LOKET_PUBLIC_BASE_URL=auto the site's address is the distribution's:
    on the first deploy the app is deployed once more with it."""
    from local.site import upload_site

    env = dict(os.environ) if env is None else env
    inputs = operator_inputs(stage, env)
    import boto3

    session = session or boto3.Session()
    steps = Steps(len(DEPLOY_STEPS), out)
    outputs = steps.run("platform stack", provisioning.deploy_platform, session, stage, local=False,
                        alarm_email=env.get("LOKET_ALARM_EMAIL", ""), poll=poll)
    steps.run("stage secrets", put_stage_secrets, session, stage, inputs)
    public_url = inputs["public_base_url"]
    if public_url == "auto":
        _, edge = provisioning.stack_state(session.client("cloudformation"), edge_stack_name(stage))
        public_url = edge.get("SiteUrl", "https://first-deploy.invalid")
    app = steps.run("app stack", deploy_app, session, stage, outputs, public_url)
    edge = steps.run("edge stack (CloudFront)", deploy_edge_stack, session, stage, outputs["SiteBucketName"],
                     app["ApiUrl"], env, poll=poll)
    if inputs["public_base_url"] == "auto" and public_url != edge["SiteUrl"]:
        public_url = edge["SiteUrl"]
        out(f"first deploy: the app again, with the site's address {public_url}")
        app = deploy_app(session, stage, outputs, public_url)
    files = steps.run("storefront files", upload_site, session.client("s3"), outputs["SiteBucketName"])
    summary = {"site_url": public_url, "api_url": app["ApiUrl"], "distribution": edge.get("DistributionId", ""),
               "storefront_files": files, "stacks": {name: stack_resources(session, name) for name in (
                   f"loket-{stage}-platform", app_stack_name(stage), edge_stack_name(stage))}}
    out(json.dumps(summary, indent=2))
    out(f"Site: {public_url}")
    return summary


def stack_resources(session, name: str) -> dict[str, int]:  # noqa: ANN001
    """How many resources of each type a stack holds (the deploy's summary)."""
    counts: dict[str, int] = {}
    try:
        pages = session.client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=name)
        for page in pages:
            for resource in page["StackResourceSummaries"]:
                counts[resource["ResourceType"]] = counts.get(resource["ResourceType"], 0) + 1
    except Exception:  # noqa: BLE001 - a stack that is not there has none
        return {}
    return dict(sorted(counts.items()))


def destroy(stage: str, *, delete_data: str | None = None, session=None, out=print, poll: float = 5) -> dict:  # noqa: ANN001
    """`make destroy STAGE=...`: removes the edge, app and platform stacks.
    Their data (tables, buckets, queues, the user pool) is retained by
    DeletionPolicy; venue stacks must be offboarded first (their exports are
    the way out). Deleting the retained data as well needs
    `--delete-data=<stage>`, the stage's name typed again; even then a bucket
    with objects is listed, not emptied (docs/operations.md)."""
    import boto3

    session = session or boto3.Session()
    cfn = session.client("cloudformation")
    venues = [s["StackName"] for page in cfn.get_paginator("list_stacks").paginate(StackStatusFilter=[
        "CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "CREATE_IN_PROGRESS"])
        for s in page["StackSummaries"] if s["StackName"].startswith(f"loket-{stage}-venue-")]
    if venues:
        raise SystemExit(f"destroy {stage}: refusing: venues are still onboarded ({', '.join(sorted(venues))}); "
                         f"offboard each (it exports the venue's data) first.")
    if delete_data is not None and delete_data != stage:
        raise SystemExit(f"destroy {stage}: --delete-data must repeat the stage's name ({stage}).")
    _, platform = provisioning.stack_state(cfn, f"loket-{stage}-platform")
    removed = []
    for name in (edge_stack_name(stage), app_stack_name(stage), f"loket-{stage}-platform"):
        status, _ = provisioning.stack_state(cfn, name)
        if status is None:
            continue
        out(f"deleting {name} ...")
        cfn.delete_stack(StackName=name)
        _wait_deleted(cfn, name, poll)
        removed.append(name)
    retained = retained_data(stage, platform)
    if delete_data is None:
        out(f"retained (delete with --delete-data={stage}): " + ", ".join(retained))
        return {"removed": removed, "retained": retained, "deleted": []}
    return {"removed": removed, "retained": [], "deleted": delete_retained(session, stage, platform, out)}


def retained_data(stage: str, platform: dict[str, str]) -> list[str]:
    return [name for name in (platform.get("NetworkTableName"), platform.get("SiteBucketName"),
                              platform.get("ArtifactsBucketName"), platform.get("DocumentsBucketName"),
                              platform.get("BackupsBucketName"), f"loket-{stage}-payment-events",
                              f"loket-{stage}-payment-events-dlq", platform.get("UserPoolId")) if name]


def delete_retained(session, stage: str, platform: dict[str, str], out) -> list[str]:  # noqa: ANN001
    deleted = []
    if platform.get("NetworkTableName"):
        session.client("dynamodb").delete_table(TableName=platform["NetworkTableName"])
        deleted.append(platform["NetworkTableName"])
    sqs = session.client("sqs")
    for name in (f"loket-{stage}-payment-events", f"loket-{stage}-payment-events-dlq"):
        try:
            sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
            deleted.append(name)
        except sqs.exceptions.QueueDoesNotExist:
            pass
    s3 = session.client("s3")
    for key in ("SiteBucketName", "ArtifactsBucketName", "DocumentsBucketName", "BackupsBucketName"):
        bucket = platform.get(key)
        if not bucket:
            continue
        if s3.list_object_versions(Bucket=bucket, MaxKeys=1).get("Versions") or s3.list_objects_v2(
                Bucket=bucket, MaxKeys=1).get("KeyCount"):
            out(f"kept {bucket}: it holds objects; empty it yourself if you mean it")
            continue
        s3.delete_bucket(Bucket=bucket)
        deleted.append(bucket)
    if platform.get("UserPoolId"):
        session.client("cognito-idp").delete_user_pool(UserPoolId=platform["UserPoolId"])
        deleted.append(platform["UserPoolId"])
    return deleted


def _wait_deleted(cfn, name: str, poll: float) -> None:  # noqa: ANN001
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        status, _ = provisioning.stack_state(cfn, name)
        if status in (None, "DELETE_COMPLETE"):
            return
        if status == "DELETE_FAILED":
            raise RuntimeError(f"{name}: DELETE_FAILED")
        time.sleep(poll)
    raise TimeoutError(name)


def onboard(api: str, admin: str, password: str, slug: str, name: str) -> None:
    import requests

    token = requests.post(f"{api}/staff/session", json={"username": admin, "password": password}, timeout=30)
    token.raise_for_status()
    answer = requests.post(f"{api}/network/venues", json={"slug": slug, "name": name}, timeout=30,
                           headers={"Authorization": f"Bearer {token.json()['id_token']}"})
    print(answer.status_code, answer.text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("package", "deploy", "destroy"):
        command = commands.add_parser(name)
        command.add_argument("--stage", required=True)
        if name == "destroy":
            command.add_argument("--delete-data", metavar="STAGE", default=None,
                                 help="also delete the retained tables, queues, empty buckets and user pool")
    venue = commands.add_parser("onboard")
    for flag in ("--api", "--admin", "--slug", "--name"):
        venue.add_argument(flag, required=True)
    args = parser.parse_args(argv)
    if args.command == "package":
        print(package(args.stage, ROOT / "build" / args.stage))
    elif args.command == "deploy":
        deploy(args.stage)
    elif args.command == "destroy":
        print(json.dumps(destroy(args.stage, delete_data=args.delete_data or None), indent=2))
    else:
        onboard(args.api, args.admin, os.environ["LOKET_ADMIN_PASSWORD"], args.slug, args.name)


if __name__ == "__main__":
    main()
