"""Configuration from the environment, read once per process.

Resource names follow one convention (`loket-{stage}-...`), so a function
needs only the stage, the account-specific bucket names and a few secrets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


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
    stripe_secret_key: str
    stripe_api_base: str
    stripe_webhook_secret: str
    public_base_url: str
    hold_minutes: int
    checkout_minutes: int

    @property
    def network_table(self) -> str:
        return f"loket-{self.stage}-network"

    def venue_stack_name(self, venue: str) -> str:
        return f"loket-{self.stage}-venue-{venue}"

    @property
    def cognito_issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def uses_stripe_emulator(self) -> bool:
        return not os.environ.get("STRIPE_SECRET_KEY")


EMULATOR_KEY = "sk_test_loket_emulator"
EMULATOR_WEBHOOK_SECRET = "whsec_loket_emulator"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = os.environ
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "eu-west-1"
    pool = env.get("LOKET_USER_POOL_ID", "")
    return Settings(
        stage=env.get("LOKET_STAGE", "local"),
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
        stripe_secret_key=env.get("STRIPE_SECRET_KEY") or EMULATOR_KEY,
        stripe_api_base=env.get("LOKET_STRIPE_API_BASE", "http://127.0.0.1:12111"),
        stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET") or EMULATOR_WEBHOOK_SECRET,
        public_base_url=env.get("LOKET_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        hold_minutes=int(env.get("LOKET_HOLD_MINUTES", "15")),
        checkout_minutes=int(env.get("LOKET_CHECKOUT_MINUTES", "30")),
    )
