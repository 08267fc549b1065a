"""The versioned REST API for a venue's integrations: `/v1/venues/{venue}/...`,
called with the venue's API key (`venue_access="api-key"` and the one scope the
route needs; docs/integrations.md). Each view reads the venue's data in the
venue's own role, from the store the gate hands it, through the same services
the staff pages use.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import json_response, route

v1 = Blueprint(__name__)


@route(v1, "/v1/venues/{venue}/events", methods=["GET"], venue_access="api-key", scope="catalogue:read")
def list_events(venue, *, store, caller):
    return json_response({"data": [e.model_dump(mode="json") for e in store.list_events()]})
