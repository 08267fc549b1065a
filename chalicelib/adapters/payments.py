"""Stripe, through the real SDK. With no STRIPE_SECRET_KEY the same calls go
to the local Stripe emulator (`local/stripe_emulator.py`).

stripe is imported here only, and only when a payment call is made, so the
API's cold start does not pay for it.
"""

from __future__ import annotations

import random
import time
from datetime import datetime
from functools import lru_cache
from typing import Any

from chalicelib import observability
from chalicelib.adapters import secrets
from chalicelib.errors import InvalidSignature, PaymentProviderUnavailable
from chalicelib.settings import get_settings


@lru_cache(maxsize=1)
def _client():
    import stripe

    stripe.enable_telemetry = False
    settings = get_settings()
    # The SDK retries connection errors and 5xx with the same idempotency key.
    kwargs: dict[str, Any] = {"max_network_retries": 4}
    if settings.uses_stripe_emulator:
        kwargs["base_addresses"] = {"api": settings.stripe_api_base}
    return stripe.StripeClient(secrets.stripe_secret_key(), **kwargs)


class Refused(Exception):
    """Stripe refused the request as it stands (4xx): sending it again changes nothing."""

    def __init__(self, code: str | None, message: str) -> None:
        super().__init__(message)
        self.code = code


RATE_LIMIT_ATTEMPTS = 4


def _call(fn, *args, **kwargs):
    """One Stripe call. Rate limits (which the SDK does not retry) are retried
    here with jittered backoff; what still fails is either 'unavailable' (the
    outcome may be unknown: retry with the same idempotency key) or Refused."""
    import stripe

    failed = True
    try:
        for attempt in range(RATE_LIMIT_ATTEMPTS):
            try:
                answer = fn(*args, **kwargs)
                failed = False
                return answer
            except stripe.RateLimitError as error:
                if attempt + 1 == RATE_LIMIT_ATTEMPTS:
                    raise PaymentProviderUnavailable("The payment provider is busy; try again in a moment.") from error
                time.sleep(random.uniform(0, 0.25 * 2 ** attempt))
            except (stripe.APIConnectionError, stripe.APIError) as error:
                raise PaymentProviderUnavailable("The payment provider did not answer; try again in a moment.") from error
            except stripe.InvalidRequestError as error:
                failed = False  # Stripe answered: the request is refused, Stripe works
                raise Refused(error.code, error.user_message or str(error)) from error
    finally:
        observability.payment_provider_call(failed=failed)


def create_checkout(*, basket_id: str, lines: list[dict[str, Any]], customer_email: str, expires_at: datetime,
                    locale: str) -> dict[str, Any]:
    settings = get_settings()
    params = {
        "mode": "payment",
        "line_items": [
            {"quantity": line["quantity"],
             "price_data": {"currency": "eur", "unit_amount": line["unit_amount"],
                            "product_data": {"name": line["name"]}}}
            for line in lines
        ],
        "customer_email": customer_email,
        "client_reference_id": basket_id,
        "metadata": {"basket_id": basket_id},
        "payment_intent_data": {"transfer_group": basket_id, "metadata": {"basket_id": basket_id}},
        "expires_at": int(expires_at.timestamp()),
        "locale": locale,
        "success_url": f"{settings.public_base_url}/order.html?basket={basket_id}",
        "cancel_url": f"{settings.public_base_url}/basket.html?cancelled={basket_id}",
    }
    session = _call(_client().v1.checkout.sessions.create, params=params,
                    options={"idempotency_key": f"checkout-{basket_id}"})
    return {"id": session.id, "url": session.url, "expires_at": session.expires_at}


def retrieve_checkout(session_id: str) -> dict[str, Any]:
    session = _call(_client().v1.checkout.sessions.retrieve, session_id).to_dict()
    return {"id": session["id"], "status": session["status"], "payment_status": session["payment_status"],
            "payment_intent": session.get("payment_intent"), "amount_total": session.get("amount_total"),
            "basket_id": (session.get("metadata") or {}).get("basket_id")}


def expire_checkout(session_id: str) -> None:
    try:
        _call(_client().v1.checkout.sessions.expire, session_id)
    except Refused:
        pass  # already complete or expired: the caller re-reads the status


def intent_status(payment_intent_id: str) -> str:
    """'succeeded', 'processing' (a bank payment on its way), 'requires_payment_method' (it failed), ..."""
    return _call(_client().v1.payment_intents.retrieve, payment_intent_id).status


def charge_of(payment_intent_id: str) -> str | None:
    intent = _call(_client().v1.payment_intents.retrieve, payment_intent_id)
    return intent.latest_charge if isinstance(intent.latest_charge, str) else getattr(intent.latest_charge, "id", None)


def refund(payment_intent_id: str, *, idempotency_key: str, amount: int | None = None) -> str:
    """Money back to the buyer: `amount` cents of the payment (one venue's part of a basket), or the
    whole payment without it (a counter order, whose payment is its own); the refund's id."""
    params: dict[str, Any] = {"payment_intent": payment_intent_id}
    if amount is not None:
        params["amount"] = amount
    result = _call(_client().v1.refunds.create, params=params, options={"idempotency_key": idempotency_key})
    return result.id


def reverse_transfer(transfer_id: str, *, amount: int, idempotency_key: str) -> str:
    """Take `amount` cents of a payout back from the venue's account (its order refunded); the reversal's id."""
    result = _call(_client().v1.transfers.reversals.create, transfer_id, params={"amount": amount},
                   options={"idempotency_key": idempotency_key})
    return result.id


def transfer(*, amount: int, destination: str, transfer_group: str, source_transaction: str | None,
             idempotency_key: str) -> str:
    params: dict[str, Any] = {"amount": amount, "currency": "eur", "destination": destination,
                              "transfer_group": transfer_group}
    if source_transaction:
        params["source_transaction"] = source_transaction
    result = _call(_client().v1.transfers.create, params=params, options={"idempotency_key": idempotency_key})
    return result.id


def create_connected_account(*, venue: str, name: str) -> str:
    account = _call(_client().v1.accounts.create,
                    params={"type": "express", "country": "BE", "business_profile": {"name": name},
                            # Without the transfers capability Stripe refuses every payout to the venue.
                            "capabilities": {"transfers": {"requested": True}, "card_payments": {"requested": True}},
                            "metadata": {"loket_venue": venue}},
                    options={"idempotency_key": f"account-{get_settings().stage}-{venue}"})
    return account.id


def verify_webhook(payload: bytes, signature: str | None) -> dict[str, Any]:
    import stripe

    if not signature:
        raise InvalidSignature("Missing Stripe-Signature header.")
    try:
        secret = secrets.stripe_webhook_secret()  # before parsing: a missing secret never accepts anything
        event = stripe.Webhook.construct_event(payload, signature, secret)
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise InvalidSignature("The Stripe signature does not match this payload.") from error
    return event.to_dict() if hasattr(event, "to_dict") else dict(event)
