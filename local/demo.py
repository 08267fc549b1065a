"""The demo network: a Flemish city with a city box office, a concert hall,
a cultural centre and a music club, each with its own events, halls, price
types and staff. Seeded through the same services the API uses."""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")
DEMO_PASSWORD = "loket-demo-2026"

VENUES = [
    {"slug": "stadsloket", "name": "Stadsloket Brugge", "brand_color": "#b45309",
     "description": "Het centrale ticketloket van de stad: stadsfeesten, rondleidingen en evenementen op straat."},
    {"slug": "concertzaal", "name": "Concertzaal Zand", "brand_color": "#7c2d12",
     "description": "Klassiek, jazz en wereldmuziek in een akoestisch topgebouw."},
    {"slug": "cc-reien", "name": "Cultuurcentrum De Reien", "brand_color": "#1d4ed8",
     "description": "Theater, dans, humor en familievoorstellingen in drie zalen."},
    {"slug": "club-kaap", "name": "Muziekclub Kaap", "brand_color": "#15803d",
     "description": "Pop, rock en elektronica in een kleine club met grote namen."},
]

# Each venue's public profile (VenueProfile): address, colours, logo initials, ticket footers.
PROFILES = {
    "stadsloket": {"street": "Burg 11", "initials": "SB", "on_primary": "#ffffff", "website": "https://www.brugge.be",
                   "ticket_texts": {"nl": "Stadsloket Brugge – vragen? Kom langs op de Burg of bel 050 00 00 00.",
                                    "fr": "Stadsloket Bruges – des questions ? Passez au Burg ou appelez le 050 00 00 00.",
                                    "en": "Stadsloket Brugge – questions? Visit us on the Burg or call 050 00 00 00."}},
    "concertzaal": {"street": "'t Zand 34", "initials": "CZ", "on_primary": "#ffffff",
                    "ticket_texts": {"nl": "Zaal open 45 minuten voor aanvang. Laatkomers wachten tot de pauze.",
                                     "fr": "Ouverture de la salle 45 minutes avant le début. Les retardataires attendent l'entracte.",
                                     "en": "Doors open 45 minutes before the start. Latecomers wait for the interval."}},
    "cc-reien": {"street": "Sint-Jakobsstraat 20", "initials": "DR", "on_primary": "#ffffff",
                 "ticket_texts": {"nl": "Vrije plaatsen, tenzij anders vermeld. Gratis vestiaire.",
                                  "fr": "Placement libre, sauf indication contraire. Vestiaire gratuit.",
                                  "en": "Unreserved seating unless stated otherwise. Free cloakroom."}},
    "club-kaap": {"street": "Langestraat 140", "initials": "K", "on_primary": "#ffffff",
                  "ticket_texts": {"nl": "Staanplaatsen. Identiteitskaart meebrengen (16+ na 22 uur).",
                                   "fr": "Places debout. Apportez votre carte d'identité (16+ après 22 h).",
                                   "en": "Standing only. Bring ID (16+ after 10 pm)."}},
}

STANDARD = [("normaal", "Normaal"), ("-26", "-26"), ("65+", "65+")]


def _prices(normaal: int, young: int, senior: int, extra: list[tuple[str, str, int]] = ()) -> list[dict]:
    amounts = {"normaal": normaal, "-26": young, "65+": senior}
    return [{"code": c, "label": label, "amount": amounts[c]} for c, label in STANDARD] + [
        {"code": c, "label": label, "amount": a} for c, label, a in extra]


