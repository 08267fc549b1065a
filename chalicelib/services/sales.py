"""Selling: hold places, check out one basket across venues, settle payment.

Every step is safe to retry: ids are derived from the client's
Idempotency-Key, writes are conditional, and settling a basket reads the
payment's state from Stripe and applies it, so a replayed or out-of-order
webhook cannot change a settled basket.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import datetime, timedelta
from typing import Any, Callable

from chalicelib.adapters import payments, secrets
from chalicelib.adapters.network_store import NetworkStore
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain import tickets as ticket_codes, tokens
from chalicelib.domain.model import (
    BasketStatus,
    MAX_PLACES_PER_BUYER,
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
from chalicelib.errors import (Conflict, EventCancelled, HoldExpired, IdempotencyKeyReused, InvalidInput, NotFound,
                               PerformanceStarted, ServiceBusy, WaitingRoomOnly)
from chalicelib.observability import count, logger
from chalicelib.services import webhooks
from chalicelib.settings import get_settings

StoreFor = Callable[[str], VenueStore]
RESERVE_ATTEMPTS = 10


def _derived_id(*parts: str) -> str:
    return tokens.derived_id(secrets.token_signing_key(), *parts)


def new_buyer_session() -> str:
    return tokens.new_buyer_session(secrets.token_signing_key())


def buyer_of(session: str | None) -> str | None:
    """Who the session is (a hash), if this server issued it."""
    return tokens.buyer_of(secrets.token_signing_key(), session)


def _own_hold(hold: Hold | None, buyer: str | None) -> Hold | None:
    """A hold is visible only to the buyer session that made it."""
    if hold is None or hold.buyer is None or buyer is None or not hmac.compare_digest(hold.buyer, buyer):
        return None
    return hold


def _fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


# Every public request asks whether its venue is active; during an on-sale
# that was one network-table read per request. A Lambda instance trusts an
# "active" it read within this many seconds (offboarding removes the venue's
# role and table anyway, and clears this instance's entry at once).
ACTIVE_VENUE_SECONDS = 10.0
_active_venues: dict[str, tuple[float, dict[str, Any]]] = {}


def active_venue(network: NetworkStore, slug: str) -> dict[str, Any]:
    cached = _active_venues.get(slug)
    if cached and time.monotonic() - cached[0] < ACTIVE_VENUE_SECONDS:
        return cached[1]
    venue = network.get_venue(slug)
    if not venue or venue.get("status") != "active":
        _active_venues.pop(slug, None)
        raise NotFound(f"There is no venue '{slug}'.")
    _active_venues[slug] = (time.monotonic(), venue)
    return venue


def forget_active_venue(slug: str) -> None:
    _active_venues.pop(slug, None)


# -- holds ----------------------------------------------------------------------
def hold(network: NetworkStore, store_for: StoreFor, request: NewHold, idempotency_key: str | None,
         buyer: str, now: datetime | None = None, channel: str = "online") -> tuple[Hold, bool]:
    """Reserve places for `buyer` on `channel` (the venue's counter passes
    "box-office": its own price types and quota, no waiting room)."""
    now = now or utcnow()
    active_venue(network, request.venue)
    store = store_for(request.venue)
    event = store.get_event(request.event_id)
    if not event or not event.published:
        raise NotFound("This event does not exist or is not on sale.")
    performance = store.get_performance(request.event_id, request.performance_id)
    if not performance:
        raise NotFound("This performance does not exist.")
    if event.cancelled_at or performance.cancelled_at:
        raise EventCancelled("This performance is cancelled; nothing can be sold for it.")
    if performance.starts_at <= now:
        raise PerformanceStarted("This performance has already started.")
    if performance.onsale is not None and channel == "online":
        raise WaitingRoomOnly("This performance is sold through its waiting room only; join the line.",
                       queue=f"/queue/{request.venue}/{request.event_id}/{request.performance_id}",
                       reason="waiting_room")
    hold_id = _derived_id("hold", request.venue, buyer, idempotency_key) if idempotency_key else uuid.uuid4().hex
    fingerprint = _fingerprint(request.model_dump())
    if idempotency_key:
        earlier = store.existing_hold(hold_id, fingerprint)
        if earlier:
            return earlier, False  # a retry gets its hold back, even if the performance sold out since
    new = Hold(hold_id=hold_id, venue=request.venue, event_id=event.event_id,
               performance_id=performance.performance_id, event_title=event.title,
               starts_at=performance.starts_at, lines=price_hold(event, request, channel), status=HoldStatus.HELD,
               expires_at=hold_expiry(now, get_settings().hold_minutes), buyer=buyer, channel=channel)
    for _ in range(RESERVE_ATTEMPTS):
        performance.reserve(new.quantity, channel)  # the rule; raises SoldOut
        written = store.create_hold(new, fingerprint, buyer_limit=MAX_PLACES_PER_BUYER,
                                    keep=performance.kept_from(channel))
        if written is not None:
            created = written is new
            if created:
                count("PlacesHeld", request.venue, new.quantity)
                logger.info("hold created", extra={"venue": request.venue, "hold_id": hold_id,
                                                   "quantity": new.quantity})
                from chalicelib.services import catalogue  # republishes only when a level changes

                catalogue.follow_sale(network, store, performance, new.quantity)
            return written, created
        # Another sale took places between our read and our write: decide again on fresh numbers.
        performance = store.get_performance(request.event_id, request.performance_id)
    raise ServiceBusy("Many people are buying this performance right now. Try again in a few seconds.")


def get_hold(store: VenueStore, hold_id: str, buyer: str | None) -> Hold:
    found = _own_hold(store.get_hold(hold_id), buyer)
    if not found:
        raise NotFound("This reservation does not exist.")
    return found


def release(store: VenueStore, hold_id: str, buyer: str | None, network: NetworkStore | None = None) -> None:
    """The buyer cancels a hold; with `network`, the catalogue shows places
    coming back to a (nearly) sold-out performance at once."""
    found = get_hold(store, hold_id, buyer)
    if found.status == HoldStatus.HELD:
        if store.release_hold(found) and network is not None:
            from chalicelib.services import catalogue

            catalogue.follow_return(network, store, found.event_id, found.performance_id, found.quantity)
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
# Stripe accepts a Checkout Session only if it expires 30 minutes to 24 hours
# after it is created. Loket asks for LOKET_CHECKOUT_MINUTES (35) from the
# first attempt, so a slow request or a retried checkout within 5 minutes still
# sends exactly the same parameters (Stripe refuses a reused idempotency key
# with other parameters).
STRIPE_MIN_SESSION = timedelta(minutes=30)
# After a checkout's expiry, how long the reconciler leaves it to Stripe's own
# `expired` webhook before it looks itself.
RECONCILE_GRACE = timedelta(minutes=5)
# How often an unfinished settlement (a payout Stripe refused, a venue that
# was down) is tried again.
SETTLEMENT_RETRY = timedelta(minutes=5)
# A bank payment on its way keeps its places; Loket asks Stripe again this often.
PROCESSING_RECHECK = timedelta(hours=6)
MINIMUM_PAYMENT_CENTS = 50


def checkout(network: NetworkStore, store_for: StoreFor, request: NewCheckout, idempotency_key: str,
             buyer: str | None, now: datetime | None = None) -> dict[str, Any]:
    """One basket, one payment, one pending order per venue.

    Personal data (name, e-mail) is written only into each selling venue's
    own order; the network's basket holds ids and amounts.
    """
    now = now or utcnow()
    basket_id = _derived_id("basket", idempotency_key)
    fingerprint = _fingerprint(request.model_dump())
    basket = network.get_basket(basket_id)
    if basket:
        if basket["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused("This Idempotency-Key was already used for another checkout.")
        if basket.get("checkout_url"):
            return _checkout_answer(basket, idempotency_key)
        if basket["status"] != BasketStatus.OPEN.value:
            raise HoldExpired("This checkout was stopped. Check out again to pay for your reservations.")

    by_venue = _holds_to_check_out(network, store_for, request, basket_id, buyer, now)
    total = sum(h.total for holds in by_venue.values() for h in holds)
    if 0 < total < MINIMUM_PAYMENT_CENTS:
        raise InvalidInput(f"An online payment must be at least €{MINIMUM_PAYMENT_CENTS / 100:.2f}.",
                           errors=[{"field": "holds", "message": "total below the minimum payment",
                                    "code": "below_minimum_payment"}])
    if basket is None:
        expires_at = now + timedelta(minutes=get_settings().checkout_minutes)
        basket = {
            "basket_id": basket_id, "fingerprint": fingerprint, "status": BasketStatus.OPEN.value,
            "token_hash": _token_hash(_basket_token(idempotency_key)), "created_at": now.isoformat(),
            "expires_at": expires_at.isoformat(),
            "orders": [{"venue": venue, "order_id": _derived_id("order", basket_id, venue),
                        "total": sum(h.total for h in holds)} for venue, holds in by_venue.items()],
            "total": total,
            "ttl": int((now + timedelta(days=400)).timestamp()),
        }
        if not network.create_basket(basket, reconcile_at=(expires_at + RECONCILE_GRACE).isoformat()):
            basket = network.get_basket(basket_id)  # a concurrent retry got here first
    expires_at = datetime.fromisoformat(basket["expires_at"])

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
                          customer_id=ticket_codes.customer_id(request.buyer.email, store.secret()), created_at=now,
                          language=request.locale, channel=holds[0].channel)
            # A retry finds the order already written (False): same ids, same lines.
            if store.start_checkout(order, request.buyer.model_dump(), holds, now, expires_at):
                started.append((store, order, [h.model_copy(update={"status": HoldStatus.CHECKOUT}) for h in holds]))
            lines += [{"name": f"{line['event_title']} – {line['label']}", "quantity": line["quantity"],
                       "unit_amount": line["unit_amount"]} for line in order.lines]
        session = payments.create_checkout(basket_id=basket_id, lines=lines, customer_email=request.buyer.email,
                                           expires_at=expires_at, locale=request.locale)
    except payments.Refused as refused:
        # Definitive: this basket can never get a payment session (e.g. a retry
        # came too late for its expiry). The reservations are the buyer's again.
        _undo_checkout(network, store_for, basket, now, BasketStatus.EXPIRED, reclaim=True)
        logger.warning("checkout refused by Stripe", extra={"basket_id": basket_id, "stripe_code": refused.code})
        raise HoldExpired("The payment could not be started in time. Check out again to pay for your "
                          "reservations; they are still yours.") from refused
    except Exception:
        # Outcome unknown (Stripe did not answer, or a venue write failed): the
        # holds go back to the buyer, the basket and its expiry stay, so a retry
        # with the same Idempotency-Key sends Stripe exactly the same request.
        for store, order, holds in started:
            store.cancel_checkout(order, holds)
        raise
    network.update_basket(basket_id, checkout_session_id=session["id"], checkout_url=session["url"])
    for store, order, _holds in started:  # after the fact, outside its transaction (docs/integrations.md)
        webhooks.emit_safely(store, "order.created", {"order": webhooks.resource(order.model_dump(mode="json"))}, order.order_id)
    basket.update(checkout_session_id=session["id"], checkout_url=session["url"])
    for venue_order in basket["orders"]:
        count("CheckoutsStarted", venue_order["venue"])
    logger.info("checkout started", extra={"basket_id": basket_id, "venues": [o["venue"] for o in basket["orders"]]})
    return _checkout_answer(basket, idempotency_key)


def _holds_to_check_out(network: NetworkStore, store_for: StoreFor, request: NewCheckout, basket_id: str,
                        buyer: str | None, now: datetime) -> dict[str, list[Hold]]:
    by_venue: dict[str, list[Hold]] = {}
    for venue in {ref.venue for ref in request.holds}:
        active_venue(network, venue)
    for ref in request.holds:
        found = _own_hold(store_for(ref.venue).get_hold(ref.hold_id), buyer)
        if not found:
            raise NotFound(f"Reservation {ref.hold_id} does not exist.")
        already_ours = found.status == HoldStatus.CHECKOUT and found.order_id == _derived_id("order", basket_id, ref.venue)
        if found.status == HoldStatus.CHECKOUT and not already_ours:
            found = _reclaim_from_abandoned_checkout(network, store_for(ref.venue), found, now)
        if not already_ours and (found.status != HoldStatus.HELD or found.is_expired(now)):
            raise HoldExpired("One of your reservations has expired or was already used. Please reserve again.",
                              hold_id=ref.hold_id)
        by_venue.setdefault(ref.venue, []).append(found)
    return by_venue


def _reclaim_from_abandoned_checkout(network: NetworkStore, store: VenueStore, held: Hold, now: datetime) -> Hold:
    """A hold still tied to an earlier, unpaid payment attempt (the buyer
    pressed 'cancel' on the payment page): expire that attempt at Stripe and
    take the hold back, unless it was paid meanwhile."""
    order = store.get_order(held.order_id) if held.order_id else None
    basket = network.get_basket(order.basket_id) if order else None
    if not order or not basket:
        return held
    if basket.get("checkout_session_id"):
        # Say so before Stripe's `expired` webhook can race us to the places.
        network.update_basket(basket["basket_id"], give_back_to_buyer=True)
        payments.expire_checkout(basket["checkout_session_id"])
        if payments.retrieve_checkout(basket["checkout_session_id"])["status"] != "expired":
            return held  # paid after all: the caller refuses the hold
    holds = [h for h in (store.get_hold(h) for h in order.hold_ids) if h]
    if store.abandon_checkout(order, holds, hold_expiry(now, get_settings().hold_minutes)):
        count("CheckoutsAbandoned", store.venue)
    return store.get_hold(held.hold_id) or held


def abandon_basket(network: NetworkStore, store_for: StoreFor, basket_id: str, token: str,
                   now: datetime | None = None) -> dict[str, Any]:
    """The buyer came back from the payment page without paying ('Annuleren'
    or the back button): close the payment at Stripe and give the buyer the
    reservations back, held again for LOKET_HOLD_MINUTES, unless it was paid."""
    now = now or utcnow()
    basket = _buyers_basket(network, basket_id, token)
    abandoned = basket["status"] == BasketStatus.EXPIRED.value
    if basket["status"] == BasketStatus.OPEN.value:
        if basket.get("checkout_session_id"):
            # Say so before Stripe's `expired` webhook can race us: whoever
            # gets there first gives the places back to the buyer, not to the sale.
            network.update_basket(basket_id, give_back_to_buyer=True)
            payments.expire_checkout(basket["checkout_session_id"])
            if payments.retrieve_checkout(basket["checkout_session_id"])["status"] != "expired":
                # Paid (or a bank payment started) after all: nothing is taken back.
                return {**basket_for_buyer(network, store_for, basket_id, token), "abandoned": False}
        _undo_checkout(network, store_for, basket, now, BasketStatus.EXPIRED, reclaim=True)
        abandoned = True
    return {**basket_for_buyer(network, store_for, basket_id, token), "abandoned": abandoned}


def _undo_checkout(network: NetworkStore, store_for: StoreFor, basket: dict[str, Any], now: datetime,
                   final: BasketStatus, *, reclaim: bool = False) -> None:
    """End an unpaid basket. Its orders expire; their holds are the buyer's
    again (held) when the buyer asked, otherwise their places go back on sale."""
    finished = True
    for ref in basket["orders"]:
        try:
            store = store_for(ref["venue"])
            order = store.get_order(ref["order_id"])
            if order is None or order.status != OrderStatus.PENDING:
                continue
            holds = [h for h in (store.get_hold(h) for h in order.hold_ids) if h]
            if reclaim:
                changed = store.abandon_checkout(order, holds, hold_expiry(now, get_settings().hold_minutes))
            else:
                changed = store.expire_order(order, holds)
            if changed:
                count("CheckoutsAbandoned" if reclaim else "CheckoutsExpired", ref["venue"])
        except Exception:  # one venue's trouble must not keep the others' places
            logger.exception("ending a venue order failed", extra={"basket_id": basket["basket_id"],
                                                                  "venue": ref["venue"]})
            finished = False
    if finished:
        network.finish_basket(basket["basket_id"], status=final.value)
    else:
        network.reconcile_later(basket["basket_id"], (now + SETTLEMENT_RETRY).isoformat())


def _basket_token(idempotency_key: str) -> str:
    return tokens.basket_token(secrets.token_signing_key(), idempotency_key)


_token_hash = tokens.token_hash


def _checkout_answer(basket: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
    return {"basket_id": basket["basket_id"], "checkout_url": basket["checkout_url"], "total": basket["total"],
            "expires_at": basket["expires_at"], "basket_token": _basket_token(idempotency_key)}


# -- settling ---------------------------------------------------------------------
def settle_basket(network: NetworkStore, store_for: StoreFor, basket_id: str, now: datetime | None = None) -> str:
    """Apply the payment's real state (read from Stripe) to every order of a
    basket. Safe to run any number of times, from a webhook or the reconciler."""
    now = now or utcnow()
    basket = network.get_basket(basket_id)
    if not basket:
        logger.warning("settle for unknown basket", extra={"basket_id": basket_id})
        return "unknown"
    if basket["status"] in FINAL_BASKET_STATES:
        return basket["status"]
    overdue = now >= datetime.fromisoformat(basket["expires_at"]) + RECONCILE_GRACE
    if not basket.get("checkout_session_id"):
        if not overdue:
            return "open"  # the checkout may still be running
        _undo_checkout(network, store_for, basket, now, BasketStatus.EXPIRED)  # it stopped half-way
        return BasketStatus.EXPIRED.value
    session = payments.retrieve_checkout(basket["checkout_session_id"])
    if session["status"] == "open" and overdue:  # Stripe's own expiry is late or its webhook was lost
        payments.expire_checkout(session["id"])
        session = payments.retrieve_checkout(session["id"])
    if session["status"] == "complete":
        if session["payment_status"] in ("paid", "no_payment_required"):
            return _confirm(network, store_for, basket, session, now)
        if payments.intent_status(session["payment_intent"]) in ("processing", "requires_action"):
            _keep_places_for_processing_payment(network, store_for, basket, now)
            return "processing"
        _undo_checkout(network, store_for, basket, now, BasketStatus.PAYMENT_FAILED)
        logger.info("payment failed, places returned", extra={"basket_id": basket_id})
        return BasketStatus.PAYMENT_FAILED.value
    if session["status"] == "expired":
        _undo_checkout(network, store_for, basket, now, BasketStatus.EXPIRED,
                       reclaim=bool(basket.get("give_back_to_buyer")))
        logger.info("basket expired, places returned", extra={"basket_id": basket_id})
        return BasketStatus.EXPIRED.value
    return "open"


FINAL_BASKET_STATES = {BasketStatus.PAID.value, BasketStatus.EXPIRED.value, BasketStatus.PAYMENT_FAILED.value}


def _keep_places_for_processing_payment(network: NetworkStore, store_for: StoreFor, basket: dict[str, Any],
                                        now: datetime) -> None:
    recheck = now + PROCESSING_RECHECK
    for ref in basket["orders"]:
        store = store_for(ref["venue"])
        order = store.get_order(ref["order_id"])
        if order and order.status == OrderStatus.PENDING:
            store.extend_checkout(order, [h for h in (store.get_hold(h) for h in order.hold_ids) if h], recheck)
    network.reconcile_later(basket["basket_id"], recheck.isoformat())


def _confirm(network: NetworkStore, store_for: StoreFor, basket: dict[str, Any], session: dict[str, Any],
             now: datetime) -> str:
    """Paid: every venue's order paid, its tickets issued, its share paid out.
    Each venue is settled on its own; what fails is finished later by the reconciler."""
    charge = payments.charge_of(session["payment_intent"]) if session.get("payment_intent") else None
    unfinished = []
    for ref in basket["orders"]:
        try:
            if not _confirm_venue(network, store_for(ref["venue"]), basket, ref, charge, now):
                unfinished.append(ref["venue"])
        except Exception:  # one venue's failure must not stop the others' tickets
            logger.exception("settling a venue order failed", extra={"basket_id": basket["basket_id"],
                                                                    "venue": ref["venue"]})
            unfinished.append(ref["venue"])
    if unfinished:
        network.update_basket(basket["basket_id"], status=BasketStatus.SETTLING.value,
                              paid_at=basket.get("paid_at") or now.isoformat())
        network.reconcile_later(basket["basket_id"], (now + SETTLEMENT_RETRY).isoformat())
        logger.warning("basket paid, settlement unfinished", extra={"basket_id": basket["basket_id"],
                                                                   "venues": unfinished})
        return BasketStatus.SETTLING.value
    network.finish_basket(basket["basket_id"], status=BasketStatus.PAID.value,
                          paid_at=basket.get("paid_at") or now.isoformat())
    logger.info("basket paid", extra={"basket_id": basket["basket_id"], "orders": len(basket["orders"])})
    return BasketStatus.PAID.value


def _confirm_venue(network: NetworkStore, store: VenueStore, basket: dict[str, Any], ref: dict[str, Any],
                   charge: str | None, now: datetime) -> bool:
    """True when this venue's part is completely done."""
    item = store.get_order_item(ref["order_id"])
    order = Order.model_validate(item)
    holds = [h for h in (store.get_hold(h) for h in order.hold_ids) if h]
    if order.status == OrderStatus.PENDING:
        buyer = item["buyer"]
        customer = {"customer_id": order.customer_id, "email": buyer["email"], "name": buyer["name"]}
        if store.mark_paid(order, holds, customer, now):
            count("OrdersPaid", store.venue)
            count("TicketsSold", store.venue, sum(h.quantity for h in holds))
        order = store.get_order(order.order_id)
    if order.status != OrderStatus.PAID:
        # Paid at Stripe, but the order can no longer be paid (its places
        # were given back). Not guessed away: counted, logged and left for a
        # person to refund or re-seat.
        count("PaidOrdersNotFulfilled", store.venue)
        logger.error("paid order could not be marked paid", extra={"basket_id": basket["basket_id"],
                                                                   "venue": store.venue, "order_id": order.order_id,
                                                                   "order_status": order.status.value})
        return False
    webhooks.emit_safely(store, "order.paid", {"order": webhooks.resource(order.model_dump(mode="json"))}, order.order_id)
    issued = issue_tickets(store, order, holds)
    from chalicelib.services import order_delivery  # PDF and mail libraries load only in the worker

    delivered = order_delivery.deliver(network, store, order.order_id, issued,
                                       {**item["buyer"], "language": order.language}, now)
    return _pay_out(network, store, basket, order, charge) and delivered


