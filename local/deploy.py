"""`make package` / `make deploy STAGE=...`: Loket into a real AWS account.

deploy:  1. the platform stack (infra/platform.yaml) and the venue template
         2. the Chalice app: `chalice package` + infra/app-overrides.json,
            code uploaded to the artifacts bucket, deployed as a SAM stack
            running as the platform's ApiFunctionRole
         3. the storefront files into the site bucket
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
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def package(stage: str, out: Path, role_arn: str | None = None) -> Path:
    """Run `chalice package` and return the SAM template path."""
    env = {**os.environ, "LOKET_STAGE": stage, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-1")}
    subprocess.run([str(Path(sys.executable).with_name("chalice")), "package", "--stage", stage,
                    "--merge-template", str(ROOT / "infra" / "app-overrides.json"), str(out)],
                   cwd=ROOT, env=env, check=True)
    template_path = out / "sam.json"
    template = harden_template(json.loads(template_path.read_text()))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function" and role_arn:
            resource["Properties"]["Role"] = role_arn
    template_path.write_text(json.dumps(template, indent=2))
    return template_path


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
    return template


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
    if not public_url:
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


def deploy(stage: str) -> None:
    import boto3

    from chalicelib.adapters import provisioning
    from local.stack import STOREFRONT

    inputs = operator_inputs(stage, dict(os.environ))
    session = boto3.Session()
    outputs = provisioning.deploy_platform(session, stage, local=False)
    put_stage_secrets(session, stage, inputs)
    build = ROOT / "build" / stage
    template_path = package(stage, build, role_arn=outputs["ApiFunctionRoleArn"])
    s3 = session.client("s3")
    code_key = f"app/{stage}/deployment-{os.urandom(6).hex()}.zip"
    s3.upload_file(str(build / "deployment.zip"), outputs["ArtifactsBucketName"], code_key)
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
        "PublicBaseUrl": inputs["public_base_url"],
    }
    kwargs = dict(StackName=f"loket-{stage}-app", TemplateBody=json.dumps(template),
                  Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
                  Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    status, _ = provisioning.stack_state(cfn, kwargs["StackName"])
    change_set = cfn.create_change_set(ChangeSetName=f"deploy-{os.urandom(4).hex()}",
                                       ChangeSetType="CREATE" if status is None else "UPDATE", **kwargs)
    cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=change_set["Id"])
    cfn.execute_change_set(ChangeSetName=change_set["Id"])
    app_outputs = provisioning.wait_for(cfn, kwargs["StackName"])
    for path in sorted(STOREFRONT.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), outputs["SiteBucketName"], str(path.relative_to(STOREFRONT)))
    print(json.dumps({**outputs, **app_outputs}, indent=2))


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
    for name in ("package", "deploy"):
        command = commands.add_parser(name)
        command.add_argument("--stage", required=True)
    venue = commands.add_parser("onboard")
    for flag in ("--api", "--admin", "--slug", "--name"):
        venue.add_argument(flag, required=True)
    args = parser.parse_args(argv)
    if args.command == "package":
        print(package(args.stage, ROOT / "build" / args.stage))
    elif args.command == "deploy":
        deploy(args.stage)
    else:
        onboard(args.api, args.admin, os.environ["LOKET_ADMIN_PASSWORD"], args.slug, args.name)


if __name__ == "__main__":
    main()
