"""The whole of Loket on one machine: moto (IAM enforced), the platform and
venue stacks deployed through CloudFormation, Cognito, the Stripe emulator.

Used by `make run` (local/run.py) and by the test suite, so the tests run
what a newcomer runs.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from local.moto_support import REGION, LocalAws, start_local_aws, start_local_aws_process
from local.stripe_emulator import StripeEmulator

ROOT = Path(__file__).resolve().parents[1]
STOREFRONT = ROOT / "storefront"
STAGE = "local"


@dataclass
class LocalStack:
    aws: LocalAws
    stripe: StripeEmulator
    outputs: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def operator(self):
        return self.aws.operator

    def configure_faults(self, spec: str) -> None:
        """Fault rates (local/faults.py) for the Stripe emulator here and for
        moto, wherever it runs."""
        from local import faults

        faults.configure(faults.parse(spec))
        if hasattr(self.aws.server, "configure_faults"):
            self.aws.server.configure_faults(spec)

    def stop(self) -> None:
        self.stripe.stop()
        self.aws.stop()


def start(*, moto_port: int = 0, stripe_port: int = 0, public_base_url: str = "http://127.0.0.1:8000",
          webhook_url: str | None = None, moto_in_own_process: bool = False) -> LocalStack:
    """Start moto and the Stripe emulator, deploy the platform, return the
    environment the API and workers run with (also applied to os.environ).
    `moto_in_own_process`: moto gets a process (and a core) of its own; the
    tests keep it in-process, where the `faults` fixture reaches it."""
    from chalicelib.adapters import provisioning

    local_aws = start_local_aws_process(port=moto_port) if moto_in_own_process else start_local_aws(port=moto_port)
    if not moto_in_own_process:
        from local import apigateway_iam

        apigateway_iam.install()  # API Gateway keys authorized by method and path, as AWS does
    os.environ.update({"AWS_ENDPOINT_URL": local_aws.endpoint, "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION})
    # The pool first: the platform's API policy names it (moto's CloudFormation has no Cognito types).
    pool_id, client_id = _user_pool(local_aws)
    outputs = provisioning.deploy_platform(local_aws.operator, STAGE, local=True, poll=0.05,
                                           local_user_pool_id=pool_id)
    secret_parameters = _put_local_secrets(local_aws)
    stripe = StripeEmulator(port=stripe_port, webhook_url=webhook_url).start()
    env = {
        "AWS_ENDPOINT_URL": local_aws.endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        # The API and workers run as the stand-in for the Lambda role.
        "AWS_ACCESS_KEY_ID": outputs["LocalApiAccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": outputs["LocalApiSecretAccessKey"],
        "LOKET_STAGE": STAGE,
        "LOKET_SITE_BUCKET": outputs["SiteBucketName"],
        "LOKET_PAYMENT_EVENTS_QUEUE_URL": outputs["PaymentEventsQueueUrl"],
        "LOKET_VENUE_PROVISIONER_ROLE_ARN": outputs["VenueProvisionerRoleArn"],
        "LOKET_API_PRINCIPAL_ARN": outputs["ApiPrincipalArn"],
        "LOKET_VENUE_TEMPLATE_URL": outputs["VenueTemplateUrl"],
        "LOKET_USER_POOL_ID": pool_id,
        "LOKET_USER_POOL_CLIENT_ID": client_id,
        "LOKET_COGNITO_JWKS_URL": f"{local_aws.endpoint}/{pool_id}/.well-known/jwks.json",
        "LOKET_STRIPE_API_BASE": stripe.url,
        # Names only: the emulator's key and webhook secret are read from moto's
        # Parameter Store, through the same code path as in AWS.
        **secret_parameters,
        "LOKET_PUBLIC_BASE_URL": public_base_url,
        "POWERTOOLS_SERVICE_NAME": "loket",
        "POWERTOOLS_METRICS_NAMESPACE": "Loket",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
        os.environ.pop(name, None)
    os.environ.update(env)
    _reset_process_caches()
    upload_storefront(local_aws, outputs["SiteBucketName"])
    global _operator
    _operator = local_aws.operator
    verify_mail_identity(_mail_domain())  # the network's own sender
    return LocalStack(aws=local_aws, stripe=stripe, outputs=outputs, env=env)


def _reset_process_caches() -> None:
    from chalicelib import bootstrap
    from chalicelib.adapters import aws, identity, payments, secrets
    from chalicelib.settings import get_settings

    get_settings.cache_clear()
    secrets.forget()
    aws.forget_clients()
    payments._client.cache_clear()
    identity._jwks.cache_clear()
    bootstrap.reset()


def _user_pool(local_aws: LocalAws) -> tuple[str, str]:
    """moto's CloudFormation has no Cognito types: create what platform.yaml
    declares (pool, web client, network-admin group) through the API."""
    cognito = local_aws.operator.client("cognito-idp", endpoint_url=local_aws.endpoint)
    pool_id = cognito.create_user_pool(
        PoolName=f"loket-{STAGE}-staff", AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireLowercase": True, "RequireNumbers": True,
                                     "RequireUppercase": False, "RequireSymbols": False}})["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName=f"loket-{STAGE}-staff-web", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    cognito.create_group(UserPoolId=pool_id, GroupName="network-admin")
    return pool_id, client_id


def _put_local_secrets(local_aws: LocalAws) -> dict[str, str]:
    """The emulator's Stripe key and webhook secret as SecureString parameters
    in moto, written by the operator as `local/deploy.py` does in AWS; returns
    the environment naming them."""
    from chalicelib import settings

    _authorize_ssm_by_parameter()
    ssm = local_aws.operator.client("ssm", endpoint_url=local_aws.endpoint)
    values = {settings.STRIPE_SECRET_KEY: settings.EMULATOR_KEY,
              settings.STRIPE_WEBHOOK_SECRET: settings.EMULATOR_WEBHOOK_SECRET,
              settings.TOKEN_SIGNING_KEY: secrets.token_hex(32)}
    env = {}
    for secret, value in values.items():
        name = settings.secret_parameter_name(STAGE, secret)
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
        env[settings.SECRET_PARAMETER_VARIABLES[secret]] = name
    return env


def _authorize_ssm_by_parameter() -> None:
    """moto authorizes SSM calls against "*", AWS against each parameter's ARN
    (the API's policy names only `parameter/loket/{stage}/stripe/*`). Same
    approach as moto_support's CloudFormation and Cognito resources; it belongs
    there and moves when that file is free."""
    from moto.ssm.responses import SimpleSystemManagerResponse

    if getattr(SimpleSystemManagerResponse, "_loket_by_parameter", False):
        return
    original = SimpleSystemManagerResponse._authenticate_and_authorize_normal_action

    def by_parameter(self, resource: str = "*") -> None:  # noqa: ANN001 - moto's signature
        body = json.loads(self.raw_body or b"{}") if self.raw_body else {}
        names = body.get("Names") or ([body["Name"]] if body.get("Name") else [])
        if not names:
            return original(self, resource)
        for name in names:
            if not name.startswith("arn:"):
                name = f"arn:aws:ssm:{self.region}:{self.current_account}:parameter/{name.lstrip('/')}"
            original(self, name)
        return None

    SimpleSystemManagerResponse._authenticate_and_authorize_normal_action = by_parameter
    SimpleSystemManagerResponse._loket_by_parameter = True


def upload_storefront(local_aws: LocalAws, bucket: str) -> int:
    """The same upload, Content-Type and Cache-Control as `make deploy` (local/site.py)."""
    from local.site import upload_site

    return upload_site(local_aws.operator.client("s3", endpoint_url=local_aws.endpoint), bucket, STOREFRONT)


def onboard_venue(profile: dict[str, Any]) -> dict[str, Any]:
    """Onboard as the network API does, but wait for the stack and activate at
    once instead of leaving that to the every-minute job."""
    from chalicelib import bootstrap
    from chalicelib.adapters import aws, provisioning
    from chalicelib.services import venues

    network = bootstrap.network()
    venues.onboard(network, venues.NewVenue(**profile))
    provisioning.wait_for(aws.client("cloudformation"), f"loket-{STAGE}-venue-{profile['slug']}", poll=0.05)
    verify_mail_identity(f"{profile['slug']}.{_mail_domain()}")
    return venues.finish_onboarding(network, profile["slug"])


def _mail_domain() -> str:
    from chalicelib.settings import get_settings

    return get_settings().mail_domain


_operator: Any = None  # the operator's session of the running local stack


def verify_mail_identity(domain: str) -> None:
    """A sending identity, as the operator sets it up in AWS (with DNS records
    there; moto verifies at once): the network's domain, and each venue's
    subdomain (chalicelib/adapters/mail.py)."""
    _operator.client("ses", endpoint_url=os.environ["AWS_ENDPOINT_URL"]).verify_domain_identity(Domain=domain)

