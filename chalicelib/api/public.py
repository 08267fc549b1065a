"""Public buyer API: reservations, one checkout for the whole basket, the
buyer's own order. Browsing is not here: the catalogue is static files."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.http import route, header, idempotency_key, json_response, parse
from chalicelib.domain.model import NewCheckout, NewHold
from chalicelib.services import sales

public = Blueprint(__name__)


def _venue_store(venue: str):
    sales.active_venue(bootstrap.network(), venue)  # unknown or inactive: 404 before any credentials
    return bootstrap.store_for(venue)


def _hold_body(hold) -> dict:
    body = hold.model_dump(mode="json")
    body.update(quantity=hold.quantity, total=hold.total)
    return body


@route(public, "/health", methods=["GET"])
def health():
    return {"status": "ok"}


@route(public, "/holds", methods=["POST"])
def create_hold():
    request = public.current_request
    new = parse(request, NewHold)
    hold, created = sales.hold(bootstrap.network(), bootstrap.store_for, new, idempotency_key(request, required=False))
    return json_response(_hold_body(hold), 201 if created else 200)


@route(public, "/holds/{venue}/{hold_id}", methods=["GET"])
def read_hold(venue, hold_id):
    return json_response(_hold_body(sales.get_hold(_venue_store(venue), hold_id)))


@route(public, "/holds/{venue}/{hold_id}", methods=["DELETE"])
def cancel_hold(venue, hold_id):
    sales.release(_venue_store(venue), hold_id)
    return json_response(None, 204)


@route(public, "/checkout", methods=["POST"])
def start_checkout():
    request = public.current_request
    new = parse(request, NewCheckout)
    answer = sales.checkout(bootstrap.network(), bootstrap.store_for, new, idempotency_key(request, required=True, min_length=16))
    return json_response(answer, 201)


@route(public, "/baskets/{basket_id}", methods=["GET"])
def read_basket(basket_id):
    request = public.current_request
    token = header(request, "x-basket-token") or (request.query_params or {}).get("token", "")
    return json_response(sales.basket_for_buyer(bootstrap.network(), bootstrap.store_for, basket_id, token),
                         headers={"Cache-Control": "no-store"})
