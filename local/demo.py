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


# Performances: (when, capacity) or (when, capacity, places left): `when` is
# days from today, or "today" / "saturday" / "sunday" (this weekend), so
# the storefront's date filters always have something to find.
EVENTS = {
    "stadsloket": [
        ("Stadswandeling bij kaarslicht", "Rondleiding", "Markt (vertrek)", _prices(1200, 800, 1000), [("today", 40), (12, 40)]),
        ("Winterconcert op de Burg", "Muziek", "Burgplein", _prices(1500, 1000, 1200), [(20, 400)]),
    ],
    "concertzaal": [
        ("Beethoven 9 – Symfonieorkest Vlaanderen", "Klassiek", "Grote zaal", _prices(4500, 1500, 4000), [(9, 1200), (10, 1200)]),
        ("Jazz aan het Zand: Trio Noord", "Jazz", "Kamermuziekzaal", _prices(2400, 1200, 2000), [("saturday", 300)]),
        # Nearly sold out: places sold at the counter before the demo began.
        ("Het Strijkkwartet – Schubert & Ravel", "Klassiek", "Kamermuziekzaal", _prices(2800, 1200, 2400), [(23, 60, 4)]),
    ],
    "cc-reien": [
        ("De Kersvertelling (familie 6+)", "Familie", "Zaal Reien", _prices(1400, 1000, 1200, [("kind", "Kind -12", 800)]), [("sunday", 350), (7, 350)]),
        ("Stand-up: Vrij Spel", "Humor", "Zaal Reien", _prices(2200, 1600, 2000), [(13, 350)]),
        ("Dansavond: Contemporary Now", "Dans", "Studio", _prices(1800, 1000, 1500), [(35, 120)]),
    ],
    "club-kaap": [
        ("Nachtwinkel + support", "Pop/rock", "Clubzaal", _prices(1800, 1800, 1800), [(8, 250)]),
        ("Kaap Elektronisch", "Elektronica", "Clubzaal", _prices(2000, 1500, 2000), [("saturday", 250)]),
        ("De Grote Hype – clubshow", "Pop/rock", "Clubzaal", _prices(3200, 3200, 3200), [(30, 250)]),
    ],
}

