"""Cancelling a paid order and giving its money back: the one path for the
counter (services/box_office.py `cancel`), the venue's lead and the venue's
integration (`POST /v1/venues/{venue}/orders/{order_id}/cancel`,
docs/integrations.md "Cancelling an order").

Write order: the cancel first, one DynamoDB transaction conditional on the
order still being paid (its places back on sale, its tickets off the door
lists, the refund `pending`); then the money at Stripe, under idempotency
keys derived from the order; then `refunded`. A cancel that is refused
writes nothing and moves no money. If Stripe fails after the cancel, the
order stays cancelled with its refund pending, and the next call (a retry of
the same request, or any later cancel of the order) sends Stripe the same
requests under the same keys, so the money goes back exactly once.

A basket of several venues is one Stripe payment with one transfer per venue
(services/sales.py `_pay_out`): a venue's online order is refunded for its
own total only, and that venue's transfer is reversed by the same amount, so
another venue's part of the payment and its payout are never touched.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from chalicelib.adapters.box_office_store import BoxOfficeStore
from chalicelib.domain import box_office as rules
from chalicelib.domain.model import Order, OrderStatus, utcnow
from chalicelib.errors import Conflict, IdempotencyKeyReused, NotFound, PaymentProviderUnavailable
from chalicelib.observability import count, logger
from chalicelib.services import webhooks

if TYPE_CHECKING:
    from chalicelib.adapters.network_store import NetworkStore
    from chalicelib.adapters.venue_store import VenueStore


@dataclass(frozen=True)
class StripeRefund:
    """What is sent to Stripe for one order: always the same requests under the same keys."""

    refund_key: str
    amount: int | None = None  # None: the whole payment (a counter payment link, as it always was)
    reversal_key: str | None = None  # the venue's transfer is reversed by `amount` when set


def online_refund(order: Order) -> StripeRefund:
    """An online order: its own part of the basket's payment, and its own payout taken back."""
    return StripeRefund(refund_key=f"order-refund-{order.venue}-{order.order_id}", amount=order.total,
                        reversal_key=f"order-reversal-{order.venue}-{order.order_id}")


def refund_policy(store: VenueStore) -> rules.RefundPolicy:
    stored = BoxOfficeStore(store).get_refund_policy() or {}
    return rules.RefundPolicy.model_validate({k: v for k, v in stored.items() if k in rules.RefundPolicy.model_fields})


def cancel(network: NetworkStore, store: VenueStore, order: Order, *, by: str, now: datetime,
           stripe: StripeRefund | None, move_for: Callable[[], dict[str, Any] | None] = lambda: None,
           request: dict[str, Any] | None = None) -> bool:
    """Cancel `order` and give its money back. True if this call cancelled it; False if an earlier
    call had (then only a refund left pending is finished). `stripe`: how the money goes back at
    Stripe (None: handed back at the counter). `move_for`: the counter's drawer move, asked for
    once the rules allow the cancel (it may refuse: no open till). `request`: the Idempotency-Key's
    record, written with the cancel."""
    if order.status == OrderStatus.CANCELLED:
        if stripe:
            finish_refund(network, store, order.order_id, stripe)
        return False
    if order.status != OrderStatus.PAID:
        raise Conflict("Only a paid order can be cancelled.", reason="not_paid")
    tickets = store.tickets_of_order(order.order_id)
    if any(t.checked_in_at for t in tickets):
        raise Conflict("A ticket of this order was already used at the door.", reason="ticket_used")
    starts = [t.starts_at for t in tickets] or [datetime.fromisoformat(line["starts_at"]) for line in order.lines]
    refund_policy(store).check(min(starts), now)
    move = move_for()
    holds = [h for h in (store.get_hold(h) for h in order.hold_ids) if h]
    if not BoxOfficeStore(store).cancel_order(order, holds, tickets, move, by, now,
                                              refund_status="pending" if stripe else "refunded", request=request,
                                              pending_refund=asdict(stripe) if stripe else None):
        current = store.get_order(order.order_id)
        if current is None or current.status != OrderStatus.CANCELLED:
            # e.g. a door admitted one of its tickets at this very moment: nothing was written
            raise Conflict("This order changed meanwhile. Look it up again.", reason="changed")
        if stripe:  # another call cancelled it a moment ago: make sure its money goes back
            finish_refund(network, store, order.order_id, stripe)
        return False
    count("OrdersCancelled", store.venue)
    logger.info("order cancelled", extra={"venue": store.venue, "order_id": order.order_id, "by_stripe": bool(stripe)})
    cancelled = store.get_order(order.order_id) or order
    webhooks.emit_safely(store, "order.cancelled", {"order": webhooks.resource(cancelled.model_dump(mode="json"))},
                         order.order_id)
    from chalicelib.services import catalogue

    for hold in holds:
        catalogue.follow_return(network, store, hold.event_id, hold.performance_id, hold.quantity)
    if stripe:
        finish_refund(network, store, order.order_id, stripe)
    else:
        _announce_refund(store, order.order_id, order.total)
    return True