def _pay_out(network: NetworkStore, store: VenueStore, basket: dict[str, Any], order: Order,
             charge: str | None) -> bool:
    if order.transfer_id or order.total == 0:
        return True
    account = (network.get_venue(store.venue) or {}).get("stripe_account_id")
    if not account:
        logger.warning("venue has no Stripe account for its payout", extra={"venue": store.venue})
        return False
    try:
        transfer_id = payments.transfer(
            amount=order.total, destination=account, transfer_group=basket["basket_id"], source_transaction=charge,
            idempotency_key=f"transfer-{basket['basket_id']}-{store.venue}-{order.transfer_attempt}")
    except payments.Refused as refused:  # e.g. the venue's account cannot receive transfers yet
        store.record_transfer(order.order_id, failed_attempt=True)
        count("PayoutsRefused", store.venue)
        logger.warning("payout refused by Stripe", extra={"venue": store.venue, "order_id": order.order_id,
                                                          "stripe_code": refused.code})
        return False
    store.record_transfer(order.order_id, transfer_id=transfer_id)
    return True


def reconcile(network: NetworkStore, store_for: StoreFor, now: datetime | None = None) -> dict[str, str]:
    """Scheduled: finish every basket left unfinished past its time (a lost
    webhook, a failed payout, a checkout stopped half-way)."""
    now = now or utcnow()
    outcomes = {}
    for basket_id in network.baskets_to_reconcile(now.isoformat()):
        try:
            outcomes[basket_id] = settle_basket(network, store_for, basket_id, now)
        except Exception:  # one basket's trouble must not stop the others
            logger.exception("reconciling a basket failed", extra={"basket_id": basket_id})
            outcomes[basket_id] = "error"
    return outcomes


