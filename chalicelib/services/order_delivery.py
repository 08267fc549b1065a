"""Putting a paid order's tickets in the buyer's hands: documents and the
confirmation mail, done by the payment worker right after the tickets are
issued (services/sales.py `_confirm_venue`), on the selling venue's own
credentials; and the buyer's short-lived links to them.

Exactly one mail per order: before sending, the worker claims the order's
mail state with a conditional write (`claim_mail`); a redelivered payment
event, a second worker or the reconciler finds it claimed and sends nothing.
When SES fails after the claim:
  - SES answered with an error (throttled, refused): nothing was sent. A
    refusal of the message itself is final (`failed`); anything else is
    `retry`, and the basket stays `settling` so the reconciler tries again
    (at most MAX_MAIL_ATTEMPTS times).
  - No answer (timeout, dropped connection): SES may have sent it. The state
    stays `sending` and is not retried: a buyer may miss a mail (the order
    page and "my tickets" still hand out the documents) but never gets two.
See docs/tickets.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from chalicelib.adapters.network_store import NetworkStore
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain import ticket_documents as documents
from chalicelib.domain.model import OrderStatus, Ticket, utcnow
from chalicelib.observability import count, logger

MAX_MAIL_ATTEMPTS = 5
LINK_SECONDS = 300  # a download link's life; the order page asks for fresh ones
PDF_NAME = "tickets.pdf"
PDF_TYPE = "application/pdf"
ICS_TYPE = "text/calendar"


def branding_of(network: NetworkStore, store: VenueStore, language: str) -> tuple[documents.Branding, list[str]]:
    """The venue's branding and reply-to from its profile; its registered
    name and colour when it has set no profile yet."""
    profile = store.get_profile()
    if profile is None:
        venue = network.get_venue(store.venue) or {}
        colour = venue.get("brand_color") or "#1d4ed8"
        return documents.Branding(display_name=venue.get("name") or store.venue, primary=colour), []
    return documents.Branding(
        display_name=profile.display_name, address=profile.address.one_line(), primary=profile.colours.primary,
        on_primary=profile.colours.on_primary, logo_png=_logo(profile.logo_key),
        footer=profile.ticket_texts.in_language(language)), [str(profile.reply_to)] if profile.reply_to else []


def _logo(logo_key: str | None) -> bytes | None:
    """The venue's logo from the public catalogue images (network identity:
    it is public data). A missing logo leaves the ticket without one."""
    if not logo_key:
        return None
    from chalicelib.adapters import aws
    from chalicelib.settings import get_settings

    try:
        return aws.client("s3").get_object(Bucket=get_settings().site_bucket, Key=logo_key)["Body"].read()
    except Exception:
        logger.warning("venue logo unreadable, tickets drawn without it", extra={"logo_key": logo_key})
        return None


def _sheets(store: VenueStore, tickets: list[Ticket]) -> list[documents.TicketSheet]:
    events: dict[str, tuple[str, timedelta | None]] = {}  # event id -> (hall, duration)
    for ticket in tickets:
        if ticket.event_id not in events:
            event = store.get_event(ticket.event_id)
            minutes = getattr(event, "duration_minutes", None)
            events[ticket.event_id] = (event.hall if event else "", timedelta(minutes=minutes) if minutes else None)
    return [documents.TicketSheet(code=t.code, event_title=t.event_title, starts_at=t.starts_at,
                                  hall=events[t.event_id][0], price_label=t.label, amount_cents=t.amount,
                                  seat=getattr(t, "seat", None), performance_id=t.performance_id,
                                  duration=events[t.event_id][1]) for t in tickets]


def render(order_id: str, venue: str, branding: documents.Branding, sheets: list[documents.TicketSheet],
           language: str, paid_at: datetime) -> list[tuple[str, bytes, str]]:
    """(file name, bytes, content type): the PDF, then one .ics per performance."""
    files = [(PDF_NAME, documents.render_pdf(branding, sheets, language, created_at=paid_at), PDF_TYPE)]
    by_performance: dict[str, list[documents.TicketSheet]] = {}
    for sheet in sheets:
        by_performance.setdefault(sheet.performance_id, []).append(sheet)
    for performance_id, group in by_performance.items():
        first = group[0]
        entry = documents.PerformanceEntry(
            uid=documents.performance_uid(order_id, performance_id, venue), event_title=first.event_title,
            starts_at=first.starts_at, hall=first.hall, venue_name=branding.display_name, address=branding.address,
            tickets=len(group), stamp=paid_at, ends_at=first.starts_at + first.duration if first.duration else None)
        files.append((documents.ics_filename(first.event_title, first.starts_at), documents.render_ics(entry, language),
                      ICS_TYPE))
    return files


def deliver(network: NetworkStore, store: VenueStore, order_id: str, tickets: list[Ticket], buyer: dict[str, Any],
            now: datetime | None = None) -> bool:
    """Documents stored and the mail sent once. True when nothing is left to
    retry; False asks the reconciler to come back (the basket stays settling).
    Never raises: delivery trouble must not stop the venue's payout."""
    from chalicelib.adapters.order_delivery_store import OrderDeliveryStore

    now = now or utcnow()
    try:
        delivery = OrderDeliveryStore(store)
        state = delivery.get(order_id) or {}
        if state.get("documents") and state.get("mail_state") in ("sent", "sending", "failed"):
            return True
        language = documents.language_of(buyer.get("language"))
        branding, reply_to = branding_of(network, store, language)
        sheets = _sheets(store, sorted(tickets, key=lambda t: (t.starts_at, t.event_title, t.ticket_id)))
        files = render(order_id, store.venue, branding, sheets, language, now)
        if not state.get("documents"):
            stored = [{"name": name, "key": delivery.put_document(order_id, name, body, content_type),
                       "content_type": content_type} for name, body, content_type in files]
            delivery.record_documents(order_id, stored, now)
            count("TicketDocumentsStored", store.venue)
        if not buyer.get("email"):
            return True  # a counter sale without an address: its tickets are printed, not mailed
        return _mail_once(delivery, store, order_id, branding, reply_to, sheets, files, buyer, language, now)
    except Exception:
        count("TicketDeliveryFailed", store.venue)
        logger.exception("ticket delivery failed", extra={"venue": store.venue, "order_id": order_id})
        return False


