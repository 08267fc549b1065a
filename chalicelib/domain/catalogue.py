"""The public catalogue documents. Only public event data: no stock numbers,
no orders, no people."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.model import Availability, Event, Performance, VenueProfile


def venue_card(venue: dict[str, Any], profile: VenueProfile | None = None) -> dict[str, Any]:
    """The registry's public fields, and where the venue set its profile: its
    own name, address, map link, logo and colours (never its reply-to)."""
    card = {k: venue.get(k) for k in ("slug", "name", "city", "description", "brand_color", "website")}
    if profile is not None:
        card.update(name=profile.display_name, city=profile.address.city, brand_color=profile.colours.primary,
                    on_brand_color=profile.colours.on_primary, website=profile.website or card["website"],
                    address=profile.address.model_dump(), address_line=profile.address.one_line(),
                    map_url=profile.map_link, logo=profile.logo_key, logo_small=_small_logo(profile.logo_key))
    return card


def _small_logo(logo_key: str | None) -> str | None:
    """The smallest stored width of a logo (pages show it at 48 px; the
    profile names the largest, for print)."""
    if not logo_key:
        return None
    from chalicelib.domain.images import PURPOSES

    stem, _, rest = logo_key.rpartition("-")
    width, _, extension = rest.partition(".")
    return f"{stem}-{min(int(width), PURPOSES['logo']['widths'][0])}.{extension}" if width.isdigit() else logo_key


def event_document(venue: dict[str, Any], event: Event, performances: list[Performance],
                   profile: VenueProfile | None = None) -> dict[str, Any]:
    """`title`/`description` are the event's own (Dutch); `texts` has every
    language the venue gave, so a page can fall back to Dutch and say so."""
    return {
        "venue": venue_card(venue, profile),
        "event_id": event.event_id,
        "title": event.title,
        "description": event.description,
        "texts": {"nl": {"title": event.title, "description": event.description},
                  **{language: texts.model_dump() for language, texts in sorted(event.translations.items())}},
        "category": event.category,
        "genre": event.genre,
        "duration_minutes": event.duration_minutes,
        "age_advice": event.age_advice,
        "image": event.image.model_dump() if event.image else None,
        "hall": event.hall,
        "price_types": [p.model_dump(exclude={"channels"}) for p in event.prices_on("online")],
        "cancelled": bool(event.cancelled_at),
        "performances": [_performance_line(venue, event, p) for p in performances],
    }


def _performance_line(venue: dict[str, Any], event: Event, performance: Performance) -> dict[str, Any]:
    """A cancelled date reads as sold out to pages that know no better, and says it is cancelled."""
    cancelled = bool(event.cancelled_at or performance.cancelled_at)
    line = {"performance_id": performance.performance_id, "starts_at": performance.starts_at.isoformat(),
            "availability": Availability.SOLD_OUT.value if cancelled else performance.availability.value,
            **_onsale(venue, performance)}
    if cancelled:
        line["cancelled"] = True
    if performance.hall:
        line["hall"] = performance.hall
    return line


def best_availability(levels: list[str]) -> str:
    """An event's level on its card: the best of its performances' levels."""
    for level in (Availability.AVAILABLE, Availability.FEW_LEFT):
        if level.value in levels:
            return level.value
    return Availability.SOLD_OUT.value


def _onsale(venue: dict[str, Any], performance: Performance) -> dict[str, Any]:
    """A high-demand performance: its waiting room's opening and status file."""
    if performance.onsale is None:
        return {}
    return {"onsale": {"opens_at": performance.onsale.opens_at.isoformat(),
                       "max_tickets_per_buyer": performance.onsale.max_tickets_per_buyer,
                       "status_url": f"/catalogue/queue/{venue['slug']}/{performance.performance_id}.json"}}


def event_summary(document: dict[str, Any]) -> dict[str, Any]:
    """An event's line in the venue and network pages: what the home page's
    cards, filters and search need, without opening each event's page."""
    performances = document["performances"]
    levels = [p["availability"] for p in performances]
    return {
        "venue": document["venue"]["slug"],
        "event_id": document["event_id"],
        "title": document["title"],
        "titles": {language: texts["title"] for language, texts in document.get("texts", {}).items()},
        "category": document["category"],
        "genre": document.get("genre", "other"),
        "duration_minutes": document.get("duration_minutes"),
        "age_advice": document.get("age_advice"),
        "image": document.get("image"),
        "hall": document["hall"],
        "first_performance": min((p["starts_at"] for p in performances), default=None),
        "performance_count": len(performances),
        "performances": [{"starts_at": p["starts_at"], "availability": p["availability"],
                          **({"cancelled": True} if p.get("cancelled") else {})} for p in performances],
        "cancelled": bool(document.get("cancelled")),
        "from_price": min((p["amount"] for p in document["price_types"]), default=None),
        "availability": best_availability(levels) if performances else None,
        "sold_out": bool(performances) and all(level == "sold_out" for level in levels),
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
