"""Venue staff API: a venue's own events, orders and customers (door scanning: api/door.py).

Every venue route declares its access on the route (`venue_access="lead"` or
`"clerk"`); the gate in api/http.py checks the signed-in staff member against
the route's venue and hands the view that venue's `store` and the verified
`caller`. Staff of another venue, and network admins, get 404.

Buyers' personal data (name, e-mail) is shown to staff only where the task
needs it, and every such read is written to the venue's audit log first:
a lead sees the buyer of an order and the customer list; a clerk sees the
buyer of an order only if the venue allows it (`PUT .../settings/privacy`,
off by default). Order lists carry no personal data.

Cold start: importing this module only registers the routes. Each view
imports the services, adapters and request models it needs when first
called; the staff request bodies are in api/staff_models.py
(docs/decisions.md, "Cold start").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.http import header, idempotency_key, json_response, parse, route, staff as signed_in
from chalicelib.errors import MalformedRequest, NotFound

if TYPE_CHECKING:
    from chalicelib.adapters import identity

staff = Blueprint(__name__)

# Image uploads take PNG or JPEG; JSON is accepted too so that the route gate
# answers first (404 to outsiders, as on every venue route) and the view then
# refuses anything that is not an image with a 422.
IMAGE_UPLOAD_TYPES = ["image/png", "image/jpeg", "application/json"]


def _audit(store, caller: identity.Staff, venue: str, *, action: str, subject: dict[str, Any], route: str,
           purpose: str) -> None:
    from chalicelib.adapters import audit_log

    request = staff.current_request
    audit_log.record(store, actor=caller.username, role=caller.role_at(venue) or "", action=action,
                     subject=subject, route=f"{request.method} {route}", purpose=purpose,
                     request_id=(request.context or {}).get("requestId"))


@route(staff, "/staff/session", methods=["POST"])
def sign_in():
    from chalicelib.adapters import identity
    from chalicelib.api.staff_models import SignIn

    body = parse(staff.current_request, SignIn)
    return json_response(identity.sign_in(body.username, body.password))


@route(staff, "/staff/me", methods=["GET"])
def me():
    who = signed_in(staff.current_request)
    return {"username": who.username, "network_admin": who.is_network_admin, "venues": who.venues}


@route(staff, "/venues/{venue}/events", methods=["GET"], venue_access="clerk")
def list_events(venue, *, store, caller):
    return json_response([e.model_dump(mode="json") for e in store.list_events()])


@route(staff, "/venues/{venue}/events", methods=["POST"], venue_access="lead")
def create_event(venue, *, store, caller):
    from chalicelib.domain.model import NewEvent
    from chalicelib.services import events

    request = staff.current_request
    body = parse(request, NewEvent)
    created = events.create_event(store, body, idempotency_key(request, required=False))  # a retry: the same event
    return json_response(created.model_dump(mode="json"), 201)


@route(staff, "/venues/{venue}/events/{event_id}", methods=["GET"], venue_access="clerk")
def read_event(venue, event_id, *, store, caller):
    from chalicelib.services import events

    event = events.get_event(store, event_id)
    body = event.model_dump(mode="json")
    body["performances"] = [p.model_dump(mode="json") for p in store.list_performances(event_id)]
    return json_response(body)


@route(staff, "/venues/{venue}/events/{event_id}", methods=["PUT"], venue_access="lead")
def update_event(venue, event_id, *, store, caller):
    """Texts (nl, and fr/en in `translations`), genre, duration, age advice, hall and prices."""
    from chalicelib.domain.model import NewEvent
    from chalicelib.services import events

    body = parse(staff.current_request, NewEvent)
    return json_response(events.update_event(bootstrap.network(), store, event_id, body).model_dump(mode="json"))


@route(staff, "/venues/{venue}/events/{event_id}/image", methods=["PUT"], venue_access="lead",
       content_types=IMAGE_UPLOAD_TYPES)
def set_event_image(venue, event_id, *, store, caller):
    """The event's picture, sent as the raw PNG/JPEG body; the catalogue serves it in a few widths."""
    from chalicelib.services import events

    request = staff.current_request
    event = events.set_image(bootstrap.network(), store, event_id, request.raw_body or b"",
                             header(request, "content-type") or "")
    return json_response(event.model_dump(mode="json"))


