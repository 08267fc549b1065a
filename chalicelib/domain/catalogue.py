"""The public catalogue documents. Only public event data: no stock numbers,
no orders, no people."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.model import Event, Performance, VenueProfile


def venue_card(venue: dict[str, Any], profile: VenueProfile | None = None) -> dict[str, Any]:
    """The registry's public fields, and where the venue set its profile: its
    own name, address, map link, logo and colours (never its reply-to)."""
    card = {k: venue.get(k) for k in ("slug", "name", "city", "description", "brand_color", "website")}
    if profile is not None:
        card.update(name=profile.display_name, city=profile.address.city, brand_color=profile.colours.primary,
                    on_brand_color=profile.colours.on_primary, website=profile.website or card["website"],
                    address=profile.address.model_dump(), address_line=profile.address.one_line(),
                    map_url=profile.map_link, logo=profile.logo_key)
    return card


def event_document(venue: dict[str, Any], event: Event, performances: list[Performance],
                   profile: VenueProfile | None = None) -> dict[str, Any]:
    return {
        "venue": venue_card(venue, profile),
        "event_id": event.event_id,
        "title": event.title,
        "description": event.description,
        "category": event.category,
        "hall": event.hall,
        "price_types": [p.model_dump() for p in event.price_types],
        "performances": [
            {"performance_id": p.performance_id, "starts_at": p.starts_at.isoformat(),
             "availability": p.availability.value, **_onsale(venue, p)}
            for p in performances
        ],
    }


def _onsale(venue: dict[str, Any], performance: Performance) -> dict[str, Any]:
    """A high-demand performance: its waiting room's opening and status file."""
    if performance.onsale is None:
        return {}
    return {"onsale": {"opens_at": performance.onsale.opens_at.isoformat(),
                       "max_tickets_per_buyer": performance.onsale.max_tickets_per_buyer,
                       "status_url": f"/catalogue/queue/{venue['slug']}/{performance.performance_id}.json"}}


def event_summary(document: dict[str, Any]) -> dict[str, Any]:
    performances = document["performances"]
    return {
        "venue": document["venue"]["slug"],
        "event_id": document["event_id"],
        "title": document["title"],
        "category": document["category"],
        "hall": document["hall"],
        "first_performance": min((p["starts_at"] for p in performances), default=None),
        "performance_count": len(performances),
        "from_price": min((p["amount"] for p in document["price_types"]), default=None),
        "sold_out": bool(performances) and all(p["availability"] == "sold_out" for p in performances),
        "url": f"catalogue/events/{document['venue']['slug']}/{document['event_id']}.json",
    }


def venue_document(venue: dict[str, Any], summaries: list[dict[str, Any]],
                   profile: VenueProfile | None = None) -> dict[str, Any]:
    return {"venue": venue_card(venue, profile),
            "events": sorted(summaries, key=lambda s: s["first_performance"] or "")}


def network_document(cards: list[dict[str, Any]], summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """`cards`: each venue's card as its venue page has it."""
    return {
        "venues": sorted(cards, key=lambda c: c["name"]),
        "events": sorted(summaries, key=lambda s: s["first_performance"] or ""),
    }
