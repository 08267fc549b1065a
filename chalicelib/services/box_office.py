"""The box office: a sale at the counter, the clerk's cash drawer, the
end-of-day report, finding, cancelling and refunding an order.

A counter sale takes its places through the same hold path as an online sale
(sales.hold with channel "box-office": the counter's own price types and
quota, never more than is left), writes the order with the same
start_checkout/mark_paid transactions and issues tickets with
sales.issue_tickets. A Stripe payment link goes through sales.checkout and is
settled by the Stripe webhook exactly like an online basket. Every step is
idempotent under the request's Idempotency-Key: a double tap or a retried
submit gets the same order (docs/staff.md, "Box office").
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from chalicelib.adapters.box_office_store import BoxOfficeStore
from chalicelib.domain import box_office as rules, event_admin
from chalicelib.domain import tickets as ticket_codes
from chalicelib.domain.model import Hold, HoldStatus, NewHold, Order, OrderStatus, utcnow
from chalicelib.errors import Conflict, IdempotencyKeyReused, InvalidInput, NotFound, TillAlreadyOpen, TillNotOpen
from chalicelib.observability import count, logger
from chalicelib.services import order_cancellation, sales
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.adapters.network_store import NetworkStore
    from chalicelib.adapters.venue_store import VenueStore

LOCAL = ZoneInfo(rules.VENUE_TIME_ZONE)
COMING_DAYS = 60
# Finding by name reads this many of the newest orders (there is no index on names, on purpose).
NAME_SEARCH_ORDERS = 500


def venue_day(moment: datetime) -> str:
    return moment.astimezone(LOCAL).date().isoformat()


# -- what the counter sells -------------------------------------------------------
def performances(store: VenueStore, now: datetime | None = None) -> dict[str, Any]:
    """Today's performances first, then the coming ones, each with the
    counter's price types and the places left (the counter sees exact numbers)."""
    now = now or utcnow()
    today = venue_day(now)
    found = []
    for event in store.list_events():
        if not event.published or getattr(event, "cancelled_at", None):
            continue
        prices = [p.model_dump(include={"code", "label", "amount"}) for p in event.prices_on("box-office")]
        for performance in store.list_performances(event.event_id):
            if performance.starts_at <= now or performance.starts_at > now + timedelta(days=COMING_DAYS):
                continue
            if getattr(performance, "cancelled_at", None) or not prices:
                continue
            found.append({"event_id": event.event_id, "performance_id": performance.performance_id,
                          "title": event.title, "hall": getattr(performance, "hall", None) or event.hall,
                          "starts_at": performance.starts_at.isoformat(), "today": venue_day(performance.starts_at) == today,
                          "available": performance.available, "capacity": performance.capacity,
                          "price_types": prices})
    found.sort(key=lambda p: p["starts_at"])
    return {"today": today, "performances": found}


