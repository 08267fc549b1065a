"""A venue's outgoing webhooks, managed by its ticketing lead
(docs/integrations.md "Outgoing webhooks"): endpoints, secret rotation, a
test ping, the delivery log, resend and replay. Request and answer models
are in chalicelib/domain/webhooks.py (the OpenAPI description reads them).
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import json_response, parse, route

webhooks = Blueprint(__name__)

NO_STORE = {"Cache-Control": "no-store"}  # secrets are shown once: never cached on the way
BASE = "/venues/{venue}/webhooks"


@route(webhooks, BASE + "/endpoints", methods=["GET"], venue_access="lead")
def list_endpoints(venue, *, store, caller):
    from chalicelib.services import webhooks as service

    return json_response({"endpoints": service.list_endpoints(store)}, headers=NO_STORE)


@route(webhooks, BASE + "/endpoints", methods=["POST"], venue_access="lead")
def create_endpoint(venue, *, store, caller):
    from chalicelib.domain.webhooks import NewEndpoint
    from chalicelib.services import webhooks as service

    return json_response(service.create_endpoint(store, parse(webhooks.current_request, NewEndpoint)), 201,
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
