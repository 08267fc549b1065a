"""The versioned REST API for a venue's integrations: `/v1/venues/{venue}/...`,
called with the venue's API key (`venue_access="api-key"` and the one scope the
route needs; docs/integrations.md). Each view reads the venue's data in the
venue's own role, from the store the gate hands it, through the same services
the staff pages use. Lists answer `{"data": [...], "next": cursor-or-null}`.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import idempotency_key, json_response, parse, route
from chalicelib.errors import IdempotencyKeyReused, MalformedRequest, NotFound

v1 = Blueprint(__name__)

NO_STORE = {"Cache-Control": "no-store"}
ORDER_STATUSES = ("pending", "paid", "cancelled", "expired", "refunded")


def _limit(params: dict, default: int = 25) -> int:
    raw = params.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise MalformedRequest("limit must be a whole number from 1 to 100.")
    return int(raw)


def _audit(store, caller, *, action: str, subject: dict, route: str, purpose: str) -> None:
    """As a staff read of buyers' data is: the key's id is the actor."""
    from chalicelib.adapters import audit_log

    request = v1.current_request
    audit_log.record(store, actor=caller.key_id, role="api-key", action=action, subject=subject,
                     route=f"{request.method} {route}", purpose=purpose,
                     request_id=(request.context or {}).get("requestId"))


@route(v1, "/v1/venues/{venue}/events", methods=["GET"], venue_access="api-key", scope="catalogue:read")
def list_events(venue, *, store, caller):
    return json_response({"data": [e.model_dump(mode="json") for e in store.list_events()], "next": None})


@route(v1, "/v1/venues/{venue}/events/{event_id}", methods=["GET"], venue_access="api-key", scope="catalogue:read")
def read_event(venue, event_id, *, store, caller):
    """The event with its prices and its performances (start, capacity, places available)."""
    from chalicelib.services import events

    body = events.get_event(store, event_id).model_dump(mode="json")
    body["performances"] = [p.model_dump(mode="json") for p in store.list_performances(event_id)]
    return json_response(body)


def _first_answer(created, request, what: str):
    """A repeat of a POST with its Idempotency-Key answers what the first made; the same key with another
    body is refused (the services return the earlier thing for a known key; only this tells them apart)."""
    if created.model_dump(mode="json", include=set(type(request).model_fields)) != request.model_dump(mode="json"):
        raise IdempotencyKeyReused(f"This Idempotency-Key was already used to make another {what}.")
    return created


@route(v1, "/v1/venues/{venue}/events", methods=["POST"], venue_access="api-key", scope="events:write")
def create_event(venue, *, store, caller):
    """A draft event (publish it from the staff pages). Idempotency-Key required."""
    from chalicelib.domain.model import NewEvent
    from chalicelib.services import events

    request = v1.current_request
    key = idempotency_key(request, required=True)
    body = parse(request, NewEvent)
    created = _first_answer(events.create_event(store, body, f"api:{key}"), body, "event")
    return json_response(created.model_dump(mode="json"), 201)


@route(v1, "/v1/venues/{venue}/events/{event_id}/performances", methods=["POST"], venue_access="api-key",
       scope="events:write")
def add_performance(venue, event_id, *, store, caller):
    """A date of the event, with its capacity. Idempotency-Key required."""
    from chalicelib.domain.model import NewPerformance
    from chalicelib.services import events

    request = v1.current_request
    key = idempotency_key(request, required=True)
    body = parse(request, NewPerformance)
    created = _first_answer(events.add_performance(store, event_id, body, f"api:{key}"), body, "performance")
    return json_response(created.model_dump(mode="json"), 201)


@route(v1, "/v1/venues/{venue}/orders", methods=["GET"], venue_access="api-key", scope="orders:read")
def list_orders(venue, *, store, caller):
    """Newest first; `status`, `event` and `limit` (1-100) filter, `cursor` is the previous page's `next`.
    No buyer's name or e-mail in a list."""
    from chalicelib.services import event_admin

    params = v1.current_request.query_params or {}
    status = params.get("status")
    if status is not None and status not in ORDER_STATUSES:
        raise MalformedRequest(f"status must be one of {', '.join(ORDER_STATUSES)}.")
    page = event_admin.find_orders(store, cursor=params.get("cursor"), limit=_limit(params),
                                   event_id=params.get("event"))
    orders = [o for o in page["orders"] if status is None or _has_status(o, status)]
    return json_response({"data": orders, "next": page["next"]}, headers=NO_STORE)