def _mail_once(delivery: Any, store: VenueStore, order_id: str, branding: documents.Branding, reply_to: list[str],
               sheets: list[documents.TicketSheet], files: list[tuple[str, bytes, str]], buyer: dict[str, Any],
               language: str, now: datetime) -> bool:
    from botocore.exceptions import ClientError

    from chalicelib.adapters import mail

    if not delivery.claim_mail(order_id, now):
        return True  # sent, being sent or given up by another run
    try:
        message_id = _send_confirmation(store, order_id, branding, reply_to, sheets, files, buyer, language)
    except mail.MailRejected as rejected:
        delivery.mail_not_sent(order_id, final=True, reason=str(rejected))
        count("ConfirmationMailRejected", store.venue)
        logger.warning("confirmation mail refused by SES", extra={"venue": store.venue, "order_id": order_id})
        return True
    except ClientError as error:  # SES answered: not sent; try again later
        attempts = int((delivery.get(order_id) or {}).get("mail_attempts", 1))
        final = attempts >= MAX_MAIL_ATTEMPTS
        delivery.mail_not_sent(order_id, final=final, reason=error.response.get("Error", {}).get("Code", "error"))
        count("ConfirmationMailFailed", store.venue)
        logger.warning("confirmation mail not sent", extra={"venue": store.venue, "order_id": order_id,
                                                            "attempts": attempts, "final": final})
        return final
    except Exception:  # no answer: it may have gone out; never send twice
        count("ConfirmationMailOutcomeUnknown", store.venue)
        logger.exception("confirmation mail outcome unknown, not retried", extra={"venue": store.venue,
                                                                                  "order_id": order_id})
        return True
    delivery.mail_sent(order_id, message_id, utcnow())
    count("ConfirmationMailsSent", store.venue)
    logger.info("confirmation mail sent", extra={"venue": store.venue, "order_id": order_id})
    return True