# What the storefront shows of each event: genre, duration, age advice, and
# texts in Dutch, French and English (one event only in Dutch: the page says so).
DETAILS = {
    "Stadswandeling bij kaarslicht": {
        "genre": "tour", "duration_minutes": 90, "age_advice": 8,
        "nl": ("Stadswandeling bij kaarslicht", "Een gids neemt je mee langs verborgen hofjes en reien, enkel bij het licht van lantaarns.\n\nVertrek aan het Belfort. Trek warme schoenen aan."),
        "fr": ("Promenade aux chandelles", "Un guide vous emmène à travers les béguinages et canaux cachés, à la seule lumière des lanternes.\n\nDépart au Beffroi. Prévoyez des chaussures chaudes."),
        "en": ("Candlelight city walk", "A guide takes you past hidden almshouses and canals, lit only by lanterns.\n\nStarts at the Belfry. Wear warm shoes.")},
    "Winterconcert op de Burg": {
        "genre": "festival", "duration_minutes": 120, "age_advice": 0,
        "nl": ("Winterconcert op de Burg", "Koren, fanfares en een gastsolist brengen winterse klassiekers onder de sterren. Glühwein en warme chocolademelk aan de kraampjes."),
        "fr": ("Concert d'hiver sur le Burg", "Chœurs, fanfares et un soliste invité jouent des classiques d'hiver sous les étoiles. Vin chaud et chocolat chaud aux échoppes."),
        "en": ("Winter concert on the Burg", "Choirs, brass bands and a guest soloist play winter classics under the stars. Mulled wine and hot chocolate at the stalls.")},
    "Beethoven 9 – Symfonieorkest Vlaanderen": {
        "genre": "classical", "duration_minutes": 75, "age_advice": 10,
        "nl": ("Beethoven 9 – Symfonieorkest Vlaanderen", "De Negende, met koor en vier solisten: van de onrustige opening tot de Ode an die Freude."),
        "fr": ("Beethoven 9 – Orchestre symphonique de Flandre", "La Neuvième, avec chœur et quatre solistes : de l'ouverture inquiète à l'Ode à la joie."),
        "en": ("Beethoven 9 – Flanders Symphony Orchestra", "The Ninth, with choir and four soloists: from the restless opening to the Ode to Joy.")},
    "Jazz aan het Zand: Trio Noord": {
        "genre": "jazz", "duration_minutes": 100, "age_advice": 12,
        "nl": ("Jazz aan het Zand: Trio Noord", "Piano, contrabas en drums: Trio Noord speelt eigen werk en Scandinavische standards, intiem en swingend."),
        "fr": ("Jazz au Zand : Trio Noord", "Piano, contrebasse et batterie : le Trio Noord joue ses compositions et des standards scandinaves, intimes et swinguants."),
        "en": ("Jazz at the Zand: Trio Noord", "Piano, double bass and drums: Trio Noord plays its own work and Scandinavian standards, intimate and swinging.")},
    "Het Strijkkwartet – Schubert & Ravel": {
        "genre": "classical", "duration_minutes": 90, "age_advice": 12,
        "nl": ("Het Strijkkwartet – Schubert & Ravel", "Schuberts 'Der Tod und das Mädchen' naast het kwartet van Ravel, in de warme akoestiek van de Kamermuziekzaal."),
        "fr": ("Le Quatuor à cordes – Schubert & Ravel", "« La Jeune Fille et la Mort » de Schubert et le quatuor de Ravel, dans l'acoustique chaleureuse de la salle de musique de chambre."),
        "en": ("The String Quartet – Schubert & Ravel", "Schubert's 'Death and the Maiden' alongside Ravel's quartet, in the warm acoustics of the chamber music hall.")},
    "De Kersvertelling (familie 6+)": {
        "genre": "family", "duration_minutes": 55, "age_advice": 6,
        "nl": ("De Kersvertelling (familie 6+)", "Een verteller, een cellist en een doos vol schaduwen: een winterverhaal voor kinderen vanaf zes en hun (groot)ouders."),
        "fr": ("Le Conte de Noël (famille 6+)", "Un conteur, un violoncelliste et une boîte pleine d'ombres : un conte d'hiver pour les enfants dès six ans et leurs (grands-)parents."),
        "en": ("The Christmas Tale (family 6+)", "A storyteller, a cellist and a box full of shadows: a winter tale for children from six and their (grand)parents.")},
    "Stand-up: Vrij Spel": {
        "genre": "comedy", "duration_minutes": 80, "age_advice": 14,
        "nl": ("Stand-up: Vrij Spel", "Vier jonge comedians, één avond, geen vangnet. Wie wint de zaal?")},
    "Dansavond: Contemporary Now": {
        "genre": "dance", "duration_minutes": 70, "age_advice": 12,
        "nl": ("Dansavond: Contemporary Now", "Drie korte creaties van jonge Vlaamse choreografen, met livemuziek."),
        "fr": ("Soirée danse : Contemporary Now", "Trois courtes créations de jeunes chorégraphes flamands, avec musique live."),
        "en": ("Dance night: Contemporary Now", "Three short pieces by young Flemish choreographers, with live music.")},
    "Nachtwinkel + support": {
        "genre": "pop-rock", "duration_minutes": 150, "age_advice": 16,
        "nl": ("Nachtwinkel + support", "Gitaren, synths en Nederlandstalige teksten: Nachtwinkel stelt zijn tweede plaat voor."),
        "fr": ("Nachtwinkel + première partie", "Guitares, synthés et textes en néerlandais : Nachtwinkel présente son deuxième album."),
        "en": ("Nachtwinkel + support", "Guitars, synths and Dutch lyrics: Nachtwinkel presents its second album.")},
    "Kaap Elektronisch": {
        "genre": "electronic", "duration_minutes": 300, "age_advice": 18,
        "nl": ("Kaap Elektronisch", "Een nacht lang techno en house van lokale dj's, met lichtshow."),
        "fr": ("Kaap Électronique", "Une nuit de techno et de house avec des DJ locaux et un spectacle de lumière."),
        "en": ("Kaap Electronic", "A night of techno and house by local DJs, with a light show.")},
    "De Grote Hype – clubshow": {
        "genre": "pop-rock", "duration_minutes": 90, "age_advice": 14,
        "nl": ("De Grote Hype – clubshow", "De band van het moment speelt één clubshow in Brugge. Verkoop via de wachtrij."),
        "fr": ("De Grote Hype – concert en club", "Le groupe du moment joue un seul concert en club à Bruges. Vente via la file d'attente."),
        "en": ("De Grote Hype – club show", "The band of the moment plays one club show in Bruges. Sold through the waiting room.")},
}