@route(staff, "/venues/{venue}/events/{event_id}/performances", methods=["POST"], venue_access="lead")
def add_performance(venue, event_id, *, store, caller):
    from chalicelib.domain.model import NewPerformance
    from chalicelib.services import events

    request = staff.current_request
    body = parse(request, NewPerformance)
    performance = events.add_performance(store, event_id, body, idempotency_key(request, required=False))
    return json_response(performance.model_dump(mode="json"), 201)


@route(staff, "/venues/{venue}/events/{event_id}/performances/{performance_id}/onsale", methods=["PUT"],
       venue_access="lead")
def set_onsale(venue, event_id, performance_id, *, store, caller):
    """Sell this performance through a waiting room from `opens_at` (docs/onsale.md)."""
    from chalicelib.domain.model import OnSaleSettings
    from chalicelib.services import catalogue, events, onsale

    body = parse(staff.current_request, OnSaleSettings)
    answer = onsale.configure(bootstrap.onsale(store), event_id, performance_id, body)
    if events.get_event(store, event_id).published:
        catalogue.publish_venue(bootstrap.network(), store)
    return json_response(answer)


@route(staff, "/venues/{venue}/events/{event_id}/performances/{performance_id}/onsale", methods=["GET"],
       venue_access="clerk")
def read_onsale(venue, event_id, performance_id, *, store, caller):
    """The line's numbers: settings, joined, admitted and served so far (no buyers)."""
    state = bootstrap.onsale(store).state(performance_id)
    if state is None or state.get("event_id") != event_id:
        raise NotFound("This performance has no waiting room.")
    return json_response({k: v for k, v in state.items() if k not in ("pk", "sk", "gsi1pk", "gsi1sk")})


@route(staff, "/venues/{venue}/events/{event_id}/publish", methods=["POST"], venue_access="lead")
def publish_event(venue, event_id, *, store, caller):
    from chalicelib.services import events

    return json_response(events.publish(bootstrap.network(), store, event_id))


# GET /venues/{venue}/orders (search, pages): api/venue_admin.py


@route(staff, "/venues/{venue}/orders/{order_id}", methods=["GET"], venue_access="clerk")
def read_order(venue, order_id, *, store, caller):
    order = store.get_order_item(order_id)
    if not order:
        raise NotFound("This order does not exist.")
    buyer = order.pop("buyer", None)
    is_lead = caller.role_at(venue) == "lead"
    shown = buyer is not None and (is_lead or store.get_staff_policy()["clerks_see_buyer"])
    if shown:
        _audit(store, caller, venue, action="order.buyer-read", subject={"order_id": order_id},
               route="/venues/{venue}/orders/{order_id}",
               purpose="order administration" if is_lead else "finding an order at the counter")
    order["buyer"] = buyer if shown else None
    order["buyer_shown"] = shown
    order["tickets"] = [t.model_dump(mode="json") for t in store.tickets_of_order(order_id)]
    return json_response(order)


@route(staff, "/venues/{venue}/orders/{order_id}/cancel", methods=["POST"], venue_access="lead")
def cancel_order(venue, order_id, *, store, caller):
    """The lead cancels an online order and refunds it, as the venue's integration can
    (services/order_cancellation.py); Idempotency-Key required."""
    from chalicelib.api.v1_models import CancelOrder
    from chalicelib.services import order_cancellation

    request = staff.current_request
    key = idempotency_key(request, required=True)
    body = parse(request, CancelOrder) if (request.raw_body or b"").strip() else CancelOrder()
    return json_response(order_cancellation.cancel_online(bootstrap.network(), store, order_id, by=caller.username,
                                                          idempotency_key=key, reason=body.reason))


