"""Public buyer API: reservations, one checkout for the whole basket, the
buyer's own order. Browsing is not here: the catalogue is static files.

A buyer is a session, not an account: the first reservation answers with a
`buyer_session` (also in the `X-Buyer-Session` response header) that the
client sends with every later call. Reservations are visible, cancellable
and payable only with the session that made them.

Cold start: importing this module only registers the routes; each view
imports the request models and the sale service it needs when first called
(docs/decisions.md, "Cold start").
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.http import header, idempotency_key, json_response, parse, route
from chalicelib.errors import NotAuthenticated

public = Blueprint(__name__)
SESSION_HEADER = "X-Buyer-Session"


def _hold_body(hold) -> dict:
    body = hold.model_dump(mode="json", exclude={"buyer"})
    body.update(quantity=hold.quantity, total=hold.total)
    return body


def buyer_session(request, *, issue: bool = True) -> tuple[str | None, str | None]:
    """(session, buyer) of the caller; with `issue`, a new session for a first-time buyer."""
    from chalicelib.services import sales

    session = header(request, SESSION_HEADER)
    buyer = _buyer(request, required=False)
    if buyer is None and issue:
        session = sales.new_buyer_session()
        buyer = sales.buyer_of(session)
    return session, buyer


def _buyer(request, *, required: bool = True) -> str | None:
    from chalicelib.services import sales

    session = header(request, SESSION_HEADER)
    buyer = sales.buyer_of(session)
    if session and buyer is None:
        raise NotAuthenticated(f"This {SESSION_HEADER} was not issued by Loket; leave it out to get a new one.")
    if required and buyer is None:
        raise NotAuthenticated(f"Send the {SESSION_HEADER} you got with your first reservation.")
    return buyer


@route(public, "/health", methods=["GET"])
def health():
    return {"status": "ok"}


@route(public, "/holds", methods=["POST"], venue_access="public")
def create_hold(*, stores):
    from chalicelib.domain.model import NewHold
    from chalicelib.services import sales

    request = public.current_request
    new = parse(request, NewHold)
    session, buyer = buyer_session(request)
    hold, created = sales.hold(bootstrap.network(), stores, new, idempotency_key(request, required=False), buyer)
    return json_response({**_hold_body(hold), "buyer_session": session}, 201 if created else 200,
                         headers={SESSION_HEADER: session, "Cache-Control": "no-store"})


@route(public, "/holds/{venue}/{hold_id}", methods=["GET"], venue_access="public")
def read_hold(venue, hold_id, *, store):
    from chalicelib.services import sales

    hold = sales.get_hold(store, hold_id, _buyer(public.current_request))
    return json_response(_hold_body(hold), headers={"Cache-Control": "no-store"})


@route(public, "/holds/{venue}/{hold_id}", methods=["DELETE"], venue_access="public")
def cancel_hold(venue, hold_id, *, store):
    from chalicelib.services import sales

    sales.release(store, hold_id, _buyer(public.current_request), bootstrap.network())
    return json_response(None, 204)


@route(public, "/checkout", methods=["POST"], venue_access="public")
def start_checkout(*, stores):
    from chalicelib.domain.model import NewCheckout
    from chalicelib.services import sales

    request = public.current_request
    new = parse(request, NewCheckout)
    answer = sales.checkout(bootstrap.network(), stores, new, idempotency_key(request, required=True, min_length=16),
                            _buyer(request))
    return json_response(answer, 201, headers={"Cache-Control": "no-store"})


def _basket_token(request) -> str:
    return header(request, "x-basket-token") or (request.query_params or {}).get("token", "")


@route(public, "/baskets/{basket_id}", methods=["GET"], venue_access="public")
def read_basket(basket_id, *, stores):
    from chalicelib.services import sales

    request = public.current_request
    return json_response(sales.basket_for_buyer(bootstrap.network(), stores, basket_id, _basket_token(request)),
                         headers={"Cache-Control": "no-store"})


@route(public, "/baskets/{basket_id}/abandon", methods=["POST"], venue_access="public")
def abandon_basket(basket_id, *, stores):
    """The buyer left the payment page without paying: the reservations are theirs again."""
    from chalicelib.services import sales

    request = public.current_request
    return json_response(sales.abandon_basket(bootstrap.network(), stores, basket_id, _basket_token(request)),
                         headers={"Cache-Control": "no-store"})


@route(public, "/baskets/{basket_id}/documents", methods=["GET"], venue_access="public")
def basket_documents(basket_id, *, stores):
    """Short-lived links to the tickets (PDF, .ics) of each paid order, and
    whether its confirmation mail went out. Only with the basket token."""
    from chalicelib.services import order_delivery

    request = public.current_request
    return json_response(order_delivery.documents_for_buyer(bootstrap.network(), stores, basket_id,
                                                            _basket_token(request)),
                         headers={"Cache-Control": "no-store"})
