"""Publishing: data leaves a venue's silo on purpose, as public JSON."""

from __future__ import annotations

from typing import Callable

from chalicelib.adapters import catalogue_store
from chalicelib.adapters.network_store import NetworkStore
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain import catalogue
from chalicelib.domain.model import Availability, Event, Performance, VenueProfile, availability_of
from chalicelib.observability import logger
from chalicelib.services import webhooks


# Pages that show availability are cached briefly (CloudFront, browsers): a
# sell-out published on the sale path reaches buyers within seconds.
AVAILABILITY_MAX_AGE = 3


def publish_venue(network: NetworkStore, store: VenueStore, *, with_network: bool = True) -> dict:
    """Rewrite every published event of a venue and the venue page, and then
    the network page unless the caller publishes it once after many venues."""
    venue = network.get_venue(store.venue)
    profile = store.get_profile()
    summaries = [_publish_event(venue, profile, store, event) for event in store.list_events() if event.published]
    _put_venue_page(venue, profile, store, summaries)
    if with_network:
        publish_network(network)
    logger.info("catalogue published", extra={"venue": store.venue, "events": len(summaries)})
    return {"venue": store.venue, "events": len(summaries)}


def _publish_event(venue: dict, profile: VenueProfile | None, store: VenueStore, event: Event) -> dict:
    """Write the event's page; returns its line for the venue and network pages."""
    document = catalogue.event_document(venue, event, store.list_performances(event.event_id), profile)
    catalogue_store.put_document(f"events/{store.venue}/{event.event_id}.json", document,
                                 max_age=AVAILABILITY_MAX_AGE)
    return catalogue.event_summary(document)


def _put_venue_page(venue: dict, profile: VenueProfile | None, store: VenueStore, summaries: list[dict]) -> None:
    catalogue_store.put_document(f"venues/{store.venue}.json", catalogue.venue_document(venue, summaries, profile))


def publish_event(network: NetworkStore, store: VenueStore, event_id: str) -> None:
    """One event's page, its line in the venue page and the network page:
    what a change of one performance's availability needs, no more. Two
    publishers at once may write the venue page in either order; the
    every-minute job rewrites it whole."""
    event = store.get_event(event_id)
    if event is None or not event.published:
        return
    venue = network.get_venue(store.venue)
    profile = store.get_profile()
    summary = _publish_event(venue, profile, store, event)
    page = catalogue_store.get_document(f"venues/{store.venue}.json")
    if page is None:
        publish_venue(network, store)
        return
    others = [line for line in page["events"] if line["event_id"] != event_id]
    _put_venue_page(venue, profile, store, others + [summary])
    publish_network(network)


def follow_sale(network: NetworkStore, store: VenueStore, performance: Performance, quantity: int) -> None:
    """The sale path calls this after a hold took `quantity` places of
    `performance` (as read before the sale). The catalogue is republished
    only when the performance's level (available, few left, sold out)
    changed: most sales cost nothing here. Near the end of the stock the
    performance is read again, because concurrent sales may have taken the
    last places. A failure here never fails the sale: the every-minute job
    publishes the same."""
    before = performance.availability
    if availability_of(performance.available - quantity, performance.capacity) == before == Availability.AVAILABLE:
        return
    _publish_if_level_changed(network, store, performance.event_id, performance.performance_id, lambda fresh: before)


def follow_return(network: NetworkStore, store: VenueStore, event_id: str, performance_id: str,
                  quantity: int) -> None:
    """A buyer gave `quantity` places back (cancelled a hold): a sold-out or
    nearly sold-out performance shows it at once."""
    _publish_if_level_changed(network, store, event_id, performance_id,
                              lambda fresh: availability_of(fresh.available - quantity, fresh.capacity))


def _publish_if_level_changed(network: NetworkStore, store: VenueStore, event_id: str, performance_id: str,
                              level_before: Callable[[Performance], Availability]) -> None:
    """Read the performance again; republish its event if its level is not what it was before the change."""
    try:
        fresh = store.get_performance(event_id, performance_id)
        if fresh is None or fresh.availability == level_before(fresh):
            return
        publish_event(network, store, event_id)
        if fresh.availability == Availability.SOLD_OUT:
            webhooks.emit_safely(store, "performance.sold_out",
                                 {"event_id": event_id, "performance": fresh.model_dump(mode="json")}, None)
        logger.info("catalogue follows availability", extra={
            "venue": store.venue, "event_id": event_id, "availability": fresh.availability.value})
    except Exception:
        logger.exception("catalogue not updated after a change of availability", extra={"venue": store.venue})


def publish_network(network: NetworkStore) -> None:
    """The network page is assembled from the venue pages already in the bucket,
    so it never needs any venue's credentials."""
    venues = [v for v in network.list_venues() if v.get("status") == "active"]
    cards, summaries = [], []
    for venue in venues:
        document = catalogue_store.get_document(f"venues/{venue['slug']}.json")
        cards.append(document["venue"] if document else catalogue.venue_card(venue))
        summaries.extend(document["events"] if document else [])
    catalogue_store.put_document("network.json", catalogue.network_document(cards, summaries),
                                 max_age=AVAILABILITY_MAX_AGE)


def unpublish_venue(network: NetworkStore, slug: str, event_ids: list[str]) -> None:
    for event_id in event_ids:
        catalogue_store.delete_document(f"events/{slug}/{event_id}.json")
    catalogue_store.delete_document(f"venues/{slug}.json")
    publish_network(network)