@route(staff, "/venues/{venue}/customers", methods=["GET"], venue_access="lead")
def list_customers(venue, *, store, caller):
    customers = store.list_customers()
    if customers:
        _audit(store, caller, venue, action="customers.list-read",
               subject={"customer_ids": [c["customer_id"] for c in customers]},
               route="/venues/{venue}/customers", purpose="customer administration")
    return json_response(customers)


@route(staff, "/venues/{venue}/profile", methods=["GET"], venue_access="lead")
def read_profile(venue, *, store, caller):
    from chalicelib.services import venue_profile

    return json_response(venue_profile.public_view(venue_profile.get(store)))


@route(staff, "/venues/{venue}/profile", methods=["PUT"], venue_access="lead")
def set_profile(venue, *, store, caller):
    """The venue's public profile (name, address, map, logo, colours, reply-to, ticket texts)."""
    from chalicelib.domain.model import VenueProfile
    from chalicelib.services import venue_profile

    body = parse(staff.current_request, VenueProfile)
    return json_response(venue_profile.public_view(venue_profile.put(bootstrap.network(), store, body)))


@route(staff, "/venues/{venue}/images", methods=["POST"], venue_access="lead",
       content_types=IMAGE_UPLOAD_TYPES)
def upload_image(venue, *, store, caller):
    """An event picture (`?purpose=event`, the default) or the venue's logo
    (`?purpose=logo`), sent as the raw PNG/JPEG body: resized and published
    in the catalogue bucket. Answers what to put on the event or profile."""
    from chalicelib.services import images

    request = staff.current_request
    purpose = (request.query_params or {}).get("purpose", "event")
    return json_response(images.upload(store, request.raw_body or b"", header(request, "content-type") or "", purpose),
                         201)


@route(staff, "/venues/{venue}/settings/privacy", methods=["GET"], venue_access="clerk")
def read_privacy(venue, *, store, caller):
    return json_response(store.get_staff_policy())


@route(staff, "/venues/{venue}/settings/privacy", methods=["PUT"], venue_access="lead")
def set_privacy(venue, *, store, caller):
    from chalicelib.api.staff_models import PrivacySettings
    from chalicelib.domain.model import utcnow

    body = parse(staff.current_request, PrivacySettings)
    store.put_staff_policy(clerks_see_buyer=body.clerks_see_buyer, updated_by=caller.username, updated_at=utcnow())
    _audit(store, caller, venue, action="settings.privacy-changed", subject={"clerks_see_buyer": body.clerks_see_buyer},
           route="/venues/{venue}/settings/privacy", purpose="venue privacy policy")
    return json_response(store.get_staff_policy())


@route(staff, "/venues/{venue}/audit", methods=["GET"], venue_access="lead")
def list_audit(venue, *, store, caller):
    from chalicelib.adapters import audit_log

    raw = (staff.current_request.query_params or {}).get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 500:
        raise MalformedRequest("limit must be a whole number from 1 to 500.")
    return json_response(audit_log.entries(store, int(raw)), headers={"Cache-Control": "no-store"})


@route(staff, "/venues/{venue}/staff", methods=["POST"], venue_access="lead")
def add_staff(venue, *, store, caller):
    from chalicelib.adapters import identity
    from chalicelib.api.staff_models import NewStaff

    body = parse(staff.current_request, NewStaff)
    identity.create_staff(body.username, body.password, [identity.venue_group(venue, body.role)])
    return json_response({"username": body.username, "venue": venue, "role": body.role}, 201)


@route(staff, "/venues/{venue}/mail-events", methods=["GET"], venue_access="lead")
def venue_mail_events(venue, *, store, caller):
    """Bounces and complaints of the venue's mails, newest first (no addresses)."""
    from chalicelib.services import mail_feedback

    return json_response({"events": mail_feedback.for_lead(store)}, headers={"Cache-Control": "no-store"})
