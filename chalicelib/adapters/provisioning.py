"""CloudFormation: the platform stack and one stack per venue.

The same functions deploy to AWS (`make deploy`), to the local moto server
(`make run`, tests) and, for venue stacks, run inside the API when a network
admin onboards a venue.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.settings import get_settings, mail_domain_of

INFRA = Path(__file__).resolve().parents[2] / "infra"
DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"}
FAILED = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED"}


def stack_state(cfn: Any, name: str) -> tuple[str | None, dict[str, str]]:
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in str(error):
            return None, {}
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return stack["StackStatus"], outputs


def wait_for(cfn: Any, name: str, *, timeout: float = 1800, poll: float = 5) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        status, outputs = stack_state(cfn, name)
        if status in DONE:
            return outputs
        if status is None or status in FAILED:
            raise RuntimeError(f"stack {name} ended in {status}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"stack {name} still {status}")
        time.sleep(poll)


def deploy_stack(cfn: Any, name: str, parameters: dict[str, str], *, template_body: str | None = None,
                 template_url: str | None = None, role_arn: str | None = None, wait: bool = True,
                 poll: float = 5) -> dict[str, str]:
    """Create the stack, or update it if it exists (no-op updates are fine)."""
    kwargs: dict[str, Any] = {
        "StackName": name,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Capabilities": ["CAPABILITY_NAMED_IAM"],
        "Tags": [{"Key": "loket:stack", "Value": name}],
    }
    kwargs.update({"TemplateBody": template_body} if template_body else {"TemplateURL": template_url})
    if role_arn:
        kwargs["RoleARN"] = role_arn
    status, _ = stack_state(cfn, name)
    try:
        if status is None:
            cfn.create_stack(**kwargs)
        else:
            cfn.update_stack(**kwargs)
    except ClientError as error:
        if "No updates are to be performed" not in str(error):
            raise
    return wait_for(cfn, name, poll=poll) if wait else {}


def deploy_platform(session: Any, stage: str, *, local: bool, poll: float = 5, local_user_pool_id: str = "",
                    alarm_email: str = "") -> dict[str, str]:
    cfn = session.client("cloudformation")
    outputs = deploy_stack(
        cfn, f"loket-{stage}-platform",
        {"Stage": stage, "CreateUserPool": "false" if local else "true", "LocalIdentities": "true" if local else "false",
         **({"LocalUserPoolId": local_user_pool_id} if local else {
             "MailDomain": mail_domain_of({**os.environ, "LOKET_STAGE": stage}), "AlarmEmail": alarm_email})},
        template_body=(INFRA / "platform.yaml").read_text(), poll=poll)
    key = "templates/venue.yaml"
    session.client("s3").put_object(Bucket=outputs["ArtifactsBucketName"], Key=key,
                                    Body=(INFRA / "venue.yaml").read_bytes())
    # The virtual-hosted AWS URL form; moto's CloudFormation resolves it too.
    outputs["VenueTemplateUrl"] = f"https://{outputs['ArtifactsBucketName']}.s3.{session.region_name}.amazonaws.com/{key}"
    return outputs


def venue_stack_parameters(*, stage: str, venue: str, trusted_principal_arn: str, onsale_worker_arn: str = "",
                           mail_domain: str = "", mail_events_worker_arn: str = "") -> dict[str, str]:
    """The one place a venue stack's parameters are made: onboarding (the API)
    and restoring a venue (local/ops.py, the operator) use it."""
    parameters = {"Stage": stage, "VenueSlug": venue, "TrustedPrincipalArn": trusted_principal_arn}
    if onsale_worker_arn:
        parameters["OnSaleWorkerArn"] = onsale_worker_arn
        # app.py's webhook_worker, deployed beside it: each venue maps its webhook queue there too
        parameters["WebhookWorkerArn"] = onsale_worker_arn.replace("-onsale_worker", "-webhook_worker")
    if mail_events_worker_arn:  # deployed: the venue's mail identity and bounce topic (venue.yaml Mail*)
        parameters.update(MailDomain=mail_domain, MailEventsWorkerArn=mail_events_worker_arn)
    return parameters


def start_venue_stack(cfn: Any, *, stage: str, venue: str, template_url: str, provisioner_role_arn: str,
                      trusted_principal_arn: str, onsale_worker_arn: str = "") -> None:
    settings = get_settings()
    parameters = venue_stack_parameters(
        stage=stage, venue=venue, trusted_principal_arn=trusted_principal_arn, onsale_worker_arn=onsale_worker_arn,
        mail_domain=settings.mail_domain, mail_events_worker_arn=settings.mail_events_worker_arn)
    deploy_stack(cfn, f"loket-{stage}-venue-{venue}", parameters,
                 template_url=template_url, role_arn=provisioner_role_arn, wait=False)


def delete_venue_stack(cfn: Any, *, stage: str, venue: str) -> None:
    cfn.delete_stack(StackName=f"loket-{stage}-venue-{venue}")
