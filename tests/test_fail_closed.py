"""Fail closed: a deployed stage refuses to start without its Stripe secret
key, its Stripe webhook secret and its public URL, and never falls back to
the local emulator's key, its webhook secret or localhost. Secrets come from
SSM Parameter Store; the environment holds only their names."""

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from chalicelib import settings
from chalicelib.adapters import aws, payments, secrets
from chalicelib.settings import ConfigurationError, get_settings, load_settings
from local import deploy
from local.stripe_emulator import sign_payload

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_URL = "https://tickets.loket.example"

DEPLOYED = {
    "LOKET_STAGE": "staging",
    "LOKET_PUBLIC_BASE_URL": PUBLIC_URL,
    "LOKET_SITE_BUCKET": "loket-staging-site-123456789012",
    "LOKET_PAYMENT_EVENTS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/loket-staging-payment-events",
    "LOKET_VENUE_PROVISIONER_ROLE_ARN": "arn:aws:iam::123456789012:role/loket-staging-venue-provisioner",
    "LOKET_API_PRINCIPAL_ARN": "arn:aws:iam::123456789012:role/loket-staging-api",
    "LOKET_VENUE_TEMPLATE_URL": "https://example.s3.amazonaws.com/templates/venue.yaml",
    "LOKET_USER_POOL_ID": "eu-west-1_abc",
    "LOKET_USER_POOL_CLIENT_ID": "client",
    "LOKET_STRIPE_SECRET_KEY_PARAMETER": "/loket/staging/stripe/secret-key",
    "LOKET_STRIPE_WEBHOOK_SECRET_PARAMETER": "/loket/staging/stripe/webhook-secret",
    "LOKET_TOKEN_SIGNING_KEY_PARAMETER": "/loket/staging/tokens/signing-key",
}


def _without(*names: str, **changes: str) -> dict:
    return {**{k: v for k, v in DEPLOYED.items() if k not in names}, **changes}


@pytest.mark.parametrize("env, named", [
    (_without("LOKET_STRIPE_WEBHOOK_SECRET_PARAMETER"), "LOKET_STRIPE_WEBHOOK_SECRET_PARAMETER is not set"),
    (_without("LOKET_STRIPE_SECRET_KEY_PARAMETER"), "LOKET_STRIPE_SECRET_KEY_PARAMETER is not set"),
    (_without("LOKET_TOKEN_SIGNING_KEY_PARAMETER"), "LOKET_TOKEN_SIGNING_KEY_PARAMETER is not set"),
    (_without("LOKET_PUBLIC_BASE_URL"), "LOKET_PUBLIC_BASE_URL is not set"),
    (_without(LOKET_PUBLIC_BASE_URL="http://127.0.0.1:8000"), "LOKET_PUBLIC_BASE_URL must be the public https"),
    (_without(LOKET_PUBLIC_BASE_URL="https://localhost"), "LOKET_PUBLIC_BASE_URL must be the public https"),
    (_without(STRIPE_WEBHOOK_SECRET="whsec_plain"), "STRIPE_WEBHOOK_SECRET is set as a plain environment variable"),
    (_without(STRIPE_SECRET_KEY="sk_live_plain"), "STRIPE_SECRET_KEY is set as a plain environment variable"),
    (_without(LOKET_STRIPE_API_BASE="http://127.0.0.1:12111"), "only the local stage talks to a Stripe emulator"),
    (_without("LOKET_STAGE"), "LOKET_STAGE is not set"),
    ({**DEPLOYED, "LOKET_STAGE": "local", "AWS_LAMBDA_FUNCTION_NAME": "loket-api"}, "never runs in AWS"),
])
def test_a_deployed_stage_refuses_to_load_its_settings_naming_what_is_wrong(env, named):
    with pytest.raises(ConfigurationError) as refused:
        load_settings(env)
    assert named in str(refused.value)
    assert "whsec_plain" not in str(refused.value) and "sk_live_plain" not in str(refused.value)


def test_a_complete_deployed_stage_loads_with_names_only_and_no_local_fallbacks():
    loaded = load_settings(DEPLOYED)
    assert not loaded.is_local and not loaded.uses_stripe_emulator and loaded.stripe_api_base == ""
    assert loaded.public_base_url == PUBLIC_URL
    assert loaded.stripe_webhook_secret_parameter == "/loket/staging/stripe/webhook-secret"
    local = load_settings({"LOKET_STAGE": "local"})
    assert local.uses_stripe_emulator and local.public_base_url == "http://127.0.0.1:8000"


