"""Door scanning for a venue's staff (clerk or lead): the ticket check, offline
scans synced later, today's performances and each one's check-in list.

`POST /venues/{venue}/tickets/check` names the code and, for a door, the
performance being checked, the door, a nonce and when it was scanned; it
answers 200 when the ticket admits its holder now, else problem+json whose
`type` (ticket-already-used, ticket-other-performance, ticket-invalid,
ticket-order-not-paid) the door page shows, with `result` and the details
(when and where it was first admitted; which performance it is for). Rules:
domain/door.py; docs/staff.md, "Door scanning".
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import json_response, parse, route

door = Blueprint(__name__)

NO_STORE = {"Cache-Control": "no-store"}


@route(door, "/venues/{venue}/tickets/check", methods=["POST"], venue_access="clerk")
def check_ticket(venue, *, store, caller):
    """With `performance_id`, `door`, `nonce` and `scanned_at`: a door scan.
    Without them: `{"code"}` looks the ticket up, `{"code", "check_in": true}`
    admits it for whichever performance it is for (the API's own door)."""
    import uuid

    from chalicelib.api.staff_models import TicketCheck
    from chalicelib.domain.door import Scan
    from chalicelib.domain.model import utcnow
    from chalicelib.services import door as door_service, sales

    body = parse(door.current_request, TicketCheck)
    if body.performance_id is None and not body.check_in:
        return json_response(sales.verify_ticket(store, body.code))
    performance_id = body.performance_id or door_service.performance_of(store, body.code)
    scan = Scan(code=body.code, performance_id=performance_id, door=body.door or "API",
                nonce=body.nonce or uuid.uuid4().hex, scanned_at=body.scanned_at or utcnow())
    return json_response(door_service.scan(store, scan))


@route(door, "/venues/{venue}/door/scans", methods=["POST"], venue_access="clerk")
def sync_offline_scans(venue, *, store, caller):
    """Scans a door made while offline: `{"scans": [{code, performance_id, door, nonce, scanned_at}]}`.
    Each one's verdict; the earliest admission of a ticket wins, later ones are duplicates."""
    from chalicelib.domain.door import OfflineScans
    from chalicelib.services import door as door_service

    return json_response(door_service.sync(store, parse(door.current_request, OfflineScans)))


@route(door, "/venues/{venue}/door/performances", methods=["GET"], venue_access="clerk")
def door_performances(venue, *, store, caller):
    """Performances from 12 hours ago onwards, soonest first, for choosing the one at the door."""
    from chalicelib.services import door as door_service

    return json_response({"performances": door_service.upcoming(store)}, headers=NO_STORE)


@route(door, "/venues/{venue}/door/performances/{performance_id}", methods=["GET"], venue_access="clerk")
def door_check_ins(venue, performance_id, *, store, caller):
    """The check-in list: admitted / sold, who got in when at which door, and duplicates."""
    from chalicelib.services import door as door_service

    return json_response(door_service.check_ins(store, performance_id), headers=NO_STORE)
