"""Venue staff API: a venue's own events, orders, customers and door scanning.

Every route is under /venues/{venue}/ and first checks that the signed-in
staff member belongs to that venue; only then are the venue's credentials
used. Staff of another venue, and network admins, get 404.
"""

from __future__ import annotations

from typing import Annotated

from chalice import Blueprint
from pydantic import StringConstraints

from chalicelib import bootstrap
from chalicelib.adapters import identity
from chalicelib.api.http import route, json_response, parse, staff as signed_in, venue_staff
from chalicelib.domain.model import NewEvent, NewPerformance, Strict
from chalicelib.errors import NotFound
from chalicelib.services import events, sales

staff = Blueprint(__name__)


class SignIn(Strict):
    username: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class TicketCheck(Strict):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    check_in: bool = False


class NewStaff(Strict):
    username: Annotated[str, StringConstraints(pattern=r"^[a-z0-9._-]{3,64}$")]
    password: Annotated[str, StringConstraints(min_length=12, max_length=256)]
    role: Annotated[str, StringConstraints(pattern=r"^(lead|clerk)$")] = "clerk"


@route(staff, "/staff/session", methods=["POST"])
def sign_in():
    body = parse(staff.current_request, SignIn)
    return json_response(identity.sign_in(body.username, body.password))


@route(staff, "/staff/me", methods=["GET"])
def me():
    who = signed_in(staff.current_request)
    return {"username": who.username, "network_admin": who.is_network_admin, "venues": who.venues}


@route(staff, "/venues/{venue}/events", methods=["GET"])
def list_events(venue):
    venue_staff(staff.current_request, venue)
    return json_response([e.model_dump(mode="json") for e in bootstrap.store_for(venue).list_events()])


@route(staff, "/venues/{venue}/events", methods=["POST"])
def create_event(venue):
    venue_staff(staff.current_request, venue, lead=True)
    body = parse(staff.current_request, NewEvent)
    return json_response(events.create_event(bootstrap.store_for(venue), body).model_dump(mode="json"), 201)


@route(staff, "/venues/{venue}/events/{event_id}", methods=["GET"])
def read_event(venue, event_id):
    venue_staff(staff.current_request, venue)
    store = bootstrap.store_for(venue)
    event = events.get_event(store, event_id)
    body = event.model_dump(mode="json")
    body["performances"] = [p.model_dump(mode="json") for p in store.list_performances(event_id)]
    return json_response(body)


@route(staff, "/venues/{venue}/events/{event_id}/performances", methods=["POST"])
def add_performance(venue, event_id):
    venue_staff(staff.current_request, venue, lead=True)
    body = parse(staff.current_request, NewPerformance)
    performance = events.add_performance(bootstrap.store_for(venue), event_id, body)
    return json_response(performance.model_dump(mode="json"), 201)


@route(staff, "/venues/{venue}/events/{event_id}/publish", methods=["POST"])
def publish_event(venue, event_id):
    venue_staff(staff.current_request, venue, lead=True)
    return json_response(events.publish(bootstrap.network(), bootstrap.store_for(venue), event_id))


@route(staff, "/venues/{venue}/orders", methods=["GET"])
def list_orders(venue):
    venue_staff(staff.current_request, venue, lead=True)
    return json_response(bootstrap.store_for(venue).list_orders())


@route(staff, "/venues/{venue}/orders/{order_id}", methods=["GET"])
def read_order(venue, order_id):
    venue_staff(staff.current_request, venue)
    store = bootstrap.store_for(venue)
    order = store.get_order_item(order_id)
    if not order:
        raise NotFound("This order does not exist.")
    order["tickets"] = [t.model_dump(mode="json") for t in store.tickets_of_order(order_id)]
    return json_response(order)


@route(staff, "/venues/{venue}/customers", methods=["GET"])
def list_customers(venue):
    venue_staff(staff.current_request, venue, lead=True)
    return json_response(bootstrap.store_for(venue).list_customers())


@route(staff, "/venues/{venue}/tickets/check", methods=["POST"])
def check_ticket(venue):
    venue_staff(staff.current_request, venue)
    body = parse(staff.current_request, TicketCheck)
    return json_response(sales.verify_ticket(bootstrap.store_for(venue), body.code, check_in=body.check_in))


@route(staff, "/venues/{venue}/staff", methods=["POST"])
def add_staff(venue):
    venue_staff(staff.current_request, venue, lead=True)
    body = parse(staff.current_request, NewStaff)
    identity.create_staff(body.username, body.password, [identity.venue_group(venue, body.role)])
    return json_response({"username": body.username, "venue": venue, "role": body.role}, 201)
