"""A venue's public profile: its name, address, map link, logo, colours,
reply-to address and ticket texts, kept in the venue's own table
(`VenueStore.get_profile`/`put_profile`). The catalogue shows name, address
and map link; tickets and mails use the rest."""

from __future__ import annotations

from chalicelib.adapters.network_store import NetworkStore
from chalicelib.adapters.venue_images import prefix
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain.model import VenueProfile
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.observability import logger
from chalicelib.services import catalogue


def get(store: VenueStore) -> VenueProfile:
    profile = store.get_profile()
    if profile is None:
        raise NotFound("This venue has no profile yet: its lead sets one with PUT /venues/{venue}/profile.")
    return profile


def put(network: NetworkStore, store: VenueStore, profile: VenueProfile) -> VenueProfile:
    """Store the profile and republish the venue's catalogue pages, which show it."""
    if profile.logo_key and not profile.logo_key.startswith(prefix(store.venue)):
        raise InvalidInput("logo_key must be an image this venue uploaded (POST /venues/{venue}/images?purpose=logo).",
                           errors=[{"field": "logo_key", "message": "not this venue's image", "code": "foreign_image"}])
    store.put_profile(profile)
    logger.info("venue profile changed", extra={"venue": store.venue})
    catalogue.publish_venue(network, store)
    return profile


def public_view(profile: VenueProfile) -> dict:
    """The profile as the API answers it, with the map link a page should use."""
    return {**profile.model_dump(mode="json"), "map_link": profile.map_link}
