"""The catalogue builder (domain/catalogue.py): plain Python, no AWS."""

from __future__ import annotations

from datetime import datetime, timezone

from chalicelib.domain import catalogue
from chalicelib.domain.model import Event, Performance, VenueProfile

VENUE = {"slug": "cc-reien", "name": "CC De Reien", "city": "Brugge", "description": "", "brand_color": "#1d4ed8",
         "website": "", "stripe_account_id": "acct_secret", "status": "active"}
PROFILE = VenueProfile(display_name="Cultuurcentrum De Reien",
                       address={"street": "Sint-Jakobsstraat 20", "postal_code": "8000", "city": "Brugge"},
                       colours={"primary": "#0f766e", "on_primary": "#ffffff"}, reply_to="tickets@reien.example",
                       logo_key="catalogue/images/cc-reien/logo-0123456789abcdef0123-480.png")


def _event(**extra) -> Event:
    return Event(event_id="ev1", venue="cc-reien", published=True, created_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
                 title="De Kersvertelling", description="Een winterverhaal.", hall="Zaal Reien", category="Familie",
                 genre="family", duration_minutes=55, age_advice=6,
                 translations={"fr": {"title": "Le Conte de Noël", "description": "Un conte d'hiver."}},
                 price_types=[{"code": "normaal", "label": "Normaal", "amount": 1400},
                              {"code": "kind", "label": "Kind", "amount": 800}], **extra)


def _performance(performance_id: str, day: int, available: int, capacity: int = 100) -> Performance:
    return Performance(performance_id=performance_id, event_id="ev1", capacity=capacity, available=available,
                       starts_at=datetime(2026, 12, day, 19, tzinfo=timezone.utc))


def test_the_event_page_has_every_language_the_venue_gave_and_its_facts():
    document = catalogue.event_document(VENUE, _event(), [_performance("p1", 12, 50)], PROFILE)
    assert document["texts"] == {"nl": {"title": "De Kersvertelling", "description": "Een winterverhaal."},
                                 "fr": {"title": "Le Conte de Noël", "description": "Un conte d'hiver."}}
    assert "en" not in document["texts"]  # the page falls back to Dutch and says so
    assert (document["genre"], document["duration_minutes"], document["age_advice"]) == ("family", 55, 6)
    assert document["image"] is None


def test_the_venue_card_shows_the_profile_but_nothing_private():
    card = catalogue.event_document(VENUE, _event(), [], PROFILE)["venue"]
    assert card["name"] == "Cultuurcentrum De Reien"
    assert card["address_line"] == "Sint-Jakobsstraat 20, 8000 Brugge"
    assert card["map_url"].startswith("https://www.openstreetmap.org/search?query=Sint-Jakobsstraat")
    assert card["brand_color"] == "#0f766e" and card["logo"].endswith("-480.png")
    assert card["logo_small"] == "catalogue/images/cc-reien/logo-0123456789abcdef0123-160.png"
    text = repr(card)
    assert "acct_secret" not in text and "tickets@reien.example" not in text


def test_without_a_profile_the_card_is_the_registrys():
    card = catalogue.venue_card(VENUE)
    assert card == {k: VENUE[k] for k in ("slug", "name", "city", "description", "brand_color", "website")}


def test_availability_levels_follow_stock_and_the_card_shows_the_best():
    performances = [_performance("p1", 12, 0), _performance("p2", 13, 5), _performance("p3", 14, 60)]
    document = catalogue.event_document(VENUE, _event(), performances, PROFILE)
    assert [p["availability"] for p in document["performances"]] == ["sold_out", "few_left", "available"]
    summary = catalogue.event_summary(document)
    assert summary["availability"] == "available" and not summary["sold_out"]
    assert [p["availability"] for p in summary["performances"]] == ["sold_out", "few_left", "available"]

    nearly = catalogue.event_summary(catalogue.event_document(VENUE, _event(), performances[:2], PROFILE))
    assert nearly["availability"] == "few_left" and not nearly["sold_out"]
    gone = catalogue.event_summary(catalogue.event_document(VENUE, _event(), performances[:1], PROFILE))
    assert gone["availability"] == "sold_out" and gone["sold_out"]
    # No stock figures anywhere in the public documents.
    assert "'available': 0" not in repr(document) and "capacity" not in repr(document)


def test_the_summary_carries_what_the_home_page_filters_and_searches_on():
    image = {"key": "catalogue/images/cc-reien/event-0123456789abcdef0123", "format": "webp", "widths": [400, 800],
             "width": 800, "height": 450}
    document = catalogue.event_document(VENUE, _event(image=image), [_performance("p2", 13, 50),
                                                                     _performance("p1", 12, 50)], PROFILE)
    summary = catalogue.event_summary(document)
    assert summary["titles"] == {"nl": "De Kersvertelling", "fr": "Le Conte de Noël"}
    assert summary["genre"] == "family" and summary["image"] == image
    assert summary["first_performance"] == "2026-12-12T19:00:00+00:00"
    assert [p["starts_at"][:10] for p in summary["performances"]] == ["2026-12-13", "2026-12-12"]
    assert summary["from_price"] == 800 and summary["performance_count"] == 2


def test_the_network_page_lists_venues_by_name_and_events_by_date():
    early = {"first_performance": "2026-12-01T19:00:00+00:00", "event_id": "a"}
    later = {"first_performance": "2026-12-24T19:00:00+00:00", "event_id": "b"}
    undated = {"first_performance": None, "event_id": "c"}
    page = catalogue.network_document([{"name": "Zaal"}, {"name": "Arena"}], [later, undated, early])
    assert [c["name"] for c in page["venues"]] == ["Arena", "Zaal"]
    assert [e["event_id"] for e in page["events"]] == ["c", "a", "b"]
