"""'My tickets' without an account: a one-time link by e-mail, then the
buyer's tickets at every venue, each venue asked on its own.

Nothing cross-venue is stored: the link carries the address encrypted
(domain/my_tickets.py); opening it asks every active venue's own store, on
that venue's own role, for the orders of *its* customer with that address.

A link request answers the same whatever the address: 202, same body, and
not before ANSWER_FLOOR_SECONDS, so neither the answer nor its timing tells
whether any venue knows the address (docs/my-tickets.md).
"""

from __future__ import annotations

import html
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime, timezone
from typing import Any, Callable

from chalicelib.adapters import secrets
from chalicelib.adapters.my_tickets_store import CustomerTickets, LinkLedger
from chalicelib.adapters.network_store import NetworkStore
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain import my_tickets as rules, tokens
from chalicelib.domain.model import utcnow
from chalicelib.errors import (
    Conflict,
    LinkExpired,
    LinkInvalid,
    LinkUsed,
    MyTicketsSessionExpired,
    NotAuthenticated,
    NotFound,
    ServiceBusy,
    TooManyRequests,
)
from chalicelib.observability import logger
from chalicelib.settings import get_settings

StoreFor = Callable[[str], VenueStore]
# The slowest ordinary request (four venues asked, one mail sent) takes well
# under this locally and in AWS; every request is answered after it.
ANSWER_FLOOR_SECONDS = 1.0
# A venue that has not answered by then is left out (named `unavailable`).
VENUE_ANSWER_SECONDS = 3.0


def _active_venues(network: NetworkStore) -> list[dict[str, Any]]:
    return sorted((v for v in network.list_venues() if v.get("status") == "active"), key=lambda v: v["slug"])


def _ask_venues(network: NetworkStore, stores: StoreFor,
                question: Callable[[CustomerTickets], Any]) -> tuple[list[tuple[dict, Any]], list[str]]:
    """Ask every active venue at once, each on its own role: (venue, answer) for
    each venue whose answer is not None, and the venues that failed or did not
    answer within VENUE_ANSWER_SECONDS. A slow or broken venue neither stops nor
    slows the others' answers."""
    venues = _active_venues(network)
    if not venues:
        return [], []
    pool = ThreadPoolExecutor(max_workers=len(venues), thread_name_prefix="my-tickets")
    asked = {pool.submit(lambda slug: question(CustomerTickets(stores(slug))), venue["slug"]): venue for venue in venues}
    _, late = wait(asked, timeout=VENUE_ANSWER_SECONDS)
    pool.shutdown(wait=False, cancel_futures=True)  # a late venue's answer is not waited for
    answers, unavailable = [], []
    for future, venue in asked.items():
        if future in late:
            logger.warning("venue did not answer my tickets in time", extra={"venue": venue["slug"]})
            unavailable.append(venue["slug"])
            continue
        try:
            answer = future.result()
        except NotFound:
            continue  # deactivated between the list and the question
        except Exception:
            logger.exception("venue could not be asked for my tickets", extra={"venue": venue["slug"]})
            unavailable.append(venue["slug"])
            continue
        if answer is not None:
            answers.append((venue, answer))
    return answers, sorted(unavailable)


# -- asking for a link ------------------------------------------------------------------
def request_link(network: NetworkStore, stores: StoreFor, *, email: str, language: str, client: str,
                 request_key: str | None, now: datetime | None = None) -> None:
    """Send a one-time link if any venue knows the address; answer the same either way."""
    now_s = (now or utcnow()).timestamp()
    key = secrets.token_signing_key()
    window_start, retry_after = rules.window(now_s, rules.CLIENT_WINDOW_SECONDS)
    if not LinkLedger(network).count_client(rules.client_key(key, client, window_start), window_start,
                                            rules.LINKS_PER_CLIENT, window_start + rules.CLIENT_WINDOW_SECONDS):
        raise TooManyRequests("Too many links were asked for from here. Try again later.", retry_after=retry_after)
    started = time.monotonic()
    try:
        _send_link_if_known(network, stores, key, rules.normalise_email(email), rules.language_or_default(language),
                            request_key or uuid.uuid4().hex, now_s)
    except Exception as error:  # the buyer's answer must not depend on it either
        # Only the kind of error: SES's own messages name the addresses it refused.
        logger.error("my tickets link could not be sent", extra={"error": type(error).__name__})
    finally:
        remaining = ANSWER_FLOOR_SECONDS - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)


