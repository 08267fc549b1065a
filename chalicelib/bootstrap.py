"""Wiring: which store a request or job gets. Built lazily, cached per process.

A venue's store (on the venue's own IAM role) is built in one place,
`_venue_store`, and reached by two doors only:
  - the route gate in `api/http.py` (`route(..., venue_access=...)`), which
    first verifies the caller for the route's venue and hands the view its store;
  - `worker_store`, for SQS consumers, scheduled jobs and onboarding, which act
    for the network on registered venues, not for a caller.
HTTP views never build a store themselves (tests/test_isolation.py checks it).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import TYPE_CHECKING

from chalicelib.adapters import aws, tenancy
from chalicelib.adapters.network_store import NetworkStore

if TYPE_CHECKING:  # imported when the first venue store is built (docs/decisions.md, "Cold start")
    from chalicelib.adapters.venue_store import VenueStore

_stores: dict[str, tuple[object, VenueStore]] = {}
_lock = threading.Lock()


@lru_cache(maxsize=1)
def network() -> NetworkStore:
    return NetworkStore()


def _venue_store(venue: str) -> VenueStore:
    """The venue's store on the venue's own credentials. Private: only the
    route gate (api/http.py) and `worker_store` call it."""
    from chalicelib.adapters.venue_store import VenueStore

    session = tenancy.venue_session(venue)
    with _lock:
        cached = _stores.get(venue)
        if cached and cached[0] is session:
            return cached[1]
    store = VenueStore(venue, aws.client("dynamodb", session), tenancy.venue_table_name(venue), session=session)
    with _lock:
        _stores[venue] = (session, store)
    return store


def worker_store(venue: str) -> VenueStore:
    """A venue's store for workers and jobs (payment settlement, the
    every-minute job, onboarding and offboarding), which iterate the network's
    venues rather than serve a caller. Never call this from an HTTP view: a
    view receives its store from the route gate."""
    return _venue_store(venue)


def reset() -> None:
    """Forget cached clients (tests switch settings between runs)."""
    network.cache_clear()
    _stores.clear()
    _onsale_stores.clear()
    tenancy._cache.clear()


_onsale_stores: dict[str, tuple[VenueStore, object]] = {}


def onsale(store: VenueStore):
    """The venue's waiting rooms, on the same venue credentials as `store`
    (which the route gate or `worker_store` handed out). Cached with it: an
    SQS client and the queue's URL cost a few milliseconds to build."""
    from chalicelib.adapters.onsale_store import OnSaleStore, queue_name
    from chalicelib.settings import get_settings

    with _lock:
        cached = _onsale_stores.get(store.venue)
        if cached and cached[0] is store:
            return cached[1]
    sqs = aws.client("sqs", store.session)
    url = sqs.get_queue_url(QueueName=queue_name(get_settings().stage, store.venue))["QueueUrl"]
    built = OnSaleStore(store, sqs, url)
    with _lock:
        _onsale_stores[store.venue] = (store, built)
    return built
