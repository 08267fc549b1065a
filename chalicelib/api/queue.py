"""Buyer API of the waiting room (docs/onsale.md): join the line of a
high-demand performance, and ask where you are. The line's status for
everyone is a static file; these two calls are all the Lambda work a buyer
causes while waiting.

Cold start: importing this module only registers the routes; the views
import the join request model, the waiting-room service and the buyer
session check when first called (docs/decisions.md, "Cold start")."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.http import header, idempotency_key, json_response, parse, route
from chalicelib.api.public import SESSION_HEADER

queue = Blueprint(__name__)
TOKEN_HEADER = "X-Queue-Token"


@route(queue, "/queue/{venue}/{event_id}/{performance_id}", methods=["POST"], venue_access="public")
def join_line(venue, event_id, performance_id, *, store):
    from chalicelib.api.public import buyer_session
    from chalicelib.domain.onsale import JoinRequest
    from chalicelib.services import onsale as waiting_room

    request = queue.current_request
    wanted = parse(request, JoinRequest)
    idempotency_key(request, required=True, min_length=16)  # as every creating POST; the place is per session
    session, buyer = buyer_session(request)
    answer = waiting_room.join(bootstrap.onsale(store), event_id, performance_id, wanted, buyer)
    return json_response({**answer, "buyer_session": session}, 202,
                         headers={SESSION_HEADER: session, "Cache-Control": "no-store"})


@route(queue, "/queue/{venue}/entries/{entry_id}", methods=["GET"], venue_access="public")
def read_place(venue, entry_id, *, store):
    from chalicelib.api.public import buyer_session
    from chalicelib.services import onsale as waiting_room

    request = queue.current_request
    session, buyer = buyer_session(request, issue=False)
    answer = waiting_room.entry_status(bootstrap.onsale(store), entry_id, header(request, TOKEN_HEADER), buyer)
    return json_response(answer, headers={"Cache-Control": "no-store"})
