"""Exporting a venue before it is offboarded (docs/operations.md).

The export runs on the venue's own role, so it is bound by the same walls as
every other venue-scoped job: it can scan only this venue's table and write
only under `venues/{venue}/` of the stage's backups bucket.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from chalicelib.adapters import aws, tenancy, venue_export
from chalicelib.domain.model import utcnow
from chalicelib.settings import get_settings


def kind_of(item: dict[str, Any]) -> str:
    """ORDER#..., CUSTOMER#..., SETTINGS: the item's kind is its key's prefix."""
    return item["pk"]["S"].split("#", 1)[0]


def count_kinds(items: list[dict[str, Any]]) -> dict[str, int]:
    return dict(sorted(Counter(kind_of(item) for item in items).items()))


def export_prefix(venue: str, stamp: str) -> str:
    return f"venues/{venue}/exports/{stamp}"


def export_venue(venue: str, registry_entry: dict[str, Any], *, session: Any = None) -> dict[str, Any]:
    """Every item of the venue's table to the backups bucket; returns the
    manifest (ids, counts and the key: no personal data). The registry entry
    (public profile, Stripe account id) rides along so a restore brings the
    venue back as it was."""
    session = session or tenancy.venue_session(venue)
    settings = get_settings()
    table = tenancy.venue_table_name(venue)
    items = list(venue_export.scan_items(aws.client("dynamodb", session), table))
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    manifest = {"venue": venue, "table": table, "stage": settings.stage, "exported_at": utcnow().isoformat(),
                "item_count": len(items), "counts": count_kinds(items),
                "registry_entry": {k: v for k, v in registry_entry.items() if k not in ("offboarding",)}}
    manifest = venue_export.write_export(aws.client("s3", session), settings.backups_bucket,
                                         export_prefix(venue, stamp), items, manifest)
    return {**manifest, "bucket": settings.backups_bucket, "prefix": export_prefix(venue, stamp)}