# Sold through the waiting room (docs/onsale.md): its on-sale opens this many
# seconds after `make run` starts, so a newcomer sees the countdown, joins the
# pre-queue and sees the draw.
ONSALE_EVENT = "De Grote Hype – clubshow"
ONSALE_OPENS_IN_SECONDS = int(os.environ.get("LOKET_DEMO_ONSALE_OPENS_IN", "120"))


def performance_time(when: int | str, now: datetime | None = None) -> datetime:
    """20:00 on the day meant (15:00 on Sundays); "today" is at least an hour from now."""
    now = (now or datetime.now(BRUSSELS)).astimezone(BRUSSELS)
    today = now.date()
    if when == "today":
        evening = datetime.combine(today, time(20, 0), tzinfo=BRUSSELS)
        later = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return max(evening, min(later, datetime.combine(today, time(23, 59), tzinfo=BRUSSELS)))
    if when in ("saturday", "sunday"):
        saturday = today + timedelta(days=(5 - today.weekday()) % 7)
        day = saturday if when == "saturday" else saturday + timedelta(days=1)
        if today.weekday() == 6 and when == "sunday":
            day = today
        return datetime.combine(day, time(20, 0) if when == "saturday" else time(15, 0), tzinfo=BRUSSELS)
    return datetime.combine(today + timedelta(days=when), time(20, 0), tzinfo=BRUSSELS)


def event_request(title: str, category: str, hall: str, prices: list[dict]):
    from chalicelib.domain.model import NewEvent

    details = DETAILS[title]
    nl_title, nl_description = details["nl"]
    return NewEvent(title=nl_title, description=nl_description, category=category, hall=hall, price_types=prices,
                    genre=details["genre"], duration_minutes=details["duration_minutes"],
                    age_advice=details["age_advice"],
                    translations={language: {"title": details[language][0], "description": details[language][1]}
                                  for language in ("fr", "en") if language in details})


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
    from chalicelib.domain.model import NewPerformance, OnSaleSettings
    from chalicelib.services import catalogue, events, onsale
    from local import demo_images, stack as local_stack

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
            event = events.create_event(store, event_request(title, category, hall, prices))
            events.set_image(network, store, event.event_id,
                             demo_images.poster(title, next(v["brand_color"] for v in VENUES if v["slug"] == slug)),
                             "image/jpeg")
            for when, capacity, *left in performances:
                performance = events.add_performance(store, event.event_id,
                                                     NewPerformance(starts_at=performance_time(when), capacity=capacity))
                if left:  # sold earlier at the counter: the demo's "few left"
                    store.put_performance(performance.model_copy(update={"available": left[0]}))
                if title == ONSALE_EVENT:
                    opens_at = datetime.now(BRUSSELS) + timedelta(seconds=ONSALE_OPENS_IN_SECONDS)
                    onsale.configure(bootstrap.onsale(store), event.event_id, performance.performance_id,
                                     OnSaleSettings(opens_at=opens_at, admit_per_second=20, max_tickets_per_buyer=4))
            store.mark_published(event.event_id)
            count += 1
        catalogue.publish_venue(network, store, with_network=False)
    catalogue.publish_network(network)
    return {"venues": len(VENUES), "events": count}