def _has_status(order: dict, status: str) -> bool:
    """`refunded` is not a status of its own: a refunded order is cancelled with its refund done."""
    if status == "refunded":
        return order.get("status") == "cancelled" and order.get("refund_status") == "refunded"
    return order.get("status") == status


@route(v1, "/v1/venues/{venue}/orders/{order_id}", methods=["GET"], venue_access="api-key", scope="orders:read")
def read_order(venue, order_id, *, store, caller):
    """The order and its tickets, without the buyer (customers:read gives the venue's customers)."""
    order = store.get_order_item(order_id)
    if not order:
        raise NotFound("This order does not exist.")
    order.pop("buyer", None)
    order["tickets"] = [t.model_dump(mode="json") for t in store.tickets_of_order(order_id)]
    return json_response(order, headers=NO_STORE)


@route(v1, "/v1/venues/{venue}/orders/{order_id}/cancel", methods=["POST"], venue_access="api-key",
       scope="orders:write")
def cancel_order(venue, order_id, *, store, caller):
    """Cancel a paid online order within the venue's refund policy and refund this venue's part of its
    payment. Idempotency-Key required: a repeat answers the order's state and refunds once."""
    from chalicelib import bootstrap
    from chalicelib.api.v1_models import CancelOrder
    from chalicelib.services import order_cancellation

    request = v1.current_request
    key = idempotency_key(request, required=True)
    body = parse(request, CancelOrder) if (request.raw_body or b"").strip() else CancelOrder()
    return json_response(order_cancellation.cancel_online(bootstrap.network(), store, order_id, by=caller.key_id,
                                                          idempotency_key=key, reason=body.reason),
                         headers=NO_STORE)


@route(v1, "/v1/venues/{venue}/sales", methods=["GET"], venue_access="api-key", scope="reports:read")
def sales_report(venue, *, store, caller):
    """Per performance: sold, held, available, revenue by price type and channel (no buyers), as the lead's overview."""
    from chalicelib.services import event_admin

    return json_response({"data": event_admin.sales_overview(store), "next": None}, headers=NO_STORE)


@route(v1, "/v1/venues/{venue}/customers", methods=["GET"], venue_access="api-key", scope="customers:read")
def list_customers(venue, *, store, caller):
    """The venue's own customers. Every read is in the venue's audit log, with the key as the reader."""
    customers = store.list_customers()
    if customers:
        _audit(store, caller, action="customers.list-read",
               subject={"customer_ids": [c["customer_id"] for c in customers]},
               route="/v1/venues/{venue}/customers", purpose="integration")
    return json_response({"data": customers, "next": None}, headers=NO_STORE)


@route(v1, "/v1/venues/{venue}/check-ins", methods=["POST"], venue_access="api-key", scope="checkin:write")
def check_in(venue, *, store, caller):
    """Admit a ticket by its code, through the door service. The Idempotency-Key is the scan's nonce:
    a repeat answers the first admission, never a second one."""
    import hashlib

    from chalicelib.api.v1_models import CheckIn
    from chalicelib.domain.door import Scan
    from chalicelib.domain.model import utcnow
    from chalicelib.services import door as door_service

    request = v1.current_request
    key = idempotency_key(request, required=True)
    body = parse(request, CheckIn)
    performance_id = body.performance_id or door_service.performance_of(store, body.code)
    scan = Scan(code=body.code, performance_id=performance_id, door=body.door or "API",
                nonce=hashlib.sha256(key.encode()).hexdigest()[:32], scanned_at=body.scanned_at or utcnow())
    return json_response(door_service.scan(store, scan))