def _send_link_if_known(network: NetworkStore, stores: StoreFor, key: bytes, email: str, language: str,
                        request_key: str, now_s: float) -> None:
    def customer(customers: CustomerTickets) -> tuple[CustomerTickets, str] | None:
        customer_id = customers.customer_of(email)
        return (customers, customer_id) if customer_id else None

    known = [(venue, customers, customer_id)
             for venue, (customers, customer_id) in _ask_venues(network, stores, customer)[0]]
    if not known:
        logger.info("my tickets link not sent", extra={"reason": "no venue knows the address"})
        return
    window_start, _ = rules.window(now_s, rules.ADDRESS_WINDOW_SECONDS)
    # Counted at every venue that knows the address (where it already lives);
    # a list, not a generator, so each venue counts even after a refusal.
    counted = [customers.count_link_request(customer_id, window_start, request_key, rules.LINKS_PER_ADDRESS,
                                            window_start + rules.ADDRESS_WINDOW_SECONDS)
               for _, customers, customer_id in known]
    # Logged without venue names: which venues one (unnamed) request's buyer
    # bought at is still more than an operator needs to see.
    if not all(counted):
        logger.info("my tickets link not sent", extra={"reason": "address limit reached or repeated request"})
        return
    link = rules.seal(key, rules.LINK, email, language, int(now_s) + rules.LINK_SECONDS)
    url = f"{get_settings().public_base_url}/my-tickets.html?lang={language}#link={link}"
    _mail_link(email, language, url)
    logger.info("my tickets link sent", extra={"venues": len(known)})


LINK_MAIL = {
    "nl": {"subject": "Je tickets bij Loket Brugge",
           "intro": "Je vroeg een link om je tickets te bekijken. Deze link werkt één keer en {minutes} minuten lang.",
           "button": "Toon mijn tickets",
           "ignore": "Heb je dit niet gevraagd? Dan hoef je niets te doen."},
    "fr": {"subject": "Vos billets chez Loket Bruges",
           "intro": "Vous avez demandé un lien pour voir vos billets. Ce lien fonctionne une seule fois, pendant "
                    "{minutes} minutes.",
           "button": "Voir mes billets",
           "ignore": "Vous n’avez rien demandé ? Dans ce cas, vous n’avez rien à faire."},
    "en": {"subject": "Your tickets at Loket Brugge",
           "intro": "You asked for a link to see your tickets. It works once, for {minutes} minutes.",
           "button": "Show my tickets",
           "ignore": "Did not ask for this? Then there is nothing to do."},
}


