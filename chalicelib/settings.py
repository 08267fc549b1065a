"""Configuration from the environment, read once per process.

Resource names follow one convention (`loket-{stage}-...`), so a function
needs only the stage, the account-specific bucket names and the *names* of
its secrets; the secret values live in SSM Parameter Store
(`adapters/secrets.py`), never in environment variables.

Fail closed. The stage is "local" only when `LOKET_STAGE` is exactly `local`
and the code does not run inside Lambda (`AWS_LAMBDA_FUNCTION_NAME` unset).
Only the local stage has defaults (the Stripe emulator, localhost); every
other stage refuses to load, naming what is missing, rather than fall back to
the emulator or to localhost.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping
from urllib.parse import urlsplit

LOCAL_STAGE = "local"

# The local Stripe emulator's key and webhook secret. Public by design: the
# local stack stores them in moto's Parameter Store; a deployed stage refuses
# them (adapters/secrets.py).
EMULATOR_KEY = "sk_test_loket_emulator"
EMULATOR_WEBHOOK_SECRET = "whsec_loket_emulator"

# Secrets by name: (environment variable holding the parameter's name, what it is).
STRIPE_SECRET_KEY = "stripe/secret-key"
STRIPE_WEBHOOK_SECRET = "stripe/webhook-secret"
# The server's key for buyer bearer values (buyer sessions, basket ids and
# tokens): made once per stage by deploy, never rotated by it.
TOKEN_SIGNING_KEY = "tokens/signing-key"
SECRET_PARAMETER_VARIABLES = {
    STRIPE_SECRET_KEY: "LOKET_STRIPE_SECRET_KEY_PARAMETER",
    STRIPE_WEBHOOK_SECRET: "LOKET_STRIPE_WEBHOOK_SECRET_PARAMETER",
    TOKEN_SIGNING_KEY: "LOKET_TOKEN_SIGNING_KEY_PARAMETER",
}
# Set by an operator by mistake, these would be plain-text secrets in the
# function's configuration: a deployed stage refuses to start with them.
PLAIN_SECRET_VARIABLES = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")

# What every deployed stage needs besides its secrets (app-overrides.json sets them).
_DEPLOYED_REQUIRED = (
    "LOKET_PUBLIC_BASE_URL",
    "LOKET_SITE_BUCKET",
    "LOKET_PAYMENT_EVENTS_QUEUE_URL",
    "LOKET_VENUE_PROVISIONER_ROLE_ARN",
    "LOKET_API_PRINCIPAL_ARN",
    "LOKET_VENUE_TEMPLATE_URL",
    "LOKET_USER_POOL_ID",
    "LOKET_USER_POOL_CLIENT_ID",
)
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1", ""}


class ConfigurationError(RuntimeError):
    """The function is not configured to run this stage safely."""


def usage_plan_parameter_name(stage: str) -> str:
    """Where the app stack writes its usage plan's id (infra/app-overrides.json)."""
    return f"/loket/{stage}/api/usage-plan-id"


