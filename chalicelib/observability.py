"""Powertools logger and metrics, shared by every entry point.

No Tracer here: importing the X-Ray SDK costs ~150 ms of every cold start;
API Gateway and Lambda tracing can be switched on in the stack instead.
Log records carry ids (venue, event, order, basket, request), never names,
e-mail addresses or ticket codes.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

logger = Logger(service="loket")

NAMESPACE = "Loket"


def count(name: str, venue: str, value: int = 1) -> None:
    """Emit one EMF metric with a `venue` dimension, so each venue's sales,
    holds and failures can be graphed and alarmed on separately."""
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="venue", value=venue)


def payment_provider_call(*, failed: bool) -> None:
    """One Stripe call, and whether it failed after its retries (unavailable,
    no answer, still rate limited). The stage's Stripe error-rate alarm
    (infra/platform.yaml StripeErrorRateAlarm) divides the two; a refusal (4xx)
    is an answer, not a failure of Stripe."""
    for name in ("PaymentProviderCalls", "PaymentProviderErrors") if failed else ("PaymentProviderCalls",):
        with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
            metric.add_dimension(name="provider", value="stripe")