def finish_refund(network: NetworkStore, store: VenueStore, order_id: str, stripe: StripeRefund) -> None:
    """The money of a cancelled order back at Stripe, if it is not yet. Safe to call any number of times."""
    from chalicelib.adapters import payments

    order = store.get_order(order_id)
    if order is None or order.status != OrderStatus.CANCELLED or order.refund_status == "refunded":
        return
    try:
        basket = network.get_basket(order.basket_id) or {}
        intent = payments.retrieve_checkout(basket["checkout_session_id"])["payment_intent"]
        refund_id = payments.refund(intent, idempotency_key=stripe.refund_key, amount=stripe.amount)
        reversal_id = None
        if stripe.reversal_key and order.transfer_id:
            reversal_id = payments.reverse_transfer(order.transfer_id, amount=stripe.amount or order.total,
                                                    idempotency_key=stripe.reversal_key)
    except PaymentProviderUnavailable as error:
        count("RefundsPending", store.venue)
        raise PaymentProviderUnavailable(
            "The order is cancelled, but the payment provider did not answer, so its refund is not made yet. "
            "Send the same request again to finish it; the money is given back once.",
            order_id=order_id, refund_status="pending") from error
    except payments.Refused as refused:
        count("RefundsRefused", store.venue)
        logger.error("refund refused by Stripe", extra={"venue": store.venue, "order_id": order_id,
                                                        "stripe_code": refused.code})
        raise Conflict("The order is cancelled, but the payment provider refused its refund "
                       f"({refused.code or 'refused'}). Loket's operators have been told.",
                       reason="refund_refused", order_id=order_id, refund_status="pending") from refused
    box = BoxOfficeStore(store)
    if box.mark_refunded(order_id, {"refund_id": refund_id, "reversal_id": reversal_id,
                                    "amount": stripe.amount or order.total}):
        count("OrdersRefunded", store.venue)
        _announce_refund(store, order_id, stripe.amount or order.total)
    box.forget_pending_refund(order_id)  # after the refund is recorded: a retry of a left-over finds it done


# Stripe keeps an idempotency key for 24 hours: retrying later under the same key could refund twice
# (a refund that went through unseen, then a second one of the same amount). Past this the retry
# stops and an operator finishes the refund by hand (docs/operations.md "Refunds left pending").
REFUND_RETRY_WINDOW = timedelta(hours=23)
# Not before this: the cancel's own request (or its client's retry) may still be asking Stripe.
REFUND_RETRY_AFTER = timedelta(minutes=2)


