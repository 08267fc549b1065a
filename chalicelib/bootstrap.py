"""Wiring: which store a request or job gets. Built lazily, cached per process."""

from __future__ import annotations

import threading
from functools import lru_cache

from chalicelib.adapters import aws, tenancy
from chalicelib.adapters.network_store import NetworkStore
from chalicelib.adapters.venue_store import VenueStore

_stores: dict[str, tuple[object, VenueStore]] = {}
_lock = threading.Lock()


@lru_cache(maxsize=1)
def network() -> NetworkStore:
    return NetworkStore()


def store_for(venue: str) -> VenueStore:
    """The venue's store on the venue's own credentials. Call only after the
    caller was authorised for `venue` (public buyers: only for public actions)."""
    session = tenancy.venue_session(venue)
    with _lock:
        cached = _stores.get(venue)
        if cached and cached[0] is session:
            return cached[1]
    store = VenueStore(venue, aws.client("dynamodb", session), tenancy.venue_table_name(venue))
    with _lock:
        _stores[venue] = (session, store)
    return store


def reset() -> None:
    """Forget cached clients (tests switch settings between runs)."""
    network.cache_clear()
    _stores.clear()
    tenancy._cache.clear()
