"""Secrets from SSM Parameter Store (SecureString), through Powertools parameters.

Only the parameters' names are in the environment (settings.py); the values
are fetched on first use with the function's own identity, whose policy may
read only `parameter/loket/{stage}/stripe/*` and `.../tokens/*`, and cached for
`LOKET_SECRETS_MAX_AGE` seconds (default 300) so a rotated webhook secret is
picked up without a redeploy and Parameter Store is asked at most once per
five minutes per container.

Fail closed: a missing, empty or unreadable parameter raises
ConfigurationError naming the parameter, and a deployed stage refuses the
local emulator's values. Nothing falls back to a default.

Powertools (and the SSM client) are imported on first use only: the API's
cold start does not pay for them.
"""

from __future__ import annotations

from functools import lru_cache

from chalicelib.adapters import aws
from chalicelib.settings import (
    EMULATOR_KEY,
    EMULATOR_WEBHOOK_SECRET,
    ConfigurationError,
    get_settings,
)

_KEY_PREFIXES = ("sk_live_", "sk_test_", "rk_live_", "rk_test_")


@lru_cache(maxsize=1)
def _provider():
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return SSMProvider(boto3_client=aws.client("ssm"))


def _read(name: str, what: str) -> str:
    from aws_lambda_powertools.utilities.parameters import GetParameterError

    try:
        value = _provider().get(name, decrypt=True, max_age=get_settings().secrets_max_age)
    except GetParameterError as error:
        raise ConfigurationError(f"{what} could not be read from SSM parameter {name} ({error}). Store it as a "
                                 f"SecureString there; the function's role may read /loket/<stage>/stripe/* and "
                                 f"/loket/<stage>/tokens/*."
                                 ) from error
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{what} in SSM parameter {name} is empty.")
    return value.strip()


def _stripe_secret(parameter: str, what: str, emulator_value: str, prefixes: tuple[str, ...], form: str) -> str:
    """A Stripe secret; outside the local stage never the emulator's, and
    only one that looks like what it claims to be."""
    settings = get_settings()
    value = _read(parameter, what)
    if not settings.is_local and (value == emulator_value or not value.startswith(prefixes)):
        raise ConfigurationError(f"SSM parameter {parameter} does not hold {form}; stage '{settings.stage}' never "
                                 f"uses the local emulator's.")
    return value


def stripe_secret_key() -> str:
    return _stripe_secret(get_settings().stripe_secret_key_parameter, "The Stripe secret key", EMULATOR_KEY,
                          _KEY_PREFIXES, "a Stripe secret key (sk_live_/sk_test_/rk_...)")


def stripe_webhook_secret() -> str:
    return _stripe_secret(get_settings().stripe_webhook_secret_parameter, "The Stripe webhook signing secret",
                          EMULATOR_WEBHOOK_SECRET, ("whsec_",), "a Stripe webhook signing secret (whsec_...)")


def token_signing_key() -> bytes:
    """The server's key for buyer sessions, basket ids and basket tokens."""
    settings = get_settings()
    value = _read(settings.token_signing_key_parameter, "The token signing key")
    if len(value) < 32:
        raise ConfigurationError(f"SSM parameter {settings.token_signing_key_parameter} must hold at least 32 "
                                 f"random characters.")
    return value.encode()


def forget() -> None:
    """Drop the provider and its cached values (tests switch stacks and stages)."""
    _provider.cache_clear()
