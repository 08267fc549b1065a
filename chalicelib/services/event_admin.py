"""The venue lead manages events and performances after creating them:
unpublish, cancel, delete drafts, change or remove performances, watch
sales and find orders. Creating, editing texts and prices, pictures and
publishing are in services/events.py."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import catalogue_store, event_admin_store
from chalicelib.adapters.network_store import NetworkStore
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain import event_admin
from chalicelib.domain.model import Event, NewPerformance, Performance, utcnow
from chalicelib.errors import NotADraft, NotFound, PlacesTaken, ServiceBusy
from chalicelib.observability import logger
from chalicelib.services import catalogue
from chalicelib.services.events import get_event

CHANGE_ATTEMPTS = 5


def _performance(store: VenueStore, event_id: str, performance_id: str) -> Performance:
    performance = store.get_performance(event_id, performance_id)
    if performance is None:
        raise NotFound("This performance does not exist.")
    return performance


def _republish(network: NetworkStore, store: VenueStore, event_id: str) -> None:
    event = store.get_event(event_id)
    if event is not None and event.published:
        catalogue.publish_venue(network, store)


def unpublish(network: NetworkStore, store: VenueStore, event_id: str) -> Event:
    """Out of the catalogue: its page goes, then the venue and network pages are written without it."""
    get_event(store, event_id)
    event_admin_store.unpublish(store, event_id)
    catalogue_store.delete_document(f"events/{store.venue}/{event_id}.json")
    catalogue.publish_venue(network, store)
    logger.info("event unpublished", extra={"venue": store.venue, "event_id": event_id})
    return get_event(store, event_id)


def cancel(network: NetworkStore, store: VenueStore, event_id: str, performance_id: str | None = None) -> dict:
    """No more sales for the event (or one performance); the catalogue says it
    is cancelled; answers the orders that hold tickets for it, for the box
    office to refund."""
    get_event(store, event_id)
    now = utcnow()
    if performance_id is None:
        event_admin_store.cancel_event(store, event_id, now)
    else:
        _performance(store, event_id, performance_id)
        event_admin_store.cancel_performance(store, event_id, performance_id, now)
    # Baskets still holding places cannot check out any more: their places go back now.
    released = sum(store.release_hold(hold) for hold in event_admin_store.held_holds(store, event_id)
                   if performance_id is None or hold.performance_id == performance_id)
    _republish(network, store, event_id)
    logger.info("cancelled", extra={"venue": store.venue, "event_id": event_id, "performance_id": performance_id,
                                    "holds_released": released})
    return {"event": get_event(store, event_id).model_dump(mode="json"),
            "affected_orders": affected_orders(store, event_id, performance_id)}


def affected_orders(store: VenueStore, event_id: str, performance_id: str | None = None) -> list[dict[str, Any]]:
    """Paid and pending orders with tickets for the event (or performance), without their buyers."""
    order_ids = sorted({h["order_id"] for h in event_admin_store.holds(store)
                        if h.get("event_id") == event_id and h.get("order_id")
                        and (performance_id is None or h.get("performance_id") == performance_id)
                        and h.get("status") in ("checkout", "sold")})
    found = []
    for order_id in order_ids:
        order = store.get_order_item(order_id)
        if order and order.get("status") in ("paid", "pending"):
            found.append({"order_id": order_id, "status": order["status"], "total": order["total"],
                          "channel": order.get("channel", event_admin.ONLINE)})
    return found


def delete_draft(store: VenueStore, event_id: str) -> None:
    event = get_event(store, event_id)
    performances = store.list_performances(event_id)
    event_admin.check_deletable(event, performances)
    if not event_admin_store.delete_draft(store, event_id, performances):
        raise NotADraft("The event was published or sold meanwhile; it is no longer a draft.")
    logger.info("draft deleted", extra={"venue": store.venue, "event_id": event_id})


def change_performance(network: NetworkStore, store: VenueStore, event_id: str, performance_id: str,
                       request: NewPerformance) -> Performance:
    """Start, hall and capacity. The capacity never goes below the places sold
    and held; a sale in between is seen and the rule applied again."""
    get_event(store, event_id)
    for _ in range(CHANGE_ATTEMPTS):
        before = _performance(store, event_id, performance_id)
        event_admin.check_capacity(before, request.capacity)
        if event_admin_store.change_performance(store, before, starts_at=request.starts_at, hall=request.hall,
                                                capacity=request.capacity, box_office_quota=request.box_office_quota):
            _republish(network, store, event_id)
            return _performance(store, event_id, performance_id)
    raise ServiceBusy("This performance is selling fast right now; try again in a few seconds.")


def remove_performance(network: NetworkStore, store: VenueStore, event_id: str, performance_id: str) -> None:
    performance = _performance(store, event_id, performance_id)
    event_admin.check_removable(performance)
    if not event_admin_store.delete_performance(store, performance):
        raise PlacesTaken("A place of this performance was just taken; cancel it instead.")
    _republish(network, store, event_id)


def sales_overview(store: VenueStore) -> list[dict[str, Any]]:
    pairs = [(event, performance) for event in store.list_events()
             for performance in store.list_performances(event.event_id)]
    return event_admin.sales_overview(pairs, event_admin_store.holds(store))


def find_orders(store: VenueStore, *, query: str = "", cursor: str | None = None, limit: int = 25,
                event_id: str | None = None) -> dict[str, Any]:
    """A page of orders, newest first, matching an order number or part of the
    buyer's name or e-mail. `next` is the cursor of the following page (None
    at the end). Buyers are in the answer only for a search by name or e-mail
    (the view audits it); a plain list carries none."""
    after = event_admin_store.decode_cursor(cursor) if cursor else None
    wanted_holds = None
    if event_id:
        wanted_holds = {h.get("order_id") for h in event_admin_store.holds(store) if h.get("event_id") == event_id}
    found: list[dict[str, Any]] = []
    position = None
    more = False
    for order, at in event_admin_store.orders(store, after=after):
        if len(found) == limit:
            more = True
            break
        position = at
        if wanted_holds is not None and order.get("order_id") not in wanted_holds:
            continue
        if event_admin.order_matches(order, query):
            found.append(order)
    shows_buyers = bool(query.strip())
    for order in found:
        buyer = order.pop("buyer", None)
        if shows_buyers:
            order["buyer"] = buyer
    return {"orders": found, "next": event_admin_store.encode_cursor(position) if more and position else None}
