"""A venue uploads an image (an event picture or its logo): it is checked,
resized to a few widths and stored in the catalogue bucket under the venue's
own prefix, with the venue's own role."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.venue_images import VenueImages, prefix
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain import images
from chalicelib.observability import logger


def upload(store: VenueStore, data: bytes, content_type: str, purpose: str) -> dict[str, Any]:
    """Returns the stored image: for an event, the `image` to put on the event;
    for a logo, the `logo_key` to put in the venue profile."""
    made = images.make_variants(data, content_type, purpose)
    base = f"{prefix(store.venue)}{purpose}-{made.digest}"
    target = VenueImages(store)
    for variant in made.variants:
        target.put(f"{base}-{variant.width}.{made.format}", variant.data, made.content_type)
    largest = made.variants[-1]
    logger.info("image stored", extra={"venue": store.venue, "purpose": purpose, "widths": len(made.variants),
                                       "bytes": sum(len(v.data) for v in made.variants)})
    answer: dict[str, Any] = {"purpose": purpose, "widths": [v.width for v in made.variants],
                              "width": largest.width, "height": largest.height}
    if purpose == "logo":
        answer["logo_key"] = f"{base}-{largest.width}.{made.format}"
    else:
        answer["image"] = {"key": base, "format": made.format, "widths": answer["widths"],
                           "width": largest.width, "height": largest.height}
    return answer
