"""A venue's outgoing webhooks (docs/integrations.md "Outgoing webhooks"):
endpoints, secret rotation, a test ping, the delivery log, resend and
replay. Each view answers twice: to the venue's ticketing lead at
/venues/{venue}/webhooks/... (staff token) and to the venue's own
integration at /v1/venues/{venue}/webhooks/... (API key with the scope
`webhooks:manage`). Request and answer models are in
chalicelib/domain/webhooks.py.
"""

from __future__ import annotations

from typing import Any, Callable

from chalice import Blueprint

from chalicelib.api import http
from chalicelib.api.http import idempotency_key, json_response, parse

webhooks = Blueprint(__name__)

NO_STORE = {"Cache-Control": "no-store"}  # secrets are shown once: never cached on the way
BASE = "/venues/{venue}/webhooks"
SCOPE = "webhooks:manage"


def route(blueprint: Any, path: str, *, venue_access: str, **options: Any) -> Callable:
    """The lead's route and the same view for an API key with `webhooks:manage` under /v1."""
    def register(view: Callable) -> Callable:
        def for_key(**params: Any) -> Any:
            return view(**params)

        for_key.__name__ = f"{view.__name__}_v1"
        for_key.__doc__ = view.__doc__
        http.route(blueprint, "/v1" + path, venue_access="api-key", scope=SCOPE, **options)(for_key)
        return http.route(blueprint, path, venue_access=venue_access, **options)(view)

    return register


@route(webhooks, BASE + "/endpoints", methods=["GET"], venue_access="lead")
def list_endpoints(venue, *, store, caller):
    from chalicelib.services import webhooks as service

    return json_response({"endpoints": service.list_endpoints(store)}, headers=NO_STORE)


@route(webhooks, BASE + "/endpoints", methods=["POST"], venue_access="lead")
def create_endpoint(venue, *, store, caller):
    from chalicelib.domain.webhooks import NewEndpoint
    from chalicelib.services import webhooks as service

    request = webhooks.current_request
    return json_response(service.create_endpoint(store, parse(request, NewEndpoint),
                                                 idempotency_key=idempotency_key(request, required=False)), 201,
                         headers=NO_STORE)


@route(webhooks, BASE + "/endpoints/{endpoint_id}", methods=["PATCH"], venue_access="lead")
def update_endpoint(venue, endpoint_id, *, store, caller):
    from chalicelib.domain.webhooks import EndpointChange
    from chalicelib.services import webhooks as service

    return json_response(service.update_endpoint(store, endpoint_id, parse(webhooks.current_request, EndpointChange)),
                         headers=NO_STORE)


@route(webhooks, BASE + "/endpoints/{endpoint_id}", methods=["DELETE"], venue_access="lead")
def delete_endpoint(venue, endpoint_id, *, store, caller):
    from chalicelib.services import webhooks as service

    service.delete_endpoint(store, endpoint_id)
    return json_response({"deleted": endpoint_id})


@route(webhooks, BASE + "/endpoints/{endpoint_id}/rotate-secret", methods=["POST"], venue_access="lead")
def rotate_secret(venue, endpoint_id, *, store, caller):
    from chalicelib.domain.webhooks import SecretRotation
    from chalicelib.services import webhooks as service

    request = webhooks.current_request
    rotation = parse(request, SecretRotation) if request.raw_body else SecretRotation()
    return json_response(service.rotate_secret(store, endpoint_id, rotation), headers=NO_STORE)


@route(webhooks, BASE + "/endpoints/{endpoint_id}/ping", methods=["POST"], venue_access="lead")
def ping(venue, endpoint_id, *, store, caller):
    from chalicelib.services import webhooks as service

    return json_response(service.ping(store, endpoint_id), 202)


@route(webhooks, BASE + "/deliveries", methods=["GET"], venue_access="lead")
def list_deliveries(venue, *, store, caller):
    from chalicelib.services import webhooks as service

    query = webhooks.current_request.query_params or {}
    return json_response({"deliveries": service.list_deliveries(store, query.get("endpoint_id"), query.get("status"))})


@route(webhooks, BASE + "/deliveries/{delivery_id}/resend", methods=["POST"], venue_access="lead")
def resend(venue, delivery_id, *, store, caller):
    from chalicelib.services import webhooks as service

    return json_response(service.resend(store, delivery_id), 202)


@route(webhooks, BASE + "/replay", methods=["POST"], venue_access="lead")
def replay(venue, *, store, caller):
    from chalicelib.domain.webhooks import Replay
    from chalicelib.services import webhooks as service

    return json_response(service.replay(store, parse(webhooks.current_request, Replay)), 202)
