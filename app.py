"""Loket API and workers: the Chalice app. Wiring only; the code is in chalicelib/."""

import os

from chalice import Chalice, Rate

from chalicelib.api.http import problem_response
from chalicelib.api.network import network
from chalicelib.api.public import public
from chalicelib.api.staff import staff
from chalicelib.api.stripe_in import stripe_in
from chalicelib.errors import Problem
from chalicelib.observability import logger

STAGE = os.environ.get("LOKET_STAGE", "local")

app = Chalice(app_name="loket")
app.register_blueprint(public)
app.register_blueprint(staff)
app.register_blueprint(network)
app.register_blueprint(stripe_in)


@app.middleware("http")
def problems_and_correlation(event, get_response):
    """Every error becomes problem+json carrying the request id a venue can
    quote when reporting it; unexpected ones are logged, never shown."""
    request_id = (event.context or {}).get("requestId")
    logger.set_correlation_id(request_id)
    try:
        response = get_response(event)
    except Problem as problem:
        logger.info("request refused", extra={"problem": problem.slug, "status": problem.status, "path": event.path})
        response = problem_response(problem, request_id, event.path)
    except Exception:
        logger.exception("unhandled error", extra={"path": event.path})
        response = problem_response(Problem("Something went wrong on our side. Quote the request id when you report "
                                            "it."), request_id, event.path)
        response.status_code = 500
    if request_id:
        response.headers["X-Request-Id"] = request_id
    return response


@app.on_sqs_message(queue=f"loket-{STAGE}-payment-events", batch_size=10)
def payment_events(event):
    from chalicelib.workers import payment_events as worker

    return worker.handle(event.to_dict())


@app.schedule(Rate(1, unit=Rate.MINUTES))
def every_minute(event):
    from chalicelib.workers import jobs

    return jobs.every_minute()