def sweep_stale_checkouts(network: NetworkStore, store: VenueStore, store_for: StoreFor,
                          now: datetime | None = None) -> int:
    """Scheduled, per venue: holds still 'in checkout' long after their
    payment should have ended are settled from Stripe's answer; if their
    basket is gone, their order simply expires. Returns places given back."""
    now = now or utcnow()
    returned = 0
    for order_id in {h.order_id for h in store.stale_checkout_holds(now - RECONCILE_GRACE) if h.order_id}:
        order = store.get_order(order_id)
        if order is None:
            continue
        if network.get_basket(order.basket_id):
            settle_basket(network, store_for, order.basket_id, now)
        elif order.status == OrderStatus.PENDING:
            holds = [h for h in (store.get_hold(h) for h in order.hold_ids) if h]
            if store.expire_order(order, holds):
                returned += sum(h.quantity for h in holds)
    return returned


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


def _buyers_basket(network: NetworkStore, basket_id: str, token: str) -> dict[str, Any]:
    basket = network.get_basket(basket_id)
    if not basket or not token or not hmac.compare_digest(basket["token_hash"], _token_hash(token)):
        raise NotFound("This order does not exist.")
    return basket


buyers_basket = _buyers_basket  # the token check, for other views of the buyer's basket


def basket_for_buyer(network: NetworkStore, store_for: StoreFor, basket_id: str, token: str) -> dict[str, Any]:
    """The buyer's own view of a basket: shown only with the token they got at checkout."""
    basket = _buyers_basket(network, basket_id, token)
    answer = {"basket_id": basket_id, "status": basket["status"], "total": basket["total"], "orders": []}
    for ref in basket["orders"]:
        store = store_for(ref["venue"])
        order = store.get_order(ref["order_id"])
        if order is None:  # the checkout stopped before this venue's order was written
            continue
        entry = {"venue": ref["venue"], "order_id": ref["order_id"], "status": order.status.value,
                 "total": order.total, "lines": order.lines}
        if order.status == OrderStatus.PAID:
            entry["tickets"] = [t.model_dump(mode="json", exclude={"checked_in_at"})
                                for t in store.tickets_of_order(order.order_id)]
        answer["orders"].append(entry)
    return answer


def verify_ticket(store: VenueStore, code: str) -> dict[str, Any]:
    """What a ticket code is, without admitting it (admissions: services/door.py)."""
    ticket_id = ticket_codes.verify(store.venue, code, store.secret())
    ticket = store.get_ticket(ticket_id) if ticket_id else None
    if not ticket:
        raise NotFound("This is not a valid ticket of this venue.", result="invalid")
    order = store.get_order(ticket.order_id)
    if not order or order.status != OrderStatus.PAID:
        raise Conflict("This ticket's order is not paid.", result="unpaid")
    return {"result": "valid", "event_title": ticket.event_title, "starts_at": ticket.starts_at.isoformat(),
            "label": ticket.label, "ticket_id": ticket.ticket_id}

