"""Publishing: data leaves a venue's silo on purpose, as public JSON."""

from __future__ import annotations

from chalicelib.adapters import catalogue_store
from chalicelib.adapters.network_store import NetworkStore
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain import catalogue
from chalicelib.observability import logger


def publish_venue(network: NetworkStore, store: VenueStore, *, with_network: bool = True) -> dict:
    """Rewrite every published event of a venue and the venue page, and then
    the network page unless the caller publishes it once after many venues."""
    venue = network.get_venue(store.venue)
    profile = store.get_profile()
    summaries = []
    for event in store.list_events():
        if not event.published:
            continue
        document = catalogue.event_document(venue, event, store.list_performances(event.event_id), profile)
        catalogue_store.put_document(f"events/{store.venue}/{event.event_id}.json", document)
        summaries.append(catalogue.event_summary(document))
    catalogue_store.put_document(f"venues/{store.venue}.json", catalogue.venue_document(venue, summaries, profile))
    if with_network:
        publish_network(network)
    logger.info("catalogue published", extra={"venue": store.venue, "events": len(summaries)})
    return {"venue": store.venue, "events": len(summaries)}


def publish_network(network: NetworkStore) -> None:
    """The network page is assembled from the venue pages already in the bucket,
    so it never needs any venue's credentials."""
    venues = [v for v in network.list_venues() if v.get("status") == "active"]
    cards, summaries = [], []
    for venue in venues:
        document = catalogue_store.get_document(f"venues/{venue['slug']}.json")
        cards.append(document["venue"] if document else catalogue.venue_card(venue))
        summaries.extend(document["events"] if document else [])
    catalogue_store.put_document("network.json", catalogue.network_document(cards, summaries), max_age=30)


def unpublish_venue(network: NetworkStore, slug: str, event_ids: list[str]) -> None:
    for event_id in event_ids:
        catalogue_store.delete_document(f"events/{slug}/{event_id}.json")
    catalogue_store.delete_document(f"venues/{slug}.json")
    publish_network(network)