def secret_parameter_name(stage: str, secret: str) -> str:
    """The one place a secret's SSM parameter name is built (deploy, local
    stack, IAM policy `parameter/loket/{stage}/stripe/*`)."""
    return f"/loket/{stage}/{secret}"


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    site_bucket: str
    payment_events_queue_url: str
    venue_provisioner_role_arn: str
    api_principal_arn: str
    venue_template_url: str
    user_pool_id: str
    user_pool_client_id: str
    # Where the Cognito JWKS is fetched; moto serves it under its own endpoint
    # while tokens still name the real AWS issuer.
    cognito_jwks_url: str
    stripe_api_base: str
    # Names of SSM parameters (SecureString), not the secrets themselves.
    stripe_secret_key_parameter: str
    stripe_webhook_secret_parameter: str
    token_signing_key_parameter: str
    secrets_max_age: int
    public_base_url: str
    hold_minutes: int
    checkout_minutes: int
    # The network's mail domain: network mails come from no-reply@ it, each
    # venue sends from its own subdomain (adapters/mail.py).
    mail_domain: str = "loket.test"
    # The SSM parameter naming the API Gateway usage plan of the stage's per-key rate limit
    # (infra/app-overrides.json ApiUsagePlan); empty locally, where there is no API Gateway.
    usage_plan_parameter: str = ""

    @property
    def is_local(self) -> bool:
        return self.stage == LOCAL_STAGE

    @property
    def network_table(self) -> str:
        return f"loket-{self.stage}-network"

    @property
    def network_sender(self) -> str:
        """The address network mails (e.g. magic links) come from."""
        return f"no-reply@{self.mail_domain}"

    def venue_mail_identity(self, venue: str) -> str:
        """A venue's own SES identity (a subdomain): its own IAM resource,
        reputation and bounce notifications (infra/venue.yaml)."""
        return f"{venue}.{self.mail_domain}"

    @property
    def documents_bucket(self) -> str:
        """Tickets (PDF, .ics) per order, under `venues/{venue}/`: each venue
        role may read and write only its own prefix (infra/venue.yaml)."""
        return f"loket-{self.stage}-documents-{self.api_principal_arn.split(':')[4]}"

    @property
    def backups_bucket(self) -> str:
        """Venue exports under `venues/{venue}/exports/` (offboarding; each
        venue role may only write its own prefix: infra/venue.yaml OwnExportsOnly)."""
        return f"loket-{self.stage}-backups-{self.api_principal_arn.split(':')[4]}"

    @property
    def support_topic_arn(self) -> str:
        """Where venues' support requests go (infra/platform.yaml SupportTopic)."""
        return f"arn:aws:sns:{self.region}:{self.api_principal_arn.split(':')[4]}:loket-{self.stage}-support"

    def venue_stack_name(self, venue: str) -> str:
        return f"loket-{self.stage}-venue-{venue}"

    @property
    def onsale_worker_arn(self) -> str:
        """The shared on-sale worker each venue stack maps its queue to (app.py
        `onsale_worker`, named by chalice); none locally, where local/runner.py
        drains the queues."""
        if self.is_local:
            return ""
        account = self.api_principal_arn.split(":")[4]
        return f"arn:aws:lambda:{self.region}:{account}:function:loket-{self.stage}-onsale_worker"

    @property
    def mail_events_worker_arn(self) -> str:
        """The function recording each venue's bounces and complaints (app.py
        `mail_events`); none locally."""
        if self.is_local:
            return ""
        account = self.api_principal_arn.split(":")[4]
        return f"arn:aws:lambda:{self.region}:{account}:function:loket-{self.stage}-mail_events"

    @property
    def cognito_issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def uses_stripe_emulator(self) -> bool:
        """Only the local stage talks to the emulator; a deployed stage always
        talks to Stripe itself."""
        return self.is_local


