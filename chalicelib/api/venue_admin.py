"""The venue lead's management API: unpublish, cancel and delete events,
change and remove performances, the sales overview, the orders list with
search, and the venue's staff accounts. Creating and editing events,
pictures, publishing and inviting staff are in api/staff.py.

Every route is the lead's (`venue_access="lead"`): staff of another venue
get the same 404 as for a missing venue, a clerk gets 403.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.http import json_response, parse, route
from chalicelib.errors import MalformedRequest

venue_admin = Blueprint(__name__)

NO_STORE = {"Cache-Control": "no-store"}


@route(venue_admin, "/venues/{venue}/events/{event_id}/unpublish", methods=["POST"], venue_access="lead")
def unpublish_event(venue, event_id, *, store, caller):
    from chalicelib.services import event_admin

    return json_response(event_admin.unpublish(bootstrap.network(), store, event_id).model_dump(mode="json"))


@route(venue_admin, "/venues/{venue}/events/{event_id}/cancel", methods=["POST"], venue_access="lead")
def cancel_event(venue, event_id, *, store, caller):
    """No more sales; the catalogue shows it cancelled; answers the orders to refund."""
    from chalicelib.services import event_admin

    return json_response(event_admin.cancel(bootstrap.network(), store, event_id))


@route(venue_admin, "/venues/{venue}/events/{event_id}", methods=["DELETE"], venue_access="lead")
def delete_event(venue, event_id, *, store, caller):
    """Drafts only: never published, nothing sold or held (409 otherwise)."""
    from chalicelib.services import event_admin

    event_admin.delete_draft(store, event_id)
    return json_response({"deleted": event_id})


@route(venue_admin, "/venues/{venue}/events/{event_id}/performances/{performance_id}", methods=["PUT"],
       venue_access="lead")
def change_performance(venue, event_id, performance_id, *, store, caller):
    """Start, hall and capacity (never below the places sold and held)."""
    from chalicelib.domain.model import NewPerformance
    from chalicelib.services import event_admin

    body = parse(venue_admin.current_request, NewPerformance)
    performance = event_admin.change_performance(bootstrap.network(), store, event_id, performance_id, body)
    return json_response(performance.model_dump(mode="json"))


@route(venue_admin, "/venues/{venue}/events/{event_id}/performances/{performance_id}", methods=["DELETE"],
       venue_access="lead")
def remove_performance(venue, event_id, performance_id, *, store, caller):
    from chalicelib.services import event_admin

    event_admin.remove_performance(bootstrap.network(), store, event_id, performance_id)
    return json_response({"deleted": performance_id})


@route(venue_admin, "/venues/{venue}/events/{event_id}/performances/{performance_id}/cancel", methods=["POST"],
       venue_access="lead")
def cancel_performance(venue, event_id, performance_id, *, store, caller):
    from chalicelib.services import event_admin

    return json_response(event_admin.cancel(bootstrap.network(), store, event_id, performance_id))


@route(venue_admin, "/venues/{venue}/sales", methods=["GET"], venue_access="lead")
def sales_overview(venue, *, store, caller):
    """Per performance: sold, held, available, revenue by price type and channel (no buyers)."""
    from chalicelib.services import event_admin

    return json_response({"performances": event_admin.sales_overview(store)}, headers=NO_STORE)


@route(venue_admin, "/venues/{venue}/orders", methods=["GET"], venue_access="lead")
def list_orders(venue, *, store, caller):
    """Newest first, `limit` (1-100) a page, `cursor` from the previous answer's
    `next`; `q` an order number or part of a name or e-mail (the buyers found
    are shown, and that read is in the audit log); `event` only that event's orders."""
    from chalicelib.adapters import audit_log
    from chalicelib.services import event_admin

    request = venue_admin.current_request
    params = request.query_params or {}
    raw_limit = params.get("limit", "25")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise MalformedRequest("limit must be a whole number from 1 to 100.")
    query = params.get("q", "")[:200]
    page = event_admin.find_orders(store, query=query, cursor=params.get("cursor"), limit=int(raw_limit),
                                   event_id=params.get("event"))
    if query.strip():
        # Written before the buyers are shown: a read that cannot be recorded is not shown.
        audit_log.record(store, actor=caller.username, role="lead", action="orders.search-read",
                         subject={"order_ids": [o["order_id"] for o in page["orders"]]},
                         route="GET /venues/{venue}/orders", purpose="finding an order",
                         request_id=(request.context or {}).get("requestId"))
    return json_response(page, headers=NO_STORE)


@route(venue_admin, "/venues/{venue}/staff", methods=["GET"], venue_access="lead")
def list_staff(venue, *, store, caller):
    from chalicelib.services import staff_accounts

    return json_response({"staff": staff_accounts.team(venue)}, headers=NO_STORE)


@route(venue_admin, "/venues/{venue}/staff/{username}", methods=["PUT"], venue_access="lead")
def change_staff(venue, username, *, store, caller):
    """`{"role": "lead"|"clerk"}` and/or `{"enabled": false|true}`, for the venue's own staff only."""
    from chalicelib.api.staff_models import StaffChange
    from chalicelib.services import staff_accounts

    body = parse(venue_admin.current_request, StaffChange)
    return json_response(staff_accounts.change(venue, caller, username, role=body.role, enabled=body.enabled))
