"""Selling: hold places, check out one basket across venues, settle payment.

Every step is safe to retry: ids are derived from the client's
Idempotency-Key, writes are conditional, and settling a basket reads the
payment's state from Stripe and applies it, so a replayed or out-of-order
webhook cannot change a settled basket.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import datetime, timedelta
from typing import Any, Callable

from chalicelib.adapters import payments
from chalicelib.adapters.network_store import NetworkStore
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain import tickets as ticket_codes
from chalicelib.domain.model import (
    BasketStatus,
    Hold,
    HoldStatus,
    NewCheckout,
    NewHold,
    Order,
    OrderStatus,
    Ticket,
    hold_expiry,
    price_hold,
    utcnow,
)
from chalicelib.errors import Conflict, HoldExpired, IdempotencyKeyReused, NotFound
from chalicelib.observability import count, logger
from chalicelib.settings import get_settings

StoreFor = Callable[[str], VenueStore]
_NAMESPACE = uuid.UUID("5b0c7c1e-6f5e-4c55-9a53-4c6f6b657421")


def _derived_id(*parts: str) -> str:
    return uuid.uuid5(_NAMESPACE, "/".join(parts)).hex


def _fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def active_venue(network: NetworkStore, slug: str) -> dict[str, Any]:
    venue = network.get_venue(slug)
    if not venue or venue.get("status") != "active":
        raise NotFound(f"There is no venue '{slug}'.")
    return venue


# -- holds ----------------------------------------------------------------------
def hold(network: NetworkStore, store_for: StoreFor, request: NewHold, idempotency_key: str | None,
         now: datetime | None = None) -> tuple[Hold, bool]:
    now = now or utcnow()
    active_venue(network, request.venue)
    store = store_for(request.venue)
    event = store.get_event(request.event_id)
    if not event or not event.published:
        raise NotFound("This event does not exist or is not on sale.")
    performance = store.get_performance(request.event_id, request.performance_id)
    if not performance:
        raise NotFound("This performance does not exist.")
    if performance.starts_at <= now:
        raise Conflict("This performance has already started.")
    hold_id = _derived_id("hold", request.venue, idempotency_key) if idempotency_key else uuid.uuid4().hex
    new = Hold(hold_id=hold_id, venue=request.venue, event_id=event.event_id,
               performance_id=performance.performance_id, event_title=event.title,
               starts_at=performance.starts_at, lines=price_hold(event, request), status=HoldStatus.HELD,
               expires_at=hold_expiry(now, get_settings().hold_minutes))
    result, created = store.create_hold(new, _fingerprint(request.model_dump()))
    if created:
        count("PlacesHeld", request.venue, new.quantity)
        logger.info("hold created", extra={"venue": request.venue, "hold_id": hold_id, "quantity": new.quantity})
    return result, created


def get_hold(store: VenueStore, hold_id: str) -> Hold:
    found = store.get_hold(hold_id)
    if not found:
        raise NotFound("This reservation does not exist.")
    return found


def release(store: VenueStore, hold_id: str) -> None:
    found = get_hold(store, hold_id)
    if found.status == HoldStatus.HELD:
        store.release_hold(found)
    elif found.status in (HoldStatus.CHECKOUT, HoldStatus.SOLD):
        raise Conflict("This reservation is being paid or was paid and can no longer be cancelled here.")


def release_expired_holds(store: VenueStore, now: datetime | None = None) -> int:
    now = now or utcnow()
    released = 0
    for expired in store.expired_held_holds(now):
        if store.release_hold(expired, only_if_expired_before=now):
            released += expired.quantity
    if released:
        count("PlacesReleased", store.venue, released)
        logger.info("expired holds released", extra={"venue": store.venue, "places": released})
    return released


# -- checkout -------------------------------------------------------------------
def checkout(network: NetworkStore, store_for: StoreFor, request: NewCheckout, idempotency_key: str,
             now: datetime | None = None) -> dict[str, Any]:
    """One basket, one payment, one pending order per venue.

    Personal data (name, e-mail) is written only into each selling venue's
    own order; the network's basket holds ids and amounts.
    """
    now = now or utcnow()
    basket_id = _derived_id("basket", idempotency_key)
    fingerprint = _fingerprint(request.model_dump())
    existing = network.get_basket(basket_id)
    if existing:
        if existing["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused("This Idempotency-Key was already used for another checkout.")
        if existing.get("checkout_url"):
            return _checkout_answer(existing, idempotency_key)

    by_venue: dict[str, list[Hold]] = {}
    for venue in {ref.venue for ref in request.holds}:
        active_venue(network, venue)
    for ref in request.holds:
        found = store_for(ref.venue).get_hold(ref.hold_id)
        if not found:
            raise NotFound(f"Reservation {ref.hold_id} does not exist.")
        already_ours = found.status == HoldStatus.CHECKOUT and found.order_id == _derived_id("order", basket_id, ref.venue)
        if found.status == HoldStatus.CHECKOUT and not already_ours:
            found = _reclaim_from_abandoned_checkout(network, store_for(ref.venue), found, now)
        if not already_ours and (found.status != HoldStatus.HELD or found.is_expired(now)):
            raise HoldExpired("One of your reservations has expired or was already used. Please reserve again.",
                              hold_id=ref.hold_id)
        by_venue.setdefault(ref.venue, []).append(found)

    settings = get_settings()
    expires_at = now + timedelta(minutes=settings.checkout_minutes)
    basket = {
        "basket_id": basket_id, "fingerprint": fingerprint, "status": BasketStatus.OPEN.value,
        "token_hash": _token_hash(_basket_token(idempotency_key)), "created_at": now.isoformat(), "expires_at": expires_at.isoformat(),
        "orders": [{"venue": venue, "order_id": _derived_id("order", basket_id, venue),
                    "total": sum(h.total for h in holds)} for venue, holds in by_venue.items()],
        "total": sum(h.total for holds in by_venue.values() for h in holds),
        "ttl": int((now + timedelta(days=400)).timestamp()),
    }
    if not network.create_basket(basket):
        basket = network.get_basket(basket_id)  # a concurrent retry got here first

    started: list[tuple[VenueStore, Order, list[Hold]]] = []
    lines: list[dict[str, Any]] = []
    try:
        for ref in basket["orders"]:
            venue, holds = ref["venue"], by_venue[ref["venue"]]
            store = store_for(venue)
            order = Order(order_id=ref["order_id"], venue=venue, basket_id=basket_id,
                          hold_ids=[h.hold_id for h in holds],
                          lines=[{"hold_id": h.hold_id, "event_title": h.event_title, "starts_at": h.starts_at.isoformat(),
                                  **line.model_dump()} for h in holds for line in h.lines],
                          total=ref["total"], status=OrderStatus.PENDING,
                          customer_id=ticket_codes.customer_id(request.buyer.email, store.secret()), created_at=now)
            # A retry finds the order already written (False): same ids, same lines.
            if store.start_checkout(order, request.buyer.model_dump(), holds, now, expires_at):
                started.append((store, order, holds))
            lines += [{"name": f"{line['event_title']} – {line['label']}", "quantity": line["quantity"],
                       "unit_amount": line["unit_amount"]} for line in order.lines]
        session = payments.create_checkout(basket_id=basket_id, lines=lines, customer_email=request.buyer.email,
                                           expires_at=expires_at, locale=request.locale)
    except Exception:
        for store, order, holds in started:
            store.cancel_checkout(order, holds)
        network.delete_basket(basket_id)
        raise
    network.update_basket(basket_id, checkout_session_id=session["id"], checkout_url=session["url"])
    basket.update(checkout_session_id=session["id"], checkout_url=session["url"])
    for venue_order in basket["orders"]:
        count("CheckoutsStarted", venue_order["venue"])
    logger.info("checkout started", extra={"basket_id": basket_id, "venues": [o["venue"] for o in basket["orders"]]})
    return _checkout_answer(basket, idempotency_key)


def _reclaim_from_abandoned_checkout(network: NetworkStore, store: VenueStore, held: Hold, now: datetime) -> Hold:
    """A hold still tied to an earlier, unpaid payment attempt (the buyer
    pressed 'cancel' on the payment page): expire that attempt at Stripe and
    take the hold back, unless it was paid meanwhile."""
    order = store.get_order(held.order_id) if held.order_id else None
    basket = network.get_basket(order.basket_id) if order else None
    if not order or not basket or not basket.get("checkout_session_id"):
        return held
    payments.expire_checkout(basket["checkout_session_id"])
    if payments.retrieve_checkout(basket["checkout_session_id"])["status"] != "expired":
        return held  # paid after all: the caller refuses the hold
    holds = [h for h in (store.get_hold(h) for h in order.hold_ids) if h]
    if store.abandon_checkout(order, holds, hold_expiry(now, get_settings().hold_minutes)):
        count("CheckoutsAbandoned", store.venue)
    return store.get_hold(held.hold_id) or held


def _basket_token(idempotency_key: str) -> str:
    """The buyer's key to their order. Derived from the checkout's
    Idempotency-Key (a random secret only the buyer's client knows), so a
    retried checkout whose first answer was lost returns the same token."""
    mac = hmac.new(idempotency_key.encode(), b"loket basket token", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _checkout_answer(basket: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
    return {"basket_id": basket["basket_id"], "checkout_url": basket["checkout_url"], "total": basket["total"],
            "expires_at": basket["expires_at"], "basket_token": _basket_token(idempotency_key)}


# -- settling ---------------------------------------------------------------------
def settle_basket(network: NetworkStore, store_for: StoreFor, basket_id: str, now: datetime | None = None) -> str:
    """Apply the payment's real state (read from Stripe) to every order of a basket."""
    now = now or utcnow()
    basket = network.get_basket(basket_id)
    if not basket or not basket.get("checkout_session_id"):
        logger.warning("settle for unknown basket", extra={"basket_id": basket_id})
        return "unknown"
    session = payments.retrieve_checkout(basket["checkout_session_id"])
    if session["status"] == "complete" and session["payment_status"] == "paid":
        _confirm(network, store_for, basket, session, now)
        return "paid"
    if session["status"] == "expired":
        for ref in basket["orders"]:
            store = store_for(ref["venue"])
            order = store.get_order(ref["order_id"])
            holds = [store.get_hold(h) for h in order.hold_ids]
            if store.expire_order(order, [h for h in holds if h]):
                count("CheckoutsExpired", ref["venue"])
        network.update_basket(basket_id, status=BasketStatus.EXPIRED.value)
        logger.info("basket expired, places returned", extra={"basket_id": basket_id})
        return "expired"
    return "open"


def _confirm(network: NetworkStore, store_for: StoreFor, basket: dict[str, Any], session: dict[str, Any],
             now: datetime) -> None:
    charge = payments.charge_of(session["payment_intent"]) if session.get("payment_intent") else None
    for ref in basket["orders"]:
        venue = ref["venue"]
        store = store_for(venue)
        item = store.get_order_item(ref["order_id"])
        order = Order.model_validate(item)
        holds = [h for h in (store.get_hold(h) for h in order.hold_ids) if h]
        buyer = item["buyer"]
        customer = {"customer_id": order.customer_id, "email": buyer["email"], "name": buyer["name"]}
        if store.mark_paid(order, holds, customer, now):
            count("OrdersPaid", venue)
            count("TicketsSold", venue, sum(h.quantity for h in holds))
        issue_tickets(store, order, holds)
        profile = network.get_venue(venue) or {}
        if profile.get("stripe_account_id") and ref["total"] > 0:
            payments.transfer(amount=ref["total"], destination=profile["stripe_account_id"],
                              transfer_group=basket["basket_id"], source_transaction=charge,
                              idempotency_key=f"transfer-{basket['basket_id']}-{venue}")
    network.update_basket(basket["basket_id"], status=BasketStatus.PAID.value, paid_at=now.isoformat())
    logger.info("basket paid", extra={"basket_id": basket["basket_id"], "orders": len(basket["orders"])})


def issue_tickets(store: VenueStore, order: Order, holds: list[Hold]) -> list[Ticket]:
    """One ticket per place. Ids are derived from the order under the venue's
    secret, so issuing again after a crash writes the same tickets, not new ones."""
    issued = []
    secret = store.secret()
    for held in holds:
        for line in held.lines:
            for n in range(line.quantity):
                ticket_id = ticket_codes.derived_ticket_id(secret, order.order_id, held.hold_id, line.price_type, n)
                ticket = Ticket(ticket_id=ticket_id, code=ticket_codes.sign(store.venue, ticket_id, secret),
                                venue=store.venue, order_id=order.order_id, event_id=held.event_id,
                                performance_id=held.performance_id, event_title=held.event_title,
                                starts_at=held.starts_at, price_type=line.price_type, label=line.label,
                                amount=line.unit_amount)
                store.put_ticket_once(ticket)
                issued.append(ticket)
    return issued


def basket_for_buyer(network: NetworkStore, store_for: StoreFor, basket_id: str, token: str) -> dict[str, Any]:
    """The buyer's own view of a basket: shown only with the token they got at checkout."""
    basket = network.get_basket(basket_id)
    if not basket or not token or not hmac.compare_digest(basket["token_hash"], _token_hash(token)):
        raise NotFound("This order does not exist.")
    answer = {"basket_id": basket_id, "status": basket["status"], "total": basket["total"], "orders": []}
    for ref in basket["orders"]:
        store = store_for(ref["venue"])
        order = store.get_order(ref["order_id"])
        entry = {"venue": ref["venue"], "order_id": ref["order_id"], "status": order.status.value,
                 "total": order.total, "lines": order.lines}
        if order.status == OrderStatus.PAID:
            entry["tickets"] = [t.model_dump(mode="json", exclude={"checked_in_at"})
                                for t in store.tickets_of_order(order.order_id)]
        answer["orders"].append(entry)
    return answer


def verify_ticket(store: VenueStore, code: str, *, check_in: bool, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    ticket_id = ticket_codes.verify(store.venue, code, store.secret())
    ticket = store.get_ticket(ticket_id) if ticket_id else None
    if not ticket:
        raise NotFound("This is not a valid ticket of this venue.", result="invalid")
    order = store.get_order(ticket.order_id)
    if not order or order.status != OrderStatus.PAID:
        raise Conflict("This ticket's order is not paid.", result="unpaid")
    answer = {"result": "valid", "event_title": ticket.event_title, "starts_at": ticket.starts_at.isoformat(),
              "label": ticket.label, "ticket_id": ticket.ticket_id}
    if check_in:
        if not store.check_in(ticket.ticket_id, now):
            raise Conflict("This ticket was already scanned.", result="already_used")
        answer["checked_in_at"] = now.isoformat()
    return answer