def link_mail(language: str, url: str) -> dict[str, str]:
    language = rules.language_or_default(language)
    words = LINK_MAIL[language]
    intro = words["intro"].format(minutes=rules.LINK_SECONDS // 60)
    text = f"{intro}\n\n{words['button']}: {url}\n\n{words['ignore']}\n"
    body = (f'<!doctype html><html lang="{language}"><body style="font-family:sans-serif">'
            f"<p>{html.escape(intro)}</p>"
            f'<p><a href="{html.escape(url)}" style="display:inline-block;padding:12px 20px;background:#1f4e79;'
            f'color:#fff;text-decoration:none;border-radius:6px">{html.escape(words["button"])}</a></p>'
            f"<p>{html.escape(words['ignore'])}</p></body></html>")
    return {"subject": words["subject"], "text": text, "html": body}


def _mail_link(email: str, language: str, url: str) -> None:
    from chalicelib.adapters import mail

    message = link_mail(language, url)
    mail.send(mail.network_ses(), sender=mail.network_sender("Loket Brugge"), to=email, subject=message["subject"],
              html=message["html"], text=message["text"])


# -- using the link ---------------------------------------------------------------------
def open_link(network: NetworkStore, link: str, request_key: str | None = None,
              now: datetime | None = None) -> dict[str, Any]:
    """Use a link once: it becomes a session for SESSION_SECONDS; the link itself
    is spent. Only a retry of the same request (same Idempotency-Key, whose answer
    was lost) gets a session from it again."""
    now_s = (now or utcnow()).timestamp()
    key = secrets.token_signing_key()
    try:
        opened = rules.open_token(key, rules.LINK, link, now_s)
    except rules.TokenExpired as expired:
        raise LinkExpired("This link has expired. Ask for a new one.") from expired
    if opened is None:
        raise LinkInvalid("This link is not valid. Copy it completely from the e-mail, or ask for a new one.")
    # Kept a day past the link's expiry, after which the link is refused as expired anyway.
    key_hash = tokens.token_hash(request_key or uuid.uuid4().hex)
    if not LinkLedger(network).use_once(opened.token_id, opened.expires_at + 86400, key_hash):
        raise LinkUsed("This link was already used. Ask for a new one.")
    expires_at = int(now_s) + rules.SESSION_SECONDS
    return {"session": rules.seal(key, rules.SESSION, opened.email, opened.language, expires_at),
            "expires_at": _iso(expires_at), "language": opened.language}


def _session(token: str | None, now: datetime | None) -> rules.Opened:
    try:
        opened = rules.open_token(secrets.token_signing_key(), rules.SESSION, token, (now or utcnow()).timestamp())
    except rules.TokenExpired as expired:
        raise MyTicketsSessionExpired("This page was open too long. Ask for a new link.") from expired
    if opened is None:
        raise NotAuthenticated("Open the link from your e-mail to see your tickets.")
    return opened


def opened_session(token: str | None, now: datetime | None = None) -> rules.Opened:
    """The address and language a valid session was opened for (api/privacy.py asks a venue on the buyer's behalf)."""
    return _session(token, now)


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def tickets(network: NetworkStore, stores: StoreFor, session: str | None,
            now: datetime | None = None) -> dict[str, Any]:
    """The session's tickets at every active venue, each venue on its own role."""
    opened = _session(session, now)

    def paid_orders(customers: CustomerTickets) -> list | None:
        customer_id = customers.customer_of(opened.email)
        return customers.paid_orders(customer_id) if customer_id else None

    answers, unavailable = _ask_venues(network, stores, paid_orders)
    orders = []
    for venue, paid in answers:
        for order, issued in paid:
            orders.append({
                "venue": venue["slug"], "venue_name": venue.get("name", venue["slug"]),
                "brand_color": venue.get("brand_color"), "order_id": order.order_id,
                "paid_at": order.paid_at.isoformat() if order.paid_at else None, "total": order.total,
                "tickets": [{**t.model_dump(mode="json", exclude={"checked_in_at"}), "used": t.checked_in_at is not None}
                            for t in sorted(issued, key=lambda t: (t.starts_at, t.ticket_id))]})
    orders.sort(key=lambda o: o["paid_at"] or "", reverse=True)
    return {"email": opened.email, "language": opened.language, "expires_at": _iso(opened.expires_at),
            "orders": orders, "unavailable": unavailable}


def _own_paid_order(store: VenueStore, opened: rules.Opened, order_id: str) -> tuple[CustomerTickets, Any]:
    """The session's own paid order at this venue; NotFound for any other."""
    customers = CustomerTickets(store)
    customer_id = customers.customer_of(opened.email)
    order = customers.paid_order_of(customer_id, order_id) if customer_id else None
    if order is None:
        raise NotFound("This order is not among your tickets.")
    return customers, order


def documents(store: VenueStore, session: str | None, order_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Fresh short-lived links to one of the session's orders' PDF and .ics (services/order_delivery.py)."""
    from chalicelib.services import order_delivery

    _own_paid_order(store, _session(session, now), order_id)
    return {**order_delivery.order_documents(store, order_id), "link_seconds": order_delivery.LINK_SECONDS}


# -- re-sending an order's confirmation ---------------------------------------------------
def resend(network: NetworkStore, store: VenueStore, session: str | None, order_id: str, request_key: str | None,
           now: datetime | None = None) -> dict[str, Any]:
    """Ask the order's venue to send its confirmation again (services/order_delivery.py),
    in the buyer's language: once per order per RESEND_COOLDOWN_SECONDS; a retry
    with the same Idempotency-Key sends nothing more."""
    from botocore.exceptions import ClientError

    from chalicelib.adapters import mail
    from chalicelib.services import order_delivery

    opened = _session(session, now)
    customers, _ = _own_paid_order(store, opened, order_id)
    request_key = request_key or uuid.uuid4().hex
    state, wait = customers.claim_resend(order_id, request_key, int((now or utcnow()).timestamp()),
                                         rules.RESEND_COOLDOWN_SECONDS)
    if state == "wait":
        raise TooManyRequests("This order's confirmation was sent again a moment ago. Check your inbox (and spam "
                              "folder) or try again later.", retry_after=wait)
    if state == "repeat":
        return {"venue": store.venue, "order_id": order_id, "status": "sent"}
    try:
        sent = order_delivery.send_again(network, store, order_id, store.tickets_of_order(order_id),
                                         store.get_order_item(order_id)["buyer"], opened.language)
    except (mail.MailRejected, ClientError) as error:  # SES answered: nothing went out, the buyer may ask again
        customers.forget_resend(order_id, request_key)
        logger.warning("confirmation not sent again", extra={"venue": store.venue, "order_id": order_id,
                                                             "error": type(error).__name__})
        raise ServiceBusy("The confirmation could not be sent just now. Try again in a minute.", retry_after=60) \
            from error
    if sent is None:
        customers.forget_resend(order_id, request_key)
        raise Conflict("This order's tickets are still being prepared; the confirmation follows in a moment.",
                       reason="not_delivered_yet")
    logger.info("confirmation sent again", extra={"venue": store.venue, "order_id": order_id})
    return {"venue": store.venue, "order_id": order_id, "status": "sent"}
