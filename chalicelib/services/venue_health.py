"""A venue's health as its lead sees it, and the direct line to the supplier
(the seed's "rechtstreekse lijn"): queue depths of its own queues, the
requests that failed for it with their ids, and a support request that
carries that context to the supplier. Ids, counts and error kinds only: no
buyer's name, address or order content is attached, ever.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from chalicelib.adapters import aws, venue_health
from chalicelib.domain.model import Id, Strict, Text, utcnow
from chalicelib.observability import logger
from chalicelib.settings import get_settings

ERROR_WINDOW = timedelta(days=7)


class SupportRequest(Strict):
    summary: Text
    details: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""
    request_ids: Annotated[list[Id], Field(max_length=20)] = []


def record_failure(store: Any, *, request_id: str | None, route: str, error: BaseException) -> None:
    """A request for this venue failed on our side: keep its id and error kind
    in the venue's own table for its lead. Never raises: the buyer's answer
    (a 500 with the request id) must not depend on it."""
    try:
        venue_health.record_error(store.db, store.table, request_id=request_id or "unknown", route=route,
                                  kind=type(error).__name__, at=utcnow())
    except Exception:  # noqa: BLE001 - recording is best effort, the log line already exists
        logger.warning("could not record a failed request for the venue", extra={"venue": store.venue})


def health(store: Any) -> dict[str, Any]:
    settings = get_settings()
    return {"venue": store.venue, "stage": settings.stage, "at": utcnow().isoformat(),
            "queues": venue_health.queue_depths(store.session, settings.stage, store.venue),
            "recent_errors": venue_health.recent_errors(store.db, store.table, since=utcnow() - ERROR_WINDOW),
            "support_requests": venue_health.support_requests(store.db, store.table)}


def ask_supplier(store: Any, request: SupportRequest, *, requested_by: str) -> dict[str, Any]:
    """Send the lead's words with the venue's context to the supplier, and keep
    a copy in the venue's table. The context is assembled here, from ids and
    counts; the lead's own text is theirs (the page asks for no customer data)."""
    settings = get_settings()
    current = health(store)
    support_id = f"sup_{uuid.uuid4().hex[:16]}"
    message = {
        "support_id": support_id, "venue": store.venue, "stage": settings.stage, "requested_by": requested_by,
        "at": current["at"], "summary": request.summary, "details": request.details,
        "request_ids": request.request_ids, "queues": current["queues"],
        "recent_errors": current["recent_errors"],
    }
    sent_id = venue_health.send_to_supplier(aws.client("sns"), settings.support_topic_arn,
                                            f"Loket {settings.stage} {store.venue}: {request.summary}", message)
    venue_health.record_support_request(store.db, store.table, {**message, "sent_id": sent_id})
    logger.info("support request sent", extra={"venue": store.venue, "support_id": support_id,
                                                "request_ids": request.request_ids})
    return {**message, "sent_id": sent_id}