def test_a_lambda_function_of_a_deployed_stage_without_its_secrets_and_url_refuses_to_start():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOKET_", "STRIPE_"))}
    env.update(_without("LOKET_STRIPE_WEBHOOK_SECRET_PARAMETER", "LOKET_STRIPE_SECRET_KEY_PARAMETER",
                        "LOKET_PUBLIC_BASE_URL", AWS_LAMBDA_FUNCTION_NAME="loket-staging-APIHandler"))
    started = subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=60)
    assert started.returncode != 0
    assert "ConfigurationError: Loket stage 'staging' refuses to start" in started.stderr
    for missing in ("LOKET_STRIPE_WEBHOOK_SECRET_PARAMETER", "LOKET_STRIPE_SECRET_KEY_PARAMETER",
                    "LOKET_PUBLIC_BASE_URL"):
        assert f"{missing} is not set" in started.stderr
    env.update(DEPLOYED)
    complete = subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)
    assert complete.returncode == 0, complete.stderr


def _forget() -> None:
    get_settings.cache_clear()
    secrets.forget()
    payments._client.cache_clear()


@contextlib.contextmanager
def deployed_stage(**parameters: str):
    """This process as a deployed stage ('staging') against the local AWS:
    the same identity and Parameter Store, no emulator settings."""
    saved = dict(os.environ)
    try:
        for name in ("LOKET_STRIPE_API_BASE", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
            os.environ.pop(name, None)
        os.environ.update({"LOKET_STAGE": "staging", "LOKET_PUBLIC_BASE_URL": PUBLIC_URL, **parameters})
        _forget()
        get_settings()  # now: the test client swaps os.environ for its stage during a request
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        _forget()
        get_settings()


def _put(loket, value: str) -> str:
    """A parameter the local API identity may read (parameter/loket/local/stripe/*)."""
    name = f"/loket/local/stripe/test-{uuid.uuid4().hex[:8]}"
    loket.operator.client("ssm").put_parameter(Name=name, Value=value, Type="SecureString")
    return name


def _queued(loket) -> int:
    attributes = loket.operator.client("sqs").get_queue_attributes(
        QueueUrl=loket.outputs["PaymentEventsQueueUrl"], AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def _webhook(api, secret: str, event_type: str = "checkout.session.completed"):
    payload = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": event_type,
                          "data": {"object": {"id": "cs_test_x", "metadata": {"basket_id": "b" * 32}}}})
    return api.call("POST", "/stripe/webhook", raw=payload.encode(),
                    headers={"Stripe-Signature": sign_payload(payload, secret, int(time.time()))})


def test_with_its_webhook_secret_parameter_missing_a_deployed_stage_accepts_no_webhook(api, loket):
    queued = _queued(loket)
    missing = "/loket/local/stripe/webhook-secret-never-written"
    with deployed_stage(LOKET_STRIPE_WEBHOOK_SECRET_PARAMETER=missing,
                        LOKET_STRIPE_SECRET_KEY_PARAMETER=_put(loket, "sk_test_staging")):
        answer = _webhook(api, settings.EMULATOR_WEBHOOK_SECRET)
        assert answer.status_code == 503 and answer.data["type"].endswith("/service-misconfigured")
        assert missing not in json.dumps(answer.data)  # the caller learns nothing about the configuration
        with pytest.raises(ConfigurationError, match=f"SSM parameter {missing}"):
            secrets.stripe_webhook_secret()
    assert _queued(loket) == queued


def test_a_deployed_stage_never_accepts_the_emulators_webhook_secret_but_accepts_its_own(api, loket):
    queued = _queued(loket)
    with deployed_stage(LOKET_STRIPE_WEBHOOK_SECRET_PARAMETER=_put(loket, settings.EMULATOR_WEBHOOK_SECRET)):
        assert _webhook(api, settings.EMULATOR_WEBHOOK_SECRET).status_code == 503
    own = "whsec_staging_" + uuid.uuid4().hex
    with deployed_stage(LOKET_STRIPE_WEBHOOK_SECRET_PARAMETER=_put(loket, own)):
        refused = _webhook(api, settings.EMULATOR_WEBHOOK_SECRET)
        assert refused.status_code == 400 and refused.data["type"].endswith("/invalid-signature")
        assert _webhook(api, own, event_type="customer.created").status_code == 200
    assert _queued(loket) == queued