def retry_pending_refunds(network: NetworkStore, store: VenueStore, now: datetime | None = None) -> dict[str, int]:
    """Every minute: the refunds of cancelled orders that Stripe did not make when the order was
    cancelled (Stripe down, or refusing), asked again with the same requests under the same keys."""
    now = now or utcnow()
    box = BoxOfficeStore(store)
    done = {"refunded": 0, "pending": 0, "stale": 0}
    for pending in box.pending_refunds():
        if pending.get("stale"):
            done["stale"] += 1
            continue
        if now - datetime.fromisoformat(pending["cancelled_at"]) < REFUND_RETRY_AFTER:
            continue  # the cancel's own request may still be asking Stripe

        if now - datetime.fromisoformat(pending["cancelled_at"]) > REFUND_RETRY_WINDOW:
            if box.mark_pending_refund_stale(pending["order_id"]):
                count("RefundsStale", store.venue)
                logger.error("refund still pending after its retry window; finish it by hand",
                             extra={"venue": store.venue, "order_id": pending["order_id"]})
            done["stale"] += 1
            continue
        try:
            finish_refund(network, store, pending["order_id"], StripeRefund(**pending["stripe"]))
        except PaymentProviderUnavailable:  # counted by finish_refund; again next minute
            done["pending"] += 1
            continue
        except Conflict:  # Stripe refused it (logged and counted): asking again will not change that
            if box.mark_pending_refund_stale(pending["order_id"]):
                count("RefundsStale", store.venue)
            done["stale"] += 1
            continue
        except Exception:  # anything else (a request in flight under the same key, a bad marker): next minute
            logger.exception("pending refund not retried", extra={"venue": store.venue,
                                                                   "order_id": pending["order_id"]})
            done["pending"] += 1
            continue
        box.forget_pending_refund(pending["order_id"])  # also a left-over of an order refunded before
        done["refunded"] += 1
    return done


def _announce_refund(store: VenueStore, order_id: str, amount: int) -> None:
    found = store.get_order(order_id)
    order = webhooks.resource(found.model_dump(mode="json")) if found else {"order_id": order_id}
    webhooks.emit_safely(store, "order.refunded", {"order": order, "refunded": amount}, order_id)


# -- an online order, by its venue's lead or API key --------------------------------------------
def cancel_online(network: NetworkStore, store: VenueStore, order_id: str, *, by: str, idempotency_key: str,
                  reason: str, now: datetime | None = None) -> dict[str, Any]:
    """Cancel one of the venue's own online orders and refund this venue's part. A repeat of the
    request (same Idempotency-Key, same order and reason) answers the order's state and finishes
    a refund left pending; the same key for another request is refused."""
    now = now or utcnow()
    box = BoxOfficeStore(store)
    key_hash = hashlib.sha256(f"{store.venue}:{idempotency_key}".encode()).hexdigest()
    fingerprint = hashlib.sha256(f"{order_id}:{reason}".encode()).hexdigest()
    earlier = box.get_cancel_request(key_hash)
    if earlier is not None and earlier["fingerprint"] != fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used to cancel another order.")
    order = store.get_order(order_id)
    if order is None:
        raise NotFound("This order does not exist.")
    if order.channel != "online" or box.get_sale(order_id) is not None:
        raise Conflict("This order was sold at the counter; it is cancelled and refunded there.",
                       reason="not_an_online_order")
    if order.status == OrderStatus.PAID and order.total and not order.transfer_id:
        # Its payout to the venue is not finished (the reconciler retries it): refunding now would
        # leave a payout to a cancelled order.
        raise Conflict("This order's payment is still being settled. Try again in a few minutes.",
                       reason="settling")
    request = {"key_hash": key_hash, "fingerprint": fingerprint, "order_id": order_id, "reason": reason,
               "by": by, "at": now.isoformat()}
    cancel(network, store, order, by=by, now=now, stripe=online_refund(order), request=request)
    return answer(store.get_order(order_id))


def answer(order: Order) -> dict[str, Any]:
    return {"order_id": order.order_id, "status": order.status.value,
            "cancelled_at": order.cancelled_at.isoformat() if order.cancelled_at else None,
            "refunded": order.total if order.refund_status == "refunded" else 0,
            "refund_status": order.refund_status or "pending", "currency": "eur"}