EVENTS = {
    "stadsloket": [
        ("Stadswandeling bij kaarslicht", "Rondleiding", "Markt (vertrek)", _prices(1200, 800, 1000), [(5, 40), (12, 40)]),
        ("Winterconcert op de Burg", "Muziek", "Burgplein", _prices(1500, 1000, 1200), [(20, 400)]),
    ],
    "concertzaal": [
        ("Beethoven 9 – Symfonieorkest Vlaanderen", "Klassiek", "Grote zaal", _prices(4500, 1500, 4000), [(9, 1200), (10, 1200)]),
        ("Jazz aan het Zand: Trio Noord", "Jazz", "Kamermuziekzaal", _prices(2400, 1200, 2000), [(16, 300)]),
        ("Het Strijkkwartet – Schubert & Ravel", "Klassiek", "Kamermuziekzaal", _prices(2800, 1200, 2400), [(23, 10)]),
    ],
    "cc-reien": [
        ("De Kersvertelling (familie 6+)", "Familie", "Zaal Reien", _prices(1400, 1000, 1200, [("kind", "Kind -12", 800)]), [(6, 350), (7, 350)]),
        ("Stand-up: Vrij Spel", "Humor", "Zaal Reien", _prices(2200, 1600, 2000), [(13, 350)]),
        ("Dansavond: Contemporary Now", "Dans", "Studio", _prices(1800, 1000, 1500), [(27, 120)]),
    ],
    "club-kaap": [
        ("Nachtwinkel + support", "Pop/rock", "Clubzaal", _prices(1800, 1800, 1800), [(8, 250)]),
        ("Kaap Elektronisch", "Elektronica", "Clubzaal", _prices(2000, 1500, 2000), [(15, 250)]),
        ("De Grote Hype – clubshow", "Pop/rock", "Clubzaal", _prices(3200, 3200, 3200), [(30, 250)]),
    ],
}
# Sold through the waiting room (docs/onsale.md): its on-sale opens this many
# seconds after `make run` starts, so a newcomer sees the countdown, joins the
# pre-queue and sees the draw.
ONSALE_EVENT = "De Grote Hype – clubshow"
ONSALE_OPENS_IN_SECONDS = int(os.environ.get("LOKET_DEMO_ONSALE_OPENS_IN", "120"))


def performance_time(days_ahead: int, today: datetime | None = None) -> datetime:
    today = (today or datetime.now(BRUSSELS)).astimezone(BRUSSELS).date()
    return datetime.combine(today + timedelta(days=days_ahead), time(20, 0), tzinfo=BRUSSELS)


def staff_accounts() -> list[tuple[str, list[str]]]:
    accounts = [("netwerk-admin", ["network-admin"])]
    for venue in VENUES:
        accounts.append((f"{venue['slug']}-lead", [f"venue-{venue['slug']}-lead"]))
        accounts.append((f"{venue['slug']}-kassa", [f"venue-{venue['slug']}-clerk"]))
    return accounts


def set_profile(network, store, venue: dict) -> None:
    """The venue's profile with a logo drawn for it, through the lead's own services."""
    from chalicelib.domain.model import VenueProfile
    from chalicelib.services import images, venue_profile
    from local import demo_images

    extra = PROFILES[venue["slug"]]
    logo = demo_images.logo(extra["initials"], venue["brand_color"], extra["on_primary"])
    logo_key = images.upload(store, logo, "image/png", "logo")["logo_key"]
    venue_profile.put(network, store, VenueProfile(
        display_name=venue["name"], address={"street": extra["street"], "postal_code": "8000", "city": "Brugge"},
        logo_key=logo_key, colours={"primary": venue["brand_color"], "on_primary": extra["on_primary"]},
        reply_to=f"tickets@{venue['slug']}.example", ticket_texts=extra["ticket_texts"],
        website=extra.get("website")))


def seed() -> dict:
    """Onboard the demo venues, create and publish their events, create staff."""
    from chalicelib import bootstrap
    from chalicelib.adapters import identity
    from chalicelib.domain.model import NewEvent, NewPerformance, OnSaleSettings
    from chalicelib.services import catalogue, events, onsale
    from local import stack as local_stack

    for profile in VENUES:
        local_stack.onboard_venue({**profile, "city": "Brugge"})
    for username, groups in staff_accounts():
        identity.create_staff(username, DEMO_PASSWORD, groups)
    network = bootstrap.network()
    for venue in VENUES:
        set_profile(network, bootstrap.worker_store(venue["slug"]), venue)
    count = 0
    for slug, venue_events in EVENTS.items():
        store = bootstrap.worker_store(slug)
        for title, category, hall, prices, performances in venue_events:
            event = events.create_event(store, NewEvent(title=title, category=category, hall=hall, price_types=prices,
                                                        description=f"{title} in {hall}."))
            for days, capacity in performances:
                performance = events.add_performance(store, event.event_id,
                                                     NewPerformance(starts_at=performance_time(days), capacity=capacity))
                if title == ONSALE_EVENT:
                    opens_at = datetime.now(BRUSSELS) + timedelta(seconds=ONSALE_OPENS_IN_SECONDS)
                    onsale.configure(bootstrap.onsale(store), event.event_id, performance.performance_id,
                                     OnSaleSettings(opens_at=opens_at, admit_per_second=20, max_tickets_per_buyer=4))
            store.mark_published(event.event_id)
            count += 1
        catalogue.publish_venue(network, store, with_network=False)
    catalogue.publish_network(network)
    return {"venues": len(VENUES), "events": count}
