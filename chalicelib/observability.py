"""Powertools logger and metrics, shared by every entry point.

No Tracer here: importing the X-Ray SDK costs ~150 ms of every cold start;
API Gateway and Lambda tracing can be switched on in the stack instead.
Log records carry ids (venue, event, order, basket, request), never names,
e-mail addresses or ticket codes.
"""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

logger = Logger(service="loket")


class RedactPersonalData(logging.Filter):
    """The last line of defence (docs/privacy.md): whatever a log call was given,
    e-mail addresses and phone numbers in its message, its extra fields and its
    exception text leave the function as "[redacted]"."""

    def filter(self, record: logging.LogRecord) -> bool:
        from chalicelib.domain.privacy import redact

        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args) \
                if isinstance(record.args, tuple) else record.args
        for name, value in list(vars(record).items()):
            if isinstance(value, str) and name not in _RECORD_FIELDS:
                setattr(record, name, redact(value))
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            redacted = redact(str(error))
            if redacted != str(error):  # keep the type and traceback, lose the message's personal data
                stand_in = RuntimeError(f"{type(error).__name__}: {redacted}")
                record.exc_info = (RuntimeError, stand_in, record.exc_info[2])
                record.exc_text = None
        return True


_RECORD_FIELDS = {"name", "levelname", "pathname", "filename", "module", "funcName", "processName", "threadName",
                  "taskName"}
for _handler in logging.getLogger("loket").handlers:
    _handler.addFilter(RedactPersonalData())

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