# -- the sale ----------------------------------------------------------------------
def sell(network: NetworkStore, store: VenueStore, clerk: str, sale: rules.CounterSale, idempotency_key: str,
         now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    box = BoxOfficeStore(store)
    buyer_session = f"counter-{clerk}"  # the clerk's holds: sales.hold derives the hold id from it and the key
    order_id = sales._derived_id("counter-order", store.venue, clerk, idempotency_key)
    fingerprint = sales._fingerprint(sale.model_dump(mode="json"))
    earlier = box.get_sale(order_id)
    if earlier:
        if earlier["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused("This Idempotency-Key was already used for another sale.")
        return sale_answer(store, earlier)
    shift = box.open_shift_of(clerk)
    if not shift:
        raise TillNotOpen("Open your cash drawer before you sell.")
    request = NewHold(venue=store.venue, event_id=sale.event_id, performance_id=sale.performance_id,
                      tickets=sale.tickets)
    held, _ = sales.hold(network, lambda venue: store, request, idempotency_key, buyer=buyer_session, now=now,
                         channel="box-office")
    change = rules.change_due(held.total, sale.method, sale.tendered)
    record = {"order_id": order_id, "fingerprint": fingerprint, "clerk": clerk, "shift_id": shift["shift_id"],
              "day": shift["day"], "method": sale.method, "total": held.total, "tendered": sale.tendered,
              "change": change, "terminal_reference": sale.terminal_reference, "created_at": now.isoformat(),
              "event_id": sale.event_id, "performance_id": sale.performance_id, "language": sale.language,
              "quantity": held.quantity}
    if sale.method == "payment-link":
        return _sell_by_payment_link(network, store, box, sale, held, record, idempotency_key, buyer_session)
    buyer = _buyer(sale)
    order = Order(order_id=order_id, venue=store.venue, basket_id=f"counter-{order_id}", hold_ids=[held.hold_id],
                  lines=[{"hold_id": held.hold_id, "event_title": held.event_title,
                          "starts_at": held.starts_at.isoformat(), **line.model_dump()} for line in held.lines],
                  total=held.total, status=OrderStatus.PENDING,
                  customer_id=ticket_codes.customer_id(sale.buyer_email, store.secret()) if sale.buyer_email else "counter",
                  created_at=now, language=sale.language, channel="box-office")
    # Each step finds what a retry (or a crash before it) already wrote.
    store.start_checkout(order, buyer, [held], now, now + timedelta(minutes=get_settings().checkout_minutes))
    holds = [held.model_copy(update={"status": HoldStatus.CHECKOUT, "order_id": order_id})]
    customer = ({"customer_id": order.customer_id, "email": sale.buyer_email, "name": sale.buyer_name or ""}
                if sale.buyer_email else None)
    if store.mark_paid(order, holds, customer, now):
        count("OrdersPaid", store.venue)
        count("TicketsSold", store.venue, held.quantity)
        count("CounterSales", store.venue)
    order = store.get_order(order_id)
    issued = sales.issue_tickets(store, order, holds)
    box.record_sale(record, _move(record, "sale", record["total"]))
    from chalicelib.services import order_delivery  # PDF and mail libraries load only when a sale is made

    order_delivery.deliver(network, store, order_id, issued, {**(buyer or {}), "language": sale.language}, now)
    logger.info("counter sale", extra={"venue": store.venue, "order_id": order_id, "method": sale.method,
                                       "quantity": held.quantity})
    return sale_answer(store, record)


def _buyer(sale: rules.CounterSale) -> dict[str, str] | None:
    if not (sale.buyer_name or sale.buyer_email):
        return None
    return {"name": sale.buyer_name or "", "email": sale.buyer_email or ""}


def _move(record: dict[str, Any], kind: str, amount: int) -> dict[str, Any]:
    return {"day": record["day"], "kind": kind, "order_id": record["order_id"], "shift_id": record["shift_id"],
            "clerk": record["clerk"], "method": record["method"], "amount": amount, "at": utcnow().isoformat()}


def _sell_by_payment_link(network: NetworkStore, store: VenueStore, box: BoxOfficeStore, sale: rules.CounterSale,
                          held: Hold, record: dict[str, Any], idempotency_key: str, buyer_session: str) -> dict[str, Any]:
    """The buyer pays on Stripe's page (on their phone or the counter's screen);
    the webhook settles it as any online basket: tickets, mail, payout."""
    from chalicelib.domain.model import Buyer, HoldRef, NewCheckout

    name = sale.buyer_name or sale.buyer_email.split("@")[0]
    answer = sales.checkout(network, lambda venue: store,
                            NewCheckout(holds=[HoldRef(venue=store.venue, hold_id=held.hold_id)],
                                        buyer=Buyer(name=name, email=sale.buyer_email), locale=sale.language),
                            f"counter-{idempotency_key}", held.buyer)
    basket = network.get_basket(answer["basket_id"])
    record = {**record, "order_id": basket["orders"][0]["order_id"], "basket_id": answer["basket_id"],
              "checkout_url": answer["checkout_url"]}
    box.record_sale({**record, "order_id": record["order_id"]}, None)  # counted in the drawer once paid
    # The sale is found again under the key's own id too (a retried submit).
    box.record_sale({**record, "order_id": sales._derived_id("counter-order", store.venue, record["clerk"],
                                                             idempotency_key), "link_to": record["order_id"]}, None)
    return sale_answer(store, record)


def sale_answer(store: VenueStore, record: dict[str, Any]) -> dict[str, Any]:
    """What the counter page shows after a sale: amounts, the order's state,
    its tickets' documents (print) once there. A paid payment-link sale is
    counted in the drawer the first time its answer sees it paid."""
    box = BoxOfficeStore(store)
    if record.get("link_to"):
        record = box.get_sale(record["link_to"]) or record
    order = store.get_order(record["order_id"])
    status = order.status.value if order else "pending"
    if record["method"] == "payment-link" and order and order.status == OrderStatus.PAID:
        box.record_move(_move(record, "sale", record["total"]))  # once: the write is conditional
    from chalicelib.services import order_delivery

    answer = {k: record.get(k) for k in ("order_id", "method", "total", "tendered", "change", "terminal_reference",
                                         "checkout_url", "quantity", "created_at", "clerk")}
    answer["status"] = status
    answer["documents"] = order_delivery.order_documents(store, record["order_id"])["documents"] if status == "paid" else []
    return answer


def counter_order(store: VenueStore, order_id: str) -> dict[str, Any]:
    record = BoxOfficeStore(store).get_sale(order_id)
    if record is None:
        order = store.get_order(order_id)
        if order is None:
            raise NotFound("This order does not exist.")
        from chalicelib.services import order_delivery

        return {"order_id": order_id, "method": "online", "total": order.total, "status": order.status.value,
                "documents": order_delivery.order_documents(store, order_id)["documents"]
                if order.status == OrderStatus.PAID else []}
    return sale_answer(store, record)


def mail_again(network: NetworkStore, store: VenueStore, order_id: str, email: str, name: str,
               language: str, idempotency_key: str) -> dict[str, Any]:
    """The order's tickets mailed (again) to the address the buyer gives at the
    counter; a retried request (same Idempotency-Key) sends nothing more."""
    from chalicelib.services import order_delivery

    order = store.get_order(order_id)
    if order is None:
        raise NotFound("This order does not exist.")
    if order.status != OrderStatus.PAID:
        raise Conflict("Only a paid order's tickets can be sent.")
    if not BoxOfficeStore(store).claim_mail(order_id, sales._fingerprint([idempotency_key, email]), utcnow()):
        return {"order_id": order_id, "sent": True}
    sent = order_delivery.send_again(network, store, order_id, store.tickets_of_order(order_id),
                                     {"name": name, "email": email}, language)
    if sent is None:
        raise Conflict("The tickets are still being made. Try again in a moment.")
    count("CounterMailsSent", store.venue)
    return {"order_id": order_id, "sent": True}


# -- the cash drawer -------------------------------------------------------------------
def open_shift(store: VenueStore, clerk: str, float_cents: int, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    shift = {"shift_id": uuid.uuid4().hex, "clerk": clerk, "float": float_cents, "opened_at": now.isoformat(),
             "day": venue_day(now)}
    if not BoxOfficeStore(store).open_shift(shift):
        raise TillAlreadyOpen("Your cash drawer is already open. Close it first.")
    return shift_view(store, shift)


def current_shift(store: VenueStore, clerk: str) -> dict[str, Any] | None:
    shift = BoxOfficeStore(store).open_shift_of(clerk)
    return shift_view(store, shift) if shift else None


def close_shift(store: VenueStore, clerk: str, counted: int, now: datetime | None = None) -> dict[str, Any]:
    box = BoxOfficeStore(store)
    shift = box.open_shift_of(clerk)
    if not shift:
        raise TillNotOpen("Your cash drawer is not open.")
    box.close_shift(shift, counted, now or utcnow())
    return shift_view(store, box.get_shift(shift["shift_id"]))


def shift_view(store: VenueStore, shift: dict[str, Any]) -> dict[str, Any]:
    moves = [m for m in BoxOfficeStore(store).moves_of_day(shift["day"]) if m["shift_id"] == shift["shift_id"]]
    report = rules.day_report([shift], moves)
    return {**report["shifts"][0], "day": shift["day"], "per_method": report["per_method"]}


def day_report(store: VenueStore, day: str, clerk: str | None) -> dict[str, Any]:
    """The day's counter: per payment method, per clerk, each shift's drawer.
    With `clerk`, only that clerk's shifts (a clerk sees their own)."""
    try:
        date.fromisoformat(day)
    except ValueError:
        raise InvalidInput("day must be a date like 2026-12-31.",
                           errors=[{"field": "day", "message": "not a date", "code": "invalid_date"}]) from None
    box = BoxOfficeStore(store)
    shifts = [s for s in box.shifts_of_day(day) if clerk is None or s["clerk"] == clerk]
    ids = {s["shift_id"] for s in shifts}
    moves = [m for m in box.moves_of_day(day) if m["shift_id"] in ids]
    return {"day": day, **rules.day_report(shifts, moves)}


# -- refunds -------------------------------------------------------------------------
# The policy, the cancel's transaction, the refund at Stripe and the webhooks are
# services/order_cancellation.py's, shared with the lead's and the API's cancel.
refund_policy = order_cancellation.refund_policy


def set_refund_policy(store: VenueStore, policy: rules.RefundPolicy, by: str) -> rules.RefundPolicy:
    BoxOfficeStore(store).put_refund_policy({**policy.model_dump(), "updated_by": by, "updated_at": utcnow().isoformat()})
    return policy


def cancel(network: NetworkStore, store: VenueStore, clerk: str, order_id: str,
           now: datetime | None = None) -> dict[str, Any]:
    """Cancel a counter order and refund it the way it was paid, within the
    venue's policy: cash out of the clerk's drawer, a card-terminal refund
    recorded, a payment link refunded at Stripe. Its tickets no longer pass the
    door; its places are on sale again. A second cancel answers the first."""
    now = now or utcnow()
    box = BoxOfficeStore(store)
    record = box.get_sale(order_id)
    order = store.get_order(order_id)
    if order is None:
        raise NotFound("This order does not exist.")
    if record is None:
        raise Conflict("Only orders sold at the counter are refunded here.", reason="not_a_counter_order")
    # A payment link's whole payment back, under the key the counter has always used, and the
    # venue's payout taken back with it (the platform does not pay for a venue's refund).
    stripe = (order_cancellation.StripeRefund(refund_key=f"counter-refund-{record['order_id']}",
                                              reversal_key=f"counter-reversal-{record['order_id']}")
              if record["method"] == "payment-link" else None)

    def drawer_move() -> dict[str, Any]:
        shift = box.open_shift_of(clerk)
        if not shift:
            raise TillNotOpen("Open your cash drawer before you refund.")
        return _move({**record, "shift_id": shift["shift_id"], "clerk": clerk, "day": shift["day"]}, "refund",
                     -order.total)

    if order_cancellation.cancel(network, store, order, by=clerk, now=now, stripe=stripe, move_for=drawer_move):
        count("CounterRefunds", store.venue)
    return {"order_id": order_id, "status": "cancelled", "refunded": order.total, "method": record["method"]}


# -- finding an order -------------------------------------------------------------------
def find(store: VenueStore, query: str, *, show_buyer: bool) -> list[dict[str, Any]]:
    """Orders by order number, ticket code, e-mail address or (part of) a name.
    The caller records the read in the audit log before showing it."""
    query = query.strip()
    if len(query) < 3:
        raise InvalidInput("Type at least 3 characters.",
                           errors=[{"field": "q", "message": "too short", "code": "search_too_short"}])
    items: list[dict[str, Any]] = []
    exact = store.get_order_item(query) if len(query) <= 128 else None
    if exact:
        items = [exact]
    elif (ticket_id := ticket_codes.verify(store.venue, query, store.secret())) and (ticket := store.get_ticket(ticket_id)):
        items = [store.get_order_item(ticket.order_id)]
    elif "@" in query:
        customer = store.get_customer(ticket_codes.customer_id(query.lower(), store.secret())) or {}
        items = [store.get_order_item(o) for o in customer.get("order_ids", [])]
    else:  # the same matching as the lead's orders list, over the newest orders
        items = [o for o in store.list_orders(limit=NAME_SEARCH_ORDERS) if event_admin.order_matches(o, query)]
    found = []
    for item in items[:50]:
        if not item:
            continue
        buyer = item.get("buyer")
        found.append({"order_id": item["order_id"], "status": item["status"], "total": item["total"],
                      "channel": item.get("channel", "online"), "created_at": item["created_at"],
                      "lines": [{k: line.get(k) for k in ("event_title", "starts_at", "label", "quantity")}
                                for line in item.get("lines", [])],
                      "buyer": buyer if show_buyer else None})
    return found
