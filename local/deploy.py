"""`make package` / `make deploy STAGE=...`: Loket into a real AWS account.

deploy:  1. the platform stack (infra/platform.yaml) and the venue template
         2. the Chalice app: `chalice package` + infra/app-overrides.json,
            code uploaded to the artifacts bucket, deployed as a SAM stack
            running as the platform's ApiFunctionRole
         3. the storefront files into the site bucket
Venues are then onboarded by a network admin: `python -m local.deploy
onboard --api URL --admin USER --slug SLUG --name NAME` (POST /network/venues).
Needs AWS credentials of an operator and STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET.
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
    template = json.loads(template_path.read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function" and role_arn:
            resource["Properties"]["Role"] = role_arn
    template_path.write_text(json.dumps(template, indent=2))
    return template_path


def deploy(stage: str) -> None:
    import boto3

    from chalicelib.adapters import provisioning
    from local.stack import STOREFRONT

    session = boto3.Session()
    outputs = provisioning.deploy_platform(session, stage, local=False)
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
        "PublicBaseUrl": os.environ.get("LOKET_PUBLIC_BASE_URL", ""),
        "StripeSecretKey": os.environ["STRIPE_SECRET_KEY"], "StripeWebhookSecret": os.environ["STRIPE_WEBHOOK_SECRET"],
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