def test_a_deployed_stage_never_falls_back_to_the_emulators_stripe_key(loket):
    missing = "/loket/local/stripe/secret-key-never-written"
    for parameter in (missing, _put(loket, settings.EMULATOR_KEY), _put(loket, "not-a-stripe-key")):
        with deployed_stage(LOKET_STRIPE_SECRET_KEY_PARAMETER=parameter):
            with pytest.raises(ConfigurationError, match=parameter):
                payments.retrieve_checkout("cs_test_anything")
            assert payments._client.cache_info().currsize == 0  # no Stripe client, so no request was sent


def test_secrets_are_read_through_parameter_store_and_only_the_stages_own(loket):
    assert secrets.stripe_secret_key() == settings.EMULATOR_KEY  # the local stage, from moto's Parameter Store
    assert secrets.stripe_webhook_secret() == settings.EMULATOR_WEBHOOK_SECRET
    stored = loket.operator.client("ssm").get_parameter(Name=get_settings().stripe_webhook_secret_parameter)
    assert stored["Parameter"]["Type"] == "SecureString"
    assert "whsec_loket_emulator" not in json.dumps(loket.env)  # the environment names it, never holds it
    deploy.put_stage_secrets(loket.operator, "staging", {settings.STRIPE_SECRET_KEY: "sk_test_staging",
                                                         settings.STRIPE_WEBHOOK_SECRET: "whsec_staging"})
    ssm = aws.client("ssm")  # the API's own identity
    with pytest.raises(ssm.exceptions.ClientError) as denied:
        ssm.get_parameter(Name="/loket/staging/stripe/secret-key", WithDecryption=True)
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize("env, named", [
    ({"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}, "LOKET_PUBLIC_BASE_URL is empty"),
    ({"LOKET_PUBLIC_BASE_URL": "http://127.0.0.1:8000", "STRIPE_SECRET_KEY": "sk_live_x",
      "STRIPE_WEBHOOK_SECRET": "whsec_x"}, "must be a public https address"),
    ({"LOKET_PUBLIC_BASE_URL": PUBLIC_URL, "STRIPE_WEBHOOK_SECRET": "whsec_x"}, "STRIPE_SECRET_KEY must be"),
    ({"LOKET_PUBLIC_BASE_URL": PUBLIC_URL, "STRIPE_SECRET_KEY": settings.EMULATOR_KEY,
      "STRIPE_WEBHOOK_SECRET": "whsec_x"}, "STRIPE_SECRET_KEY must be"),
    ({"LOKET_PUBLIC_BASE_URL": PUBLIC_URL, "STRIPE_SECRET_KEY": "sk_live_x",
      "STRIPE_WEBHOOK_SECRET": settings.EMULATOR_WEBHOOK_SECRET}, "STRIPE_WEBHOOK_SECRET must be"),
])
def test_deploy_refuses_before_touching_aws_without_a_public_url_or_real_stripe_secrets(monkeypatch, env, named):
    import boto3

    for name in ("LOKET_PUBLIC_BASE_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def no_aws(*args, **kwargs):
        raise AssertionError("deploy touched AWS before checking its inputs")

    monkeypatch.setattr(boto3, "Session", no_aws)
    with pytest.raises(SystemExit) as refused:
        deploy.deploy("prod")
    assert named in str(refused.value)
    assert "sk_live_x" not in str(refused.value) and "whsec_x" not in str(refused.value)


def test_the_packaged_app_names_its_secrets_and_holds_none_of_them():
    overrides = json.loads((ROOT / "infra" / "app-overrides.json").read_text())
    template = deploy.harden_template({**overrides, "Resources": {"RestAPI": {"Type": "AWS::Serverless::Api"}}})
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert "STRIPE_SECRET_KEY" not in variables and "STRIPE_WEBHOOK_SECRET" not in variables
    assert not {"StripeSecretKey", "StripeWebhookSecret"} & set(template["Parameters"])
    assert variables["LOKET_STRIPE_WEBHOOK_SECRET_PARAMETER"] == {"Fn::Sub": "/loket/${Stage}/stripe/webhook-secret"}
    assert variables["LOKET_STRIPE_SECRET_KEY_PARAMETER"] == {"Fn::Sub": "/loket/${Stage}/stripe/secret-key"}
    assert variables["LOKET_PUBLIC_BASE_URL"] == {"Ref": "PublicBaseUrl"}
    not_found = template["Resources"]["NoSuchRouteResponse"]["Properties"]
    assert not_found["ResponseType"] == "MISSING_AUTHENTICATION_TOKEN" and not_found["StatusCode"] == "404"
    assert not_found["ResponseParameters"]["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
    assert '"type": "https://loket.dev/problems/no-such-route"' in not_found["ResponseTemplates"]["application/json"]
