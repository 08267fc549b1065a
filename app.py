"""Loket API and workers: the Chalice app. Wiring only; the code is in chalicelib/."""

import os

from chalice import Chalice, Rate

from chalicelib.api import http
from chalicelib.api.authorizer import gateway
from chalicelib.api.box_office import box_office
from chalicelib.api.door import door
from chalicelib.api.integrations import integrations
from chalicelib.api.my_tickets import my_tickets
from chalicelib.api.network import network
from chalicelib.api.operations import operations
from chalicelib.api.privacy import privacy
from chalicelib.api.public import public
from chalicelib.api.queue import queue
from chalicelib.api.staff import staff
from chalicelib.api.stripe_in import stripe_in
from chalicelib.api.v1 import v1
from chalicelib.api.venue_admin import venue_admin
from chalicelib.api.webhooks import webhooks
from chalicelib.observability import logger

STAGE = os.environ.get("LOKET_STAGE", "local")

if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    # Fail closed at cold start: a deployed function without its secrets'
    # names, its public URL or the rest of its configuration refuses to start
    # (the init error names what is missing) instead of falling back to the
    # emulator or localhost. Packaging (`chalice package`) imports this module
    # outside Lambda and is not affected.
    from chalicelib.settings import get_settings

    get_settings()
else:
    # chalice local and the test client: answer unknown paths as the deployed
    # API Gateway does (local/deploy.py `gateway_responses`).
    http.mirror_gateway_responses_locally()

app = Chalice(app_name="loket")
app.register_blueprint(public)
app.register_blueprint(queue)
app.register_blueprint(staff)
app.register_blueprint(box_office)
app.register_blueprint(door)
app.register_blueprint(network)
app.register_blueprint(stripe_in)
app.register_blueprint(my_tickets)
app.register_blueprint(operations)
app.register_blueprint(venue_admin)
app.register_blueprint(privacy)
app.register_blueprint(webhooks)
app.register_blueprint(integrations)
app.register_blueprint(v1)
app.register_blueprint(gateway)  # the API key authorizer: AWS only (usage plan)
app.register_middleware(http.framework_problems, "http")


@app.middleware("http")
def correlation_id(event, get_response):
    """Every log line and every answer carries the request id a venue can
    quote when it reports a problem."""
    request_id = (event.context or {}).get("requestId")
    logger.set_correlation_id(request_id)
    response = get_response(event)
    if request_id:
        response.headers["X-Request-Id"] = request_id
    return response


@app.on_sqs_message(queue=f"loket-{STAGE}-payment-events", batch_size=10)
def payment_events(event):
    from chalicelib.workers import payment_events as worker

    return worker.handle(event.to_dict(), event.context)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def every_minute(event):
    from chalicelib.workers import jobs

    return jobs.every_minute()


@app.schedule(Rate(1, unit=Rate.DAYS))
def daily_retention(event):
    """Each venue's retention policy, in the venue's own role (docs/privacy.md)."""
    from chalicelib.workers import jobs

    return jobs.apply_retention()


@app.lambda_function(name="onsale_worker")
def onsale_worker(event, context):
    """Every venue's on-sale queue (each venue stack maps its queue here)."""
    from chalicelib.workers import onsale

    return onsale.handle(event, context)


@app.lambda_function(name="webhook_worker")
def webhook_worker(event, context):
    """Every venue's outgoing webhooks (each venue stack maps its webhook queue here)."""
    from chalicelib.workers import webhooks as worker

    return worker.handle(event, context)


@app.lambda_function(name="mail_events")
def mail_events(event, context):
    """SES bounces and complaints from every venue's own topic (venue stacks subscribe it)."""
    from chalicelib.workers import mail_events as worker

    return worker.handle(event, context)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def onsale_inlet(event):
    from chalicelib.workers import onsale

    return onsale.inlet(event.context.get_remaining_time_in_millis)
