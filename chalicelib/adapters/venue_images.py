"""A venue's images in the catalogue bucket, written with the venue's own role.

The venue role may write only under `catalogue/images/{venue}/` of the site
bucket (infra/venue.yaml OwnImagesOnly; the boundary allows catalogue/images/
at most), so one venue cannot replace another venue's pictures. Reads are
public, through the edge (CloudFront), like the rest of the catalogue.
"""

from __future__ import annotations

from chalicelib.adapters import aws
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.settings import get_settings

# Keys carry the content's digest: a stored variant never changes.
IMMUTABLE = "public, max-age=31536000, immutable"


def prefix(venue: str) -> str:
    return f"catalogue/images/{venue}/"


class VenueImages:
    def __init__(self, store: VenueStore) -> None:
        self.venue = store.venue
        self.s3 = aws.client("s3", store.session)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        if not key.startswith(prefix(self.venue)):
            raise ValueError(f"{key} is not under {prefix(self.venue)}")
        self.s3.put_object(Bucket=get_settings().site_bucket, Key=key, Body=data, ContentType=content_type,
                           CacheControl=IMMUTABLE)
