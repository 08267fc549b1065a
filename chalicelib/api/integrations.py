"""A venue lead's API keys for the venue's own integrations (docs/integrations.md).

The secret is in the answer to the POST (and to a rotation) and nowhere else,
ever: Loket keeps its hash. The integrator routes that take the keys are in
api/v1.py.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.http import json_response, parse, route

integrations = Blueprint(__name__)

NO_STORE = {"Cache-Control": "no-store"}


def _stage() -> str:
    from chalicelib.settings import get_settings

    return get_settings().stage


@route(integrations, "/venues/{venue}/api-keys", methods=["GET"], venue_access="lead")
def list_api_keys(venue, *, store, caller):
    from chalicelib.services import api_keys

    return json_response(api_keys.list_keys(bootstrap.network(), venue), headers=NO_STORE)


@route(integrations, "/venues/{venue}/api-keys", methods=["POST"], venue_access="lead")
def create_api_key(venue, *, store, caller):
    from chalicelib.domain.api_keys import NewApiKey
    from chalicelib.services import api_keys

    body = parse(integrations.current_request, NewApiKey)
    return json_response(api_keys.create(bootstrap.network(), venue, _stage(), body), 201, headers=NO_STORE)


@route(integrations, "/venues/{venue}/api-keys/{key_id}", methods=["DELETE"], venue_access="lead")
def revoke_api_key(venue, key_id, *, store, caller):
    from chalicelib.services import api_keys

    return json_response(api_keys.revoke(bootstrap.network(), venue, key_id), headers=NO_STORE)


@route(integrations, "/venues/{venue}/api-keys/{key_id}/rotate", methods=["POST"], venue_access="lead")
def rotate_api_key(venue, key_id, *, store, caller):
    """A new secret with the same label and scopes; the old one works `overlap_minutes` more (default 24 h)."""
    from chalicelib.domain.api_keys import Rotation
    from chalicelib.services import api_keys

    request = integrations.current_request
    rotation = parse(request, Rotation) if request.raw_body else Rotation()
    return json_response(api_keys.rotate(bootstrap.network(), venue, _stage(), key_id, rotation), 201,
                         headers=NO_STORE)


@route(integrations, "/openapi.json", methods=["GET"])
def openapi_description():
    """The OpenAPI 3.1 description of the integrator API (public; a copy is in the site bucket)."""
    import app as chalice_app

    from chalicelib.api import openapi

    return json_response(openapi.build(chalice_app.app), headers={"Cache-Control": "public, max-age=300"})
