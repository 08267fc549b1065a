"""Network admin API: the venue registry and onboarding. Nothing here reads a
venue's table: a network admin manages the network, not the venues' customers."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.http import route, json_response, network_admin, parse
from chalicelib.services import catalogue, venues

network = Blueprint(__name__)


@route(network, "/network/venues", methods=["GET"])
def list_venues():
    network_admin(network.current_request)
    return json_response([venues.public_profile(v) for v in bootstrap.network().list_venues()])


@route(network, "/network/venues", methods=["POST"])
def onboard_venue():
    network_admin(network.current_request)
    body = parse(network.current_request, venues.NewVenue)
    venue = venues.onboard(bootstrap.network(), body)
    return json_response(venues.public_profile(venue), 202, {"Location": f"/network/venues/{body.slug}"})


@route(network, "/network/venues/{venue}", methods=["GET"])
def read_venue(venue):
    network_admin(network.current_request)
    found = venues.finish_onboarding(bootstrap.network(), venue)
    return json_response(venues.public_profile(found))


@route(network, "/network/venues/{venue}", methods=["DELETE"])
def offboard_venue(venue):
    network_admin(network.current_request)
    venues.offboard(bootstrap.network(), venue)
    return json_response(None, 204)


@route(network, "/network/catalogue", methods=["POST"])
def republish_catalogue():
    network_admin(network.current_request)
    catalogue.publish_network(bootstrap.network())
    return json_response({"published": True})
