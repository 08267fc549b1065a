"""Venue staff manage their own events, performances and prices."""

from __future__ import annotations

import hashlib
import uuid

from chalicelib.adapters.network_store import NetworkStore
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain.model import Event, EventImage, NewEvent, NewPerformance, Performance, utcnow
from chalicelib.errors import NotFound
from chalicelib.observability import logger
from chalicelib.services import catalogue, webhooks


def _new_id(store: VenueStore, kind: str, idempotency_key: str | None) -> str:
    """A retry with the same Idempotency-Key names the same thing, so it cannot make a second one."""
    if not idempotency_key:
        return uuid.uuid4().hex[:12]
    return hashlib.sha256(f"{store.venue}\n{kind}\n{idempotency_key}".encode()).hexdigest()[:12]


def create_event(store: VenueStore, request: NewEvent, idempotency_key: str | None = None) -> Event:
    event_id = _new_id(store, "event", idempotency_key)
    if idempotency_key and (earlier := store.get_event(event_id)):
        return earlier
    event = Event(**request.model_dump(), event_id=event_id, venue=store.venue, created_at=utcnow())
    store.put_event(event)
    logger.info("event created", extra={"venue": store.venue, "event_id": event.event_id})
    return event


def get_event(store: VenueStore, event_id: str) -> Event:
    event = store.get_event(event_id)
    if not event:
        raise NotFound("This event does not exist.")
    return event


def update_event(network: NetworkStore, store: VenueStore, event_id: str, request: NewEvent) -> Event:
    """Replace an event's texts, genre, hall and prices; its id, picture and
    publication stay. A published event's catalogue pages follow at once."""
    event = get_event(store, event_id)
    # Everything the body does not carry (id, picture, publication, cancellation) stays.
    updated = Event.model_validate({**event.model_dump(), **request.model_dump()})
    store.put_event(updated)
    webhooks.emit_safely(store, "event.updated", {"event": updated.model_dump(mode="json")}, None)
    if updated.published:
        catalogue.publish_venue(network, store)
    return updated


def set_image(network: NetworkStore, store: VenueStore, event_id: str, data: bytes, content_type: str) -> Event:
    """A new picture for the event (resized into the catalogue's widths)."""
    from chalicelib.services import images

    event = get_event(store, event_id)
    stored = images.upload(store, data, content_type, "event")
    updated = event.model_copy(update={"image": EventImage.model_validate(stored["image"])})
    store.put_event(updated)
    if updated.published:
        catalogue.publish_venue(network, store)
    return updated


def add_performance(store: VenueStore, event_id: str, request: NewPerformance,
                    idempotency_key: str | None = None) -> Performance:
    get_event(store, event_id)
    performance_id = _new_id(store, f"performance {event_id}", idempotency_key)
    if idempotency_key and (earlier := store.get_performance(event_id, performance_id)):
        return earlier
    performance = Performance(**request.model_dump(), performance_id=performance_id, event_id=event_id,
                              available=request.capacity)
    store.put_performance(performance)
    return performance


def publish(network: NetworkStore, store: VenueStore, event_id: str) -> dict:
    get_event(store, event_id)
    store.mark_published(event_id)
    webhooks.emit_safely(store, "event.published", {"event": get_event(store, event_id).model_dump(mode="json")}, event_id)
    return catalogue.publish_venue(network, store)
