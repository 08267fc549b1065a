"""Venue staff manage their own events, performances and prices."""

from __future__ import annotations

import uuid

from chalicelib.adapters.network_store import NetworkStore
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain.model import Event, NewEvent, NewPerformance, Performance, utcnow
from chalicelib.errors import NotFound
from chalicelib.observability import logger
from chalicelib.services import catalogue


def create_event(store: VenueStore, request: NewEvent) -> Event:
    event = Event(**request.model_dump(), event_id=uuid.uuid4().hex[:12], venue=store.venue, created_at=utcnow())
    store.put_event(event)
    logger.info("event created", extra={"venue": store.venue, "event_id": event.event_id})
    return event


def get_event(store: VenueStore, event_id: str) -> Event:
    event = store.get_event(event_id)
    if not event:
        raise NotFound("This event does not exist.")
    return event


def add_performance(store: VenueStore, event_id: str, request: NewPerformance) -> Performance:
    get_event(store, event_id)
    performance = Performance(**request.model_dump(), performance_id=uuid.uuid4().hex[:12], event_id=event_id,
                              available=request.capacity)
    store.put_performance(performance)
    return performance


def publish(network: NetworkStore, store: VenueStore, event_id: str) -> dict:
    get_event(store, event_id)
    store.mark_published(event_id)
    return catalogue.publish_venue(network, store)
