"""A venue lead's view of its own operations and its line to the supplier
(docs/operations.md "A venue's health"). On the venue's own role, like every
venue route; nothing here reads buyers' data."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import json_response, parse, route

operations = Blueprint(__name__)


@route(operations, "/venues/{venue}/health", methods=["GET"], venue_access="lead")
def venue_health(venue, *, store, caller):
    """Its queues' depths, its failed requests (ids and kinds) of the last 7 days, its support requests."""
    from chalicelib.services import venue_health as service

    return json_response(service.health(store), headers={"Cache-Control": "no-store"})


@route(operations, "/venues/{venue}/support-requests", methods=["POST"], venue_access="lead")
def ask_supplier(venue, *, store, caller):
    """To the supplier, with the venue's context attached (request ids, queue depths, error kinds)."""
    from chalicelib.services import venue_health as service

    body = parse(operations.current_request, service.SupportRequest)
    return json_response(service.ask_supplier(store, body, requested_by=caller.username), 201)
