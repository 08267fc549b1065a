"""Stripe webhooks in: verify with Stripe's own verifier, queue, answer fast.

The payment-events worker settles the basket; it reads the payment's state
from Stripe, so the queue message carries only ids.

Cold start: the payments adapter (and with it the secrets adapter) is
imported by the view when the first webhook arrives (docs/decisions.md,
"Cold start").
"""

from __future__ import annotations

import json

from chalice import Blueprint

from chalicelib.api.http import route, header, json_response
from chalicelib.observability import logger
from chalicelib.settings import get_settings

stripe_in = Blueprint(__name__)
SETTLING_EVENTS = {"checkout.session.completed", "checkout.session.expired",
                   "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed"}


@route(stripe_in, "/stripe/webhook", methods=["POST"], content_types=["application/json"])
def stripe_webhook():
    from chalicelib.adapters import aws, payments

    request = stripe_in.current_request
    event = payments.verify_webhook(request.raw_body or b"", header(request, "stripe-signature"))
    session = event.get("data", {}).get("object", {})
    basket_id = (session.get("metadata") or {}).get("basket_id")
    if event.get("type") in SETTLING_EVENTS and basket_id:
        aws.client("sqs").send_message(
            QueueUrl=get_settings().payment_events_queue_url,
            MessageBody=json.dumps({"event_id": event["id"], "type": event["type"], "basket_id": basket_id}))
    # The basket id links this line to the buyer's checkout and to the worker's settlement (docs/operations.md).
    logger.info("stripe event received", extra={"stripe_event_id": event.get("id"), "type": event.get("type"),
                                                 "basket_id": basket_id})
    return json_response({"received": True})
