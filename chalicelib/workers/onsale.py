"""The waiting room's workers (docs/onsale.md).

`handle`: the SQS consumer of every venue's on-sale FIFO queue (one event
source mapping per venue, each with its own maximum concurrency: the
bulkhead). `inlet`: started every minute, ticks every second for the
minute, admitting the next buyers of every open line.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any, Callable

from chalicelib import bootstrap
from chalicelib.domain.model import utcnow
from chalicelib.observability import logger
from chalicelib.services import onsale as waiting_room
from chalicelib.settings import get_settings

INLET_TICK_SECONDS = 1.0
# The inlet leaves this much of its minute unused, so two runs never overlap long.
INLET_MARGIN_MS = 3000


def venue_of_queue(queue_arn: str) -> str:
    from chalicelib.adapters.venue_health import venue_of_queue

    return venue_of_queue(queue_arn, get_settings().stage, "onsale")


def _record(record: dict[str, Any]) -> dict[str, Any]:
    attributes = record.get("attributes", {})
    return {"message_id": record["messageId"], "group": attributes["MessageGroupId"],
            "accepted_at_ms": int(attributes["SentTimestamp"]), "sequence": attributes.get("SequenceNumber"),
            "body": json.loads(record["body"])}


def handle(event: dict[str, Any], context: Any = None, now: datetime | None = None) -> dict[str, Any]:
    by_venue: dict[str, list[dict[str, Any]]] = {}
    for record in event.get("Records", []):
        by_venue.setdefault(venue_of_queue(record["eventSourceARN"]), []).append(record)
    failed: list[str] = []
    for venue, records in by_venue.items():
        onsale = bootstrap.onsale(bootstrap.worker_store(venue))
        failed_here = set(waiting_room.handle(onsale, [_record(r) for r in records], now))
        if failed_here:
            _deliver_again_soon(onsale, [r for r in records if r["messageId"] in failed_here])
        failed += failed_here
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


# Receive count of a failed message -> seconds until it is delivered again (others: the queue's timeout).
FAILED_BATCH_WAIT_SECONDS = {1: 1, 2: 5}


def _deliver_again_soon(onsale: Any, records: list[dict[str, Any]]) -> None:
    """A failed batch holds up its whole message group (everyone behind it in
    line) until SQS delivers it again: after 1 s, then 5 s, instead of the
    queue's 60 s visibility timeout; from the third failure on the timeout
    applies again, so a longer trouble (throttling at a big opening) does not
    send the batch to the dead-letter queue (5 receives) within seconds.
    Best effort: if this fails, the timeout applies."""
    soon = [(r["receiptHandle"], FAILED_BATCH_WAIT_SECONDS[int(r.get("attributes", {}).get("ApproximateReceiveCount", 1))])
            for r in records if int(r.get("attributes", {}).get("ApproximateReceiveCount", 1)) in FAILED_BATCH_WAIT_SECONDS]
    if not soon:
        return
    try:
        onsale.deliver_again_after(soon)
    except Exception:
        logger.exception("could not shorten a failed on-sale batch's wait", extra={"venue": onsale.venue})


_venues_cache: dict[str, Any] = {"at": 0.0, "venues": []}
VENUES_LOOKUP_SECONDS = 10.0


def _active_venues() -> list[dict[str, Any]]:
    """The network's active venues, looked up every few seconds, not every tick."""
    if time.monotonic() - _venues_cache["at"] > VENUES_LOOKUP_SECONDS:
        _venues_cache.update(at=time.monotonic(),
                             venues=[v for v in bootstrap.network().list_venues() if v.get("status") == "active"])
    return _venues_cache["venues"]


def tick_all(now: datetime | None = None, seconds: float = INLET_TICK_SECONDS) -> dict[str, Any]:
    """One tick of every active venue's lines; a broken venue never stops the others."""
    results: dict[str, Any] = {}
    for venue in _active_venues():
        try:
            admitted = waiting_room.tick(bootstrap.onsale(bootstrap.worker_store(venue["slug"])), now, seconds=seconds)
            if admitted:
                results[venue["slug"]] = admitted
        except Exception:
            logger.exception("on-sale inlet failed for venue", extra={"venue": venue["slug"]})
            results[venue["slug"]] = "error"
    return results


def inlet(remaining_ms: Callable[[], int], clock: Callable[[], datetime] = utcnow) -> int:
    """Tick every second until the function's minute is nearly used."""
    ticks = 0
    while remaining_ms() > INLET_MARGIN_MS:
        started = time.monotonic()
        tick_all(clock())
        ticks += 1
        time.sleep(max(0.0, INLET_TICK_SECONDS - (time.monotonic() - started)))
    return ticks