def _send_confirmation(store: VenueStore, order_id: str, branding: documents.Branding, reply_to: list[str],
                       sheets: list[documents.TicketSheet], files: list[tuple[str, bytes, str]], buyer: dict[str, Any],
                       language: str) -> str:
    """The confirmation mail from the venue, with its documents attached; SES's message id."""
    from chalicelib.adapters import mail
    from chalicelib.domain import confirmation_mail

    from chalicelib.settings import get_settings

    message = confirmation_mail.render(branding, buyer_name=buyer.get("name", ""), order_id=order_id,
                                       total_cents=sum(sheet.amount_cents for sheet in sheets), tickets=sheets,
                                       language=language,
                                       my_tickets_url=f"{get_settings().public_base_url}/my-tickets.html?lang={language}")
    return mail.send(mail.venue_ses(store), sender=mail.venue_sender(store.venue, branding.display_name),
                     to=buyer["email"], subject=message.subject, html=message.html, text=message.text,
                     reply_to=reply_to, attachments=[mail.Attachment(name, body, kind) for name, body, kind in files],
                     headers={"X-Loket-Order": order_id})


def send_again(network: NetworkStore, store: VenueStore, order_id: str, tickets: list[Ticket],
               buyer: dict[str, Any], language: str) -> str | None:
    """The buyer asked for the confirmation once more ("my tickets",
    services/my_tickets.py, which limits how often): the same mail with the
    stored documents, in `language`. None while the documents are not stored
    yet (the worker's first mail is still to come). SES errors are raised."""
    from chalicelib.adapters.order_delivery_store import OrderDeliveryStore

    delivery = OrderDeliveryStore(store)
    stored = (delivery.get(order_id) or {}).get("documents")
    if not stored:
        return None
    branding, reply_to = branding_of(network, store, language)
    sheets = _sheets(store, sorted(tickets, key=lambda t: (t.starts_at, t.event_title, t.ticket_id)))
    files = [(d["name"], delivery.get_document(d["key"]), d["content_type"]) for d in stored]
    message_id = _send_confirmation(store, order_id, branding, reply_to, sheets, files, buyer, language)
    count("ConfirmationMailsSentAgain", store.venue)
    return message_id


# -- the buyer's links -------------------------------------------------------------------
def documents_for_buyer(network: NetworkStore, store_for: Callable[[str], VenueStore], basket_id: str,
                        token: str) -> dict[str, Any]:
    """Per venue order of the buyer's basket: short-lived links to its
    documents and whether its mail went out. Only with the basket token."""
    from chalicelib.services import sales

    basket = sales.buyers_basket(network, basket_id, token)
    answer = {"basket_id": basket_id, "link_seconds": LINK_SECONDS, "orders": []}
    for ref in basket["orders"]:
        store = store_for(ref["venue"])
        order = store.get_order(ref["order_id"])
        if order is None or order.status != OrderStatus.PAID:
            continue
        answer["orders"].append(order_documents(store, order.order_id))
    return answer


def order_documents(store: VenueStore, order_id: str) -> dict[str, Any]:
    """One paid order's documents as short-lived links, and whether its mail
    went out; the caller has checked that the order is the buyer's (a basket
    token, or a "my tickets" session)."""
    from chalicelib.adapters.order_delivery_store import OrderDeliveryStore

    delivery = OrderDeliveryStore(store)
    state = delivery.get(order_id) or {}
    return {
        "venue": store.venue, "order_id": order_id,
        "mail": state.get("mail_state") if state.get("mail_state") in ("sent", "failed") else "pending",
        "documents": [{"name": d["name"], "content_type": d["content_type"],
                       "kind": "pdf" if d["content_type"] == PDF_TYPE else "ics",
                       "url": delivery.signed_link(d["key"], d["name"], d["content_type"], LINK_SECONDS)}
                      for d in state.get("documents", [])],
    }
