"""The box office API for a venue's staff (the counter page, staff/kassa.html).

Every route is a venue route behind the gate: staff of another venue get 404.
A sale needs an Idempotency-Key (a retried submit answers the same order).
Finding an order reads buyers' personal data: each search that shows orders
is written to the venue's audit log first (who, when, which orders, from
which page). Rules: domain/box_office.py; use cases: services/box_office.py;
docs/staff.md, "Box office".
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.http import idempotency_key, json_response, parse, route

box_office = Blueprint(__name__)

NO_STORE = {"Cache-Control": "no-store"}


@route(box_office, "/venues/{venue}/box-office/performances", methods=["GET"], venue_access="clerk")
def counter_performances(venue, *, store, caller):
    """Today's performances first, then the coming ones, with the counter's prices and places left."""
    from chalicelib.services import box_office as service

    return json_response(service.performances(store), headers=NO_STORE)


@route(box_office, "/venues/{venue}/box-office/sales", methods=["POST"], venue_access="clerk")
def sell(venue, *, store, caller):
    from chalicelib.domain.box_office import CounterSale
    from chalicelib.services import box_office as service

    request = box_office.current_request
    key = idempotency_key(request, required=True, min_length=16)
    body = parse(request, CounterSale)
    return json_response(service.sell(bootstrap.network(), store, caller.username, body, key), 201)


@route(box_office, "/venues/{venue}/box-office/orders/{order_id}", methods=["GET"], venue_access="clerk")
def counter_order(venue, order_id, *, store, caller):
    """A counter order's state and its documents (print); no buyer data."""
    from chalicelib.services import box_office as service

    return json_response(service.counter_order(store, order_id), headers=NO_STORE)


@route(box_office, "/venues/{venue}/box-office/orders/{order_id}/mail", methods=["POST"], venue_access="clerk")
def mail_tickets(venue, order_id, *, store, caller):
    """Send the order's tickets to the address the buyer gives at the counter (Idempotency-Key required)."""
    from chalicelib.domain.box_office import CounterMail
    from chalicelib.services import box_office as service

    request = box_office.current_request
    key = idempotency_key(request, required=True, min_length=16)
    body = parse(request, CounterMail)
    return json_response(service.mail_again(bootstrap.network(), store, order_id, body.email, body.name or "",
                                            body.language, key))


@route(box_office, "/venues/{venue}/box-office/orders/{order_id}/cancel", methods=["POST"], venue_access="clerk")
def cancel_order(venue, order_id, *, store, caller):
    """Cancel and refund within the venue's policy; a repeat answers the first."""
    from chalicelib.services import box_office as service

    return json_response(service.cancel(bootstrap.network(), store, caller.username, order_id))


@route(box_office, "/venues/{venue}/box-office/search", methods=["GET"], venue_access="clerk")
def find_orders(venue, *, store, caller):
    """`?q=` an order number, a ticket code, an e-mail address or part of a name;
    `&page=` the staff page asking (for the audit log)."""
    from chalicelib.adapters import audit_log
    from chalicelib.services import box_office as service

    request = box_office.current_request
    params = request.query_params or {}
    is_lead = caller.role_at(venue) == "lead"
    show_buyer = is_lead or store.get_staff_policy()["clerks_see_buyer"]
    found = service.find(store, params.get("q", ""), show_buyer=show_buyer)
    if found:
        page = params.get("page", "")[:40].replace(" ", "-").replace("@", "") or "api"
        audit_log.record(store, actor=caller.username, role=caller.role_at(venue) or "", action="orders.search",
                         subject={"order_ids": [o["order_id"] for o in found]},
                         route=f"GET /venues/{{venue}}/box-office/search ({page})",
                         purpose="finding an order at the counter", request_id=(request.context or {}).get("requestId"))
    return json_response({"orders": found, "buyer_shown": show_buyer}, headers=NO_STORE)


@route(box_office, "/venues/{venue}/box-office/shift", methods=["GET"], venue_access="clerk")
def my_shift(venue, *, store, caller):
    """The signed-in clerk's open cash drawer, or {"shift": null}."""
    from chalicelib.services import box_office as service

    return json_response({"shift": service.current_shift(store, caller.username)}, headers=NO_STORE)


@route(box_office, "/venues/{venue}/box-office/shift", methods=["POST"], venue_access="clerk")
def open_shift(venue, *, store, caller):
    from chalicelib.domain.box_office import OpenShift
    from chalicelib.services import box_office as service

    body = parse(box_office.current_request, OpenShift)
    return json_response({"shift": service.open_shift(store, caller.username, body.float)}, 201)


@route(box_office, "/venues/{venue}/box-office/shift/close", methods=["POST"], venue_access="clerk")
def close_shift(venue, *, store, caller):
    from chalicelib.domain.box_office import CloseShift
    from chalicelib.services import box_office as service

    body = parse(box_office.current_request, CloseShift)
    return json_response({"shift": service.close_shift(store, caller.username, body.counted)})


@route(box_office, "/venues/{venue}/box-office/report", methods=["GET"], venue_access="clerk")
def report(venue, *, store, caller):
    """`?day=YYYY-MM-DD` (today by default): the lead sees every clerk, a clerk their own shifts."""
    from chalicelib.domain.model import utcnow
    from chalicelib.services import box_office as service

    day = (box_office.current_request.query_params or {}).get("day") or service.venue_day(utcnow())
    clerk = None if caller.role_at(venue) == "lead" else caller.username
    return json_response(service.day_report(store, day, clerk), headers=NO_STORE)


@route(box_office, "/venues/{venue}/box-office/policy", methods=["GET"], venue_access="clerk")
def read_policy(venue, *, store, caller):
    from chalicelib.services import box_office as service

    return json_response(service.refund_policy(store).model_dump())


@route(box_office, "/venues/{venue}/box-office/policy", methods=["PUT"], venue_access="lead")
def set_policy(venue, *, store, caller):
    from chalicelib.domain.box_office import RefundPolicy
    from chalicelib.services import box_office as service

    body = parse(box_office.current_request, RefundPolicy)
    return json_response(service.set_refund_policy(store, body, caller.username).model_dump())