def load_settings(env: Mapping[str, str]) -> Settings:
    """Settings from `env`; raises ConfigurationError listing everything a
    deployed stage is missing."""
    stage = (env.get("LOKET_STAGE") or "").strip()
    if not stage:
        raise ConfigurationError("LOKET_STAGE is not set: use 'local' for the local stack, or the name of the "
                                 "deployed stage.")
    local = stage == LOCAL_STAGE
    if local and env.get("AWS_LAMBDA_FUNCTION_NAME"):
        raise ConfigurationError("LOKET_STAGE=local inside a Lambda function: the local stage (Stripe emulator, "
                                 "localhost) never runs in AWS. Deploy with the stage's own name.")
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "eu-west-1"
    pool = env.get("LOKET_USER_POOL_ID", "")
    parameters = {secret: (env.get(variable) or "").strip() for secret, variable in SECRET_PARAMETER_VARIABLES.items()}
    public_base_url = (env.get("LOKET_PUBLIC_BASE_URL") or "").strip().rstrip("/")
    if not local:
        _refuse_unsafe_deployment(stage, env, parameters, public_base_url)
    return Settings(
        stage=stage,
        region=region,
        site_bucket=env.get("LOKET_SITE_BUCKET", ""),
        payment_events_queue_url=env.get("LOKET_PAYMENT_EVENTS_QUEUE_URL", ""),
        venue_provisioner_role_arn=env.get("LOKET_VENUE_PROVISIONER_ROLE_ARN", ""),
        api_principal_arn=env.get("LOKET_API_PRINCIPAL_ARN", ""),
        venue_template_url=env.get("LOKET_VENUE_TEMPLATE_URL", ""),
        user_pool_id=pool,
        user_pool_client_id=env.get("LOKET_USER_POOL_CLIENT_ID", ""),
        cognito_jwks_url=env.get("LOKET_COGNITO_JWKS_URL")
        or f"https://cognito-idp.{region}.amazonaws.com/{pool}/.well-known/jwks.json",
        stripe_api_base=(env.get("LOKET_STRIPE_API_BASE") or "http://127.0.0.1:12111") if local else "",
        stripe_secret_key_parameter=parameters[STRIPE_SECRET_KEY] or secret_parameter_name(stage, STRIPE_SECRET_KEY),
        stripe_webhook_secret_parameter=(parameters[STRIPE_WEBHOOK_SECRET]
                                         or secret_parameter_name(stage, STRIPE_WEBHOOK_SECRET)),
        token_signing_key_parameter=(parameters[TOKEN_SIGNING_KEY]
                                     or secret_parameter_name(stage, TOKEN_SIGNING_KEY)),
        secrets_max_age=int(env.get("LOKET_SECRETS_MAX_AGE", "300")),
        usage_plan_parameter=env.get("LOKET_USAGE_PLAN_PARAMETER") or ("" if local else usage_plan_parameter_name(stage)),
        public_base_url=public_base_url or ("http://127.0.0.1:8000" if local else ""),
        hold_minutes=int(env.get("LOKET_HOLD_MINUTES", "15")),
        checkout_minutes=int(env.get("LOKET_CHECKOUT_MINUTES", "35")),
        mail_domain=mail_domain_of(env),
    )


def mail_domain_of(env: Mapping[str, str]) -> str:
    """LOKET_MAIL_DOMAIN, else the storefront's host (the platform stack's
    MailDomain is set from the same rule at deploy)."""
    explicit = (env.get("LOKET_MAIL_DOMAIN") or "").strip().lower()
    if explicit:
        return explicit
    if (env.get("LOKET_STAGE") or "").strip() == LOCAL_STAGE:
        return "loket.test"
    return (urlsplit((env.get("LOKET_PUBLIC_BASE_URL") or "").strip()).hostname or "").lower()


def _refuse_unsafe_deployment(stage: str, env: Mapping[str, str], parameters: dict[str, str],
                              public_base_url: str) -> None:
    problems = [f"{name} is not set" for name in _DEPLOYED_REQUIRED if not (env.get(name) or "").strip()]
    for secret, variable in SECRET_PARAMETER_VARIABLES.items():
        if not parameters[secret]:
            problems.append(f"{variable} is not set (the name of the SSM parameter holding the {secret.replace('/', ' ')}"
                            f", e.g. {secret_parameter_name(stage, secret)})")
    if public_base_url:
        parts = urlsplit(public_base_url)
        if parts.scheme != "https" or (parts.hostname or "") in _LOCAL_HOSTS:
            problems.append(f"LOKET_PUBLIC_BASE_URL must be the public https address of the storefront, "
                            f"not {public_base_url!r}")
    for name in PLAIN_SECRET_VARIABLES:
        if env.get(name):
            problems.append(f"{name} is set as a plain environment variable: remove it; the value belongs in SSM "
                            f"Parameter Store (SecureString) and only the parameter's name in the environment")
    if env.get("LOKET_STRIPE_API_BASE"):
        problems.append("LOKET_STRIPE_API_BASE is set: only the local stage talks to a Stripe emulator; a deployed "
                        "stage sends its secret key to Stripe itself")
    if problems:
        raise ConfigurationError(f"Loket stage '{stage}' refuses to start: " + "; ".join(problems) + ".")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings(os.environ)
