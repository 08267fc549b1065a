"""Network admin API: the venue registry and onboarding. Nothing here reads a
venue's table: a network admin manages the network, not the venues' customers
(`venue_access="network-admin"` hands the view the verified admin, never a
venue store).

Onboarding (services/venues: CloudFormation, Stripe accounts, staff groups)
and catalogue publishing are imported by the views that use them, so a cold
start of the API does not load them for the buyers' and staff's routes.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.http import route, json_response, parse

network = Blueprint(__name__)


@route(network, "/network/venues", methods=["GET"], venue_access="network-admin")
def list_venues(*, caller):
    from chalicelib.services import venues

    return json_response([venues.public_profile(v) for v in bootstrap.network().list_venues()])


@route(network, "/network/venues", methods=["POST"], venue_access="network-admin")
def onboard_venue(*, caller):
    from chalicelib.services import venues

    body = parse(network.current_request, venues.NewVenue)
    venue = venues.onboard(bootstrap.network(), body)
    return json_response(venues.public_profile(venue), 202, {"Location": f"/network/venues/{body.slug}"})


@route(network, "/network/venues/{venue}", methods=["GET"], venue_access="network-admin")
def read_venue(venue, *, caller):
    from chalicelib.services import venues

    found = venues.finish_onboarding(bootstrap.network(), venue)
    return json_response(venues.public_profile(found))


@route(network, "/network/venues/{venue}/offboarding", methods=["POST"], venue_access="network-admin")
def prepare_offboarding(venue, *, caller):
    """Step 1 of 2: stop the venue's sales and export its table; deletes nothing."""
    from chalicelib.services import venues

    return json_response(venues.prepare_offboarding(bootstrap.network(), venue), 202,
                         {"Cache-Control": "no-store"})


@route(network, "/network/venues/{venue}", methods=["DELETE"], venue_access="network-admin")
def offboard_venue(venue, *, caller):
    """Step 2 of 2: `?confirmation=` from step 1, or 428 and nothing happens."""
    from chalicelib.services import venues

    query = network.current_request.query_params or {}
    return json_response(venues.offboard(bootstrap.network(), venue, confirmation=query.get("confirmation")))


@route(network, "/network/catalogue", methods=["POST"], venue_access="network-admin")
def republish_catalogue(*, caller):
    from chalicelib.services import catalogue

    catalogue.publish_network(bootstrap.network())
    return json_response({"published": True})
