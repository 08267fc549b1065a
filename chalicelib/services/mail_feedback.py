"""Bounces and complaints of a venue's mails, kept in that venue's own table.

SES reports them per venue (each venue sends from its own identity, whose
configuration set publishes to the venue's own topic: infra/venue.yaml), and
`workers/mail_events.py` hands each one here with the venue's store. A report
about another identity's mail is refused: one venue's topic can never write
into another venue's table, and nothing is copied to the network.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain.mail_feedback import MailFeedback
from chalicelib.observability import count, logger
from chalicelib.settings import get_settings


def record(store: VenueStore, feedback: MailFeedback) -> bool:
    """True if this report was new and is now recorded."""
    from chalicelib.adapters.order_delivery_store import OrderDeliveryStore

    if feedback.source_domain != get_settings().venue_mail_identity(store.venue):
        count("MailFeedbackRefused", store.venue)
        logger.warning("mail feedback for another identity refused", extra={"venue": store.venue})
        return False
    delivery = OrderDeliveryStore(store)
    order_id = delivery.order_of_message(feedback.message_id)
    recorded = delivery.record_mail_event({
        "message_id": feedback.message_id, "order_id": order_id, "type": feedback.type, "detail": feedback.detail,
        "permanent": feedback.permanent, "at": feedback.at, "recipients": list(feedback.recipients)})
    if recorded:
        count("MailBounces" if feedback.type == "bounce" else "MailComplaints", store.venue)
        logger.info("mail feedback recorded", extra={"venue": store.venue, "type": feedback.type,
                                                     "order_id": order_id, "permanent": feedback.permanent})
    return recorded


def for_lead(store: VenueStore, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first. Addresses stay out of the list: the order id leads to the
    buyer through the order route, which is audited."""
    from chalicelib.adapters.order_delivery_store import OrderDeliveryStore

    return [{"type": e["type"], "detail": e["detail"], "permanent": e["permanent"], "at": e["at"],
             "order_id": e.get("order_id"), "message_id": e["message_id"], "recipients": len(e.get("recipients", []))}
            for e in OrderDeliveryStore(store).mail_events(limit)]
