"""'My tickets' without an account (services/my_tickets.py, docs/my-tickets.md).

  POST /my-tickets/link      {email, language}: 202 whether or not the address is known
  POST /my-tickets/session   {link}: uses the one-time link, answers a short session (a retry
                             with the same Idempotency-Key gets one too)
  GET  /my-tickets           (X-My-Tickets-Session) the buyer's tickets at every venue
  GET  /my-tickets/{venue}/orders/{order_id}/documents   fresh 5-minute links to its PDF and .ics
  POST /my-tickets/{venue}/orders/{order_id}/resend   that venue sends the confirmation again

The link reaches the page in the URL's fragment and the API in a body, never
in a request line: an encrypted link still should not sit in access logs.

Cold start: importing this module only registers the routes.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.http import header, idempotency_key, json_response, parse, route

my_tickets = Blueprint(__name__)
SESSION_HEADER = "X-My-Tickets-Session"
NO_STORE = {"Cache-Control": "no-store"}


def _client(request) -> str:
    """The address the edge saw. CloudFront sends the viewer's address when
    the API's origin request policy includes CloudFront-Viewer-Address (the
    local edge does the same); without it, API Gateway's source address."""
    viewer = header(request, "cloudfront-viewer-address")
    if viewer:
        return viewer.rpartition(":")[0] or viewer
    return ((request.context or {}).get("identity") or {}).get("sourceIp") or "unknown"


@route(my_tickets, "/my-tickets/link", methods=["POST"], venue_access="public")
def request_link(*, stores):
    from chalicelib.api.my_tickets_models import LinkRequest
    from chalicelib.services import my_tickets as service

    request = my_tickets.current_request
    asked = parse(request, LinkRequest)
    service.request_link(bootstrap.network(), stores, email=asked.email, language=asked.language,
                         client=_client(request), request_key=idempotency_key(request, required=False))
    return json_response({"status": "accepted", "link_minutes": service.rules.LINK_SECONDS // 60}, 202,
                         headers=NO_STORE)


@route(my_tickets, "/my-tickets/session", methods=["POST"])
def open_link():
    from chalicelib.api.my_tickets_models import OpenLink
    from chalicelib.services import my_tickets as service

    request = my_tickets.current_request
    opened = parse(request, OpenLink)
    return json_response(service.open_link(bootstrap.network(), opened.link, idempotency_key(request, required=False)),
                         201, headers=NO_STORE)


@route(my_tickets, "/my-tickets", methods=["GET"], venue_access="public")
def list_tickets(*, stores):
    from chalicelib.services import my_tickets as service

    session = header(my_tickets.current_request, SESSION_HEADER)
    return json_response(service.tickets(bootstrap.network(), stores, session), headers=NO_STORE)


@route(my_tickets, "/my-tickets/{venue}/orders/{order_id}/documents", methods=["GET"], venue_access="public")
def order_documents(venue, order_id, *, store):
    from chalicelib.services import my_tickets as service

    session = header(my_tickets.current_request, SESSION_HEADER)
    return json_response(service.documents(store, session, order_id), headers=NO_STORE)


@route(my_tickets, "/my-tickets/{venue}/orders/{order_id}/resend", methods=["POST"], venue_access="public")
def resend_confirmation(venue, order_id, *, store):
    from chalicelib.services import my_tickets as service

    request = my_tickets.current_request
    answer = service.resend(bootstrap.network(), store, header(request, SESSION_HEADER), order_id,
                            idempotency_key(request, required=False))
    return json_response(answer, 202, headers=NO_STORE)
