"""The storefront in a real Chromium on the running site (tests/browser_site.py):
filters and date search find the right events; nl/fr/en with the language in
the URL, including an API error in the page's language; a purchase up to the
payment page with the keyboard only; axe finds no serious or critical
violations on the home, event, basket and order pages; a sell-out shows in
the catalogue within 5 s; bytes and first contentful paint measured."""

from __future__ import annotations

import json
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from waiting import until

BRUSSELS = ZoneInfo("Europe/Brussels")
MONTHS_NL = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
             "november", "december"]


@contextmanager
def _page(browser, **options):
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
        assert not errors, errors
    finally:
        context.close()


def _catalogue(site) -> dict:
    return requests.get(site.url("/catalogue/network.json"), timeout=10).json()


def _day(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(BRUSSELS).date().isoformat()


def _today() -> str:
    return datetime.now(BRUSSELS).date().isoformat()


def _expected(site, within) -> set[str]:
    """Events with a performance still to come on a day `within` accepts, from the catalogue itself."""
    today = _today()
    return {e["event_id"] for e in _catalogue(site)["events"]
            if any(today <= _day(p["starts_at"]) and within(_day(p["starts_at"])) for p in e["performances"])}


def _shown(page) -> set[str]:
    page.wait_for_selector("#events[aria-busy='false']")
    return set(page.locator("#events > li").evaluate_all("cards => cards.map(c => c.dataset.event)"))


def _weekend(today: str) -> tuple[str, str]:
    day = datetime.fromisoformat(today).date()
    if day.weekday() == 6:
        return today, today
    saturday = day + timedelta(days=(5 - day.weekday()) % 7)
    return saturday.isoformat(), (saturday + timedelta(days=1)).isoformat()


def test_filters_and_date_search_find_the_right_events(site, browser, artifacts):
    today = _today()
    saturday, sunday = _weekend(today)
    with _page(browser) as page:
        page.goto(site.url("/"))
        everything = _shown(page)
        assert len(everything) >= 10

        page.get_by_role("button", name="Vandaag").click()
        assert _shown(page) == _expected(site, lambda d: d == today) != set()
        assert "when=today" in page.url
        page.screenshot(path=str(artifacts / "home-today.png"), full_page=True)

        page.get_by_role("button", name="Dit weekend").click()
        assert _shown(page) == _expected(site, lambda d: saturday <= d <= sunday) != set()

        page.get_by_role("button", name="Kies data").click()
        start = (datetime.fromisoformat(today) + timedelta(days=8)).date().isoformat()
        end = (datetime.fromisoformat(today) + timedelta(days=14)).date().isoformat()
        page.fill("#date-from", start)
        page.fill("#date-to", end)
        page.locator("#date-to").dispatch_event("change")
        assert _shown(page) == _expected(site, lambda d: start <= d <= end) != set()
        assert f"from={start}" in page.url and f"to={end}" in page.url

        page.get_by_role("button", name="Alle data").click()
        page.select_option("#genre-filter", "classical")
        classical = {e["event_id"] for e in _catalogue(site)["events"] if e["genre"] == "classical"}
        assert _shown(page) == classical and len(classical) >= 2
        page.select_option("#genre-filter", "")
        page.select_option("#venue-filter", "club-kaap")
        assert _shown(page) == {e["event_id"] for e in _catalogue(site)["events"] if e["venue"] == "club-kaap"}
        page.select_option("#venue-filter", "")

        # A search that names a date: a weekday, a day and month, an ISO date; in Dutch, and a word with it.
        page.fill("#search", "zaterdag")
        assert _shown(page) == _expected(site, lambda d: d == saturday) != set()
        assert page.inner_text("#dates-found")
        page.fill("#search", "jazz zaterdag")
        jazz_saturday = {e["event_id"] for e in _catalogue(site)["events"] if e["genre"] == "jazz"} & _expected(
            site, lambda d: d == saturday)
        assert _shown(page) == jazz_saturday != set()
        quartet = next(e for e in _catalogue(site)["events"] if e["title"].startswith("Het Strijkkwartet"))
        day = datetime.fromisoformat(quartet["first_performance"]).astimezone(BRUSSELS).date()
        page.fill("#search", f"{day.day} {MONTHS_NL[day.month - 1]}")
        assert quartet["event_id"] in _shown(page)
        assert _shown(page) == _expected(site, lambda d: d == day.isoformat())
        page.fill("#search", day.isoformat())
        assert _shown(page) == _expected(site, lambda d: d == day.isoformat())
        page.screenshot(path=str(artifacts / "home-date-search.png"), full_page=True)

        # The filters are in the URL: a reload (or a shared link) shows the same list.
        page.fill("#search", "zaterdag")
        page.select_option("#genre-filter", "jazz")
        page.reload()
        assert _shown(page) == jazz_saturday
        assert page.input_value("#search") == "zaterdag" and page.input_value("#genre-filter") == "jazz"

    # In French, a French weekday finds the same Saturday.
    with _page(browser) as page:
        page.goto(site.url("/?lang=fr&q=samedi"))
        assert _shown(page) == _expected(site, lambda d: d == saturday)
        assert page.inner_text("h1") == "Programme"


def test_the_home_page_shows_each_venues_address_and_map_link(site, browser):
    venues = _catalogue(site)["venues"]
    with _page(browser) as page:
        page.goto(site.url("/?lang=en"))
        _shown(page)
        assert page.inner_text("#venues-heading") == "The venues"
        for venue in venues:
            card = page.locator(f"#venues li[data-venue='{venue['slug']}']")
            assert venue["name"] in card.inner_text() and venue["address_line"] in card.inner_text()
            assert card.get_by_role("link", name=f"Show on the map: {venue['name']}").get_attribute("href") == venue["map_url"]


def _event_with(site, predicate) -> dict:
    for summary in _catalogue(site)["events"]:
        if predicate(summary):
            return summary
    raise AssertionError("no such demo event")


def test_three_languages_with_dutch_fallback_and_a_translated_api_error(site, browser, artifacts):
    quartet = _event_with(site, lambda e: e["title"].startswith("Het Strijkkwartet"))
    dutch_only = _event_with(site, lambda e: set(e["titles"]) == {"nl"})
    with _page(browser) as page:
        page.goto(site.url("/?lang=fr"))
        _shown(page)
        assert page.inner_text("h1") == "Programme"
        card = page.locator(f"#events > li[data-event='{quartet['event_id']}']")
        assert card.locator("h2").inner_text() == quartet["titles"]["fr"]
        assert "Dernières places" in card.text_content()  # the nearly sold-out performance
        fallback = page.locator(f"#events > li[data-event='{dutch_only['event_id']}'] h2")
        assert fallback.get_attribute("lang") == "nl" and "NL" in fallback.inner_text()
        page.screenshot(path=str(artifacts / "home-fr.png"), full_page=True)

        # A shared link keeps the language; links inside the page carry it on.
        card.locator("a").click()
        page.wait_for_url("**/event.html?*lang=fr*")
        page.wait_for_selector("#booking:not([hidden])")
        assert page.inner_text("h1") == quartet["titles"]["fr"]
        assert "8000 Brugge" in page.inner_text(".venue-address")
        assert page.locator(".venue-address a").get_attribute("href").startswith("https://www.openstreetmap.org/")
        # Asking for more places than are left: the API answers 409 sold-out, the page says it in French.
        page.fill("#qty-normaal", "6")
        page.click("#reserve")
        page.wait_for_selector("#message:not([hidden])")
        assert page.inner_text("#message") == "Il ne reste plus assez de places pour cette représentation."
        assert page.get_attribute("#message", "data-problem").endswith("/sold-out")
        page.screenshot(path=str(artifacts / "event-fr-error.png"), full_page=True)

        page.get_by_role("button", name="EN", exact=True).click()
        assert "lang=en" in page.url
        assert page.inner_text("h1") == quartet["titles"]["en"]
        page.click("#reserve")
        page.wait_for_selector("#message:has-text('not enough places left')")
        assert page.inner_text("#message") == "There are not enough places left for this performance."

        page.goto(site.url(f"/event.html?venue={dutch_only['venue']}&event={dutch_only['event_id']}&lang=en"))
        page.wait_for_selector("#only-dutch")
        assert page.get_attribute("h1", "lang") == "nl"
        assert page.inner_text("#only-dutch") == "This text is only available in Dutch."
        assert page.inner_text(".event-facts").count("minutes") == 1
        page.screenshot(path=str(artifacts / "event-en-dutch-only.png"), full_page=True)


def _focus(page, selector: str, limit: int = 80) -> None:
    """Press Tab until `selector` has the focus, as a keyboard user would."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus with Tab")


def test_a_purchase_up_to_the_payment_page_with_the_keyboard_only(site, browser, artifacts):
    event = _event_with(site, lambda e: e["title"].startswith("Beethoven 9"))
    with _page(browser) as page:
        page.goto(site.url("/"))
        _shown(page)
        _focus(page, "#search")
        page.keyboard.type("Beethoven")
        _focus(page, f"li[data-event='{event['event_id']}'] a")
        page.keyboard.press("Enter")
        page.wait_for_selector("#booking:not([hidden])")
        _focus(page, "input[name='performance']")
        page.keyboard.press("ArrowDown")  # the second performance
        assert page.evaluate("document.activeElement.checked")
        _focus(page, "button[aria-controls='qty-normaal'][aria-label*='meer']")
        page.keyboard.press("Enter")
        page.keyboard.press("Space")
        assert page.input_value("#qty-normaal") == "2"
        _focus(page, "#reserve")
        page.keyboard.press("Enter")
        page.wait_for_selector("#confirmation:not([hidden])")
        assert page.evaluate("document.activeElement.id") == "to-basket"
        page.keyboard.press("Enter")
        page.wait_for_url("**/basket.html*")
        page.wait_for_selector("#checkout-section:not([hidden])")
        _focus(page, "#buyer-name")
        page.keyboard.type("Toetsenbord Koper")
        _focus(page, "#buyer-email")
        page.keyboard.type(f"keyboard-{uuid.uuid4().hex[:8]}@example.be")
        _focus(page, "#checkout")
        page.screenshot(path=str(artifacts / "basket-keyboard.png"), full_page=True)
        page.keyboard.press("Enter")
        page.wait_for_selector("#pay")  # the payment page (Stripe's, locally the emulator's)
        page.screenshot(path=str(artifacts / "payment-page.png"), full_page=True)


def test_tap_targets_are_at_least_44_px(site, browser, artifacts):
    event = _event_with(site, lambda e: e["title"].startswith("Nachtwinkel"))
    with _page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True) as page:
        page.goto(site.url(f"/event.html?venue={event['venue']}&event={event['event_id']}"))
        page.wait_for_selector("#booking:not([hidden])")
        sizes = page.locator(".stepper, #reserve, .lang-switch button").evaluate_all(
            "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })")
        assert sizes and all(w >= 44 and h >= 44 for w, h in sizes), sizes
        page.screenshot(path=str(artifacts / "event-phone.png"), full_page=True)
        page.goto(site.url("/"))
        _shown(page)
        page.screenshot(path=str(artifacts / "home-phone.png"))


def _axe(page, name: str, artifacts) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    (artifacts / f"axe-{name}.json").write_text(json.dumps(results.response["violations"], indent=1))
    assert not serious, f"{name}: " + "; ".join(f"{v['id']}: {v['help']}" for v in serious)


def test_axe_finds_no_serious_violations_on_home_event_basket_and_order(site, browser, artifacts):
    event = _event_with(site, lambda e: e["title"].startswith("Dansavond"))
    with _page(browser) as page:
        page.goto(site.url("/"))
        _shown(page)
        _axe(page, "home", artifacts)
        page.screenshot(path=str(artifacts / "home.png"), full_page=True)
        page.goto(site.url(f"/event.html?venue={event['venue']}&event={event['event_id']}&lang=fr"))
        page.wait_for_selector("#booking:not([hidden])")
        _axe(page, "event", artifacts)
        page.screenshot(path=str(artifacts / "event.png"), full_page=True)
        page.fill("#qty-normaal", "1")
        page.click("#reserve")
        page.click("#to-basket")
        page.wait_for_selector("#checkout-section:not([hidden])")
        assert page.inner_text(".hold-title") == event["titles"]["fr"]  # the basket speaks the page's language
        _axe(page, "basket", artifacts)
        page.screenshot(path=str(artifacts / "basket.png"), full_page=True)
        page.fill("#buyer-name", "Axe Koper")
        page.fill("#buyer-email", f"axe-{uuid.uuid4().hex[:8]}@example.be")
        page.click("#checkout")
        page.click("#pay")
        page.wait_for_url("**/order.html?*")
        page.wait_for_selector(".ticket-code")
        _axe(page, "order", artifacts)
        page.screenshot(path=str(artifacts / "order.png"), full_page=True)


def _staff_token(site, username: str) -> str:
    answer = requests.post(site.url("/api/staff/session"), json={"username": username, "password": "loket-demo-2026"},
                           timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["id_token"]


def test_a_sell_out_shows_in_the_catalogue_within_5_seconds(site, browser, artifacts):
    lead = {"Authorization": f"Bearer {_staff_token(site, 'club-kaap-lead')}"}
    created = requests.post(site.url("/api/venues/club-kaap/events"), headers=lead, timeout=30, json={
        "title": f"Uitverkocht {uuid.uuid4().hex[:6]}", "hall": "Clubzaal", "genre": "pop-rock",
        "price_types": [{"code": "normaal", "label": "Normaal", "amount": 1500}]}).json()
    starts = (datetime.now(BRUSSELS) + timedelta(days=3)).replace(microsecond=0).isoformat()
    performance = requests.post(site.url(f"/api/venues/club-kaap/events/{created['event_id']}/performances"),
                                headers=lead, json={"starts_at": starts, "capacity": 30}, timeout=30).json()
    assert requests.post(site.url(f"/api/venues/club-kaap/events/{created['event_id']}/publish"), headers=lead,
                         timeout=60).status_code == 200
    document = site.url(f"/catalogue/events/club-kaap/{created['event_id']}.json")
    with _page(browser) as page:
        page.goto(site.url(f"/event.html?venue=club-kaap&event={created['event_id']}"))
        page.wait_for_selector(".performance .badge-available")

        # Another buyer takes every place.
        hold = requests.post(site.url("/api/holds"), headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=30, json={
            "venue": "club-kaap", "event_id": created["event_id"], "performance_id": performance["performance_id"],
            "tickets": [{"price_type": "normaal", "quantity": 20}]})
        assert hold.status_code == 201, hold.text
        rest = requests.post(site.url("/api/holds"), headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=30, json={
            "venue": "club-kaap", "event_id": created["event_id"], "performance_id": performance["performance_id"],
            "tickets": [{"price_type": "normaal", "quantity": 10}]})
        assert rest.status_code == 201, rest.text
        sold_at = time.monotonic()

        def sold_out_in_the_catalogue() -> bool:  # the public files, as a browser reads them
            level = requests.get(document, timeout=5).json()["performances"][0]["availability"]
            network_line = next(e for e in _catalogue(site)["events"] if e["event_id"] == created["event_id"])
            return level == "sold_out" and network_line["sold_out"]

        until(sold_out_in_the_catalogue, "sold out on the event page and the network page")
        elapsed = time.monotonic() - sold_at
        (artifacts / "sell-out.json").write_text(json.dumps({"seconds_to_catalogue": round(elapsed, 3)}))
        print(f"sell-out visible in the catalogue after {elapsed:.2f} s")

        page.reload()
        page.wait_for_selector(".performance .badge-sold-out")
        assert page.locator("#all-sold-out").is_visible()
        page.screenshot(path=str(artifacts / "event-sold-out.png"), full_page=True)
        page.goto(site.url(f"/?q={created['title'].split()[1]}"))
        assert page.locator(f"li[data-event='{created['event_id']}'] .badge-sold-out").text_content() == "Uitverkocht"


def test_a_lead_uploads_a_picture_through_the_edge_and_the_event_page_shows_it(site, browser):
    """Binary bodies through CloudFront's stand-in and `chalice local`, as a venue's own tool would send them."""
    import io

    from PIL import Image

    lead = {"Authorization": f"Bearer {_staff_token(site, 'stadsloket-lead')}"}
    event = _event_with(site, lambda e: e["venue"] == "stadsloket")
    out = io.BytesIO()
    Image.new("RGB", (1400, 700), (200, 120, 40)).save(out, "JPEG")
    answer = requests.put(site.url(f"/api/venues/stadsloket/events/{event['event_id']}/image"), data=out.getvalue(),
                          headers={**lead, "Content-Type": "image/jpeg"}, timeout=60)
    assert answer.status_code == 200, answer.text
    image = answer.json()["image"]
    assert image["widths"] == [400, 800, 1200] and (image["width"], image["height"]) == (1200, 600)
    picture = requests.get(site.url(f"/{image['key']}-800.webp"), timeout=10)
    assert picture.status_code == 200 and picture.headers["Content-Type"] == "image/webp"
    with _page(browser) as page:
        page.goto(site.url(f"/event.html?venue=stadsloket&event={event['event_id']}"))
        hero = page.locator("img.event-hero")
        assert image["key"] in hero.get_attribute("srcset")
        page.wait_for_function("() => document.querySelector('img.event-hero').naturalWidth > 0")


PAINT = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {
    first_contentful_paint_ms: fcp ? Math.round(fcp.startTime) : null,
    bytes_transferred: nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
    requests: 1 + resources.length,
    bytes_by_kind: resources.reduce((kinds, r) => {
      const kind = r.name.endsWith('.js') ? 'script' : r.name.endsWith('.css') ? 'css' : r.name.endsWith('.json') ? 'catalogue'
        : r.initiatorType === 'img' ? 'images' : r.initiatorType;
      kinds[kind] = (kinds[kind] || 0) + r.transferSize;
      return kinds;
    }, { html: nav.transferSize }),
  };
}"""


def test_measure_bytes_and_first_contentful_paint(site, browser, artifacts):
    """Cold cache, a fresh context per page; the numbers go to artifacts and docs/storefront.md."""
    event = _event_with(site, lambda e: e["title"].startswith("Jazz aan het Zand"))
    measured = {}
    for name, path, ready in [("home", "/", "#events[aria-busy='false'] li img"),
                              ("event", f"/event.html?venue={event['venue']}&event={event['event_id']}",
                               "#booking:not([hidden])")]:
        with _page(browser, viewport={"width": 1280, "height": 900}) as page:
            page.goto(site.url(path), wait_until="load")
            page.wait_for_selector(ready)
            page.wait_for_load_state("networkidle")
            measured[name] = page.evaluate(PAINT)
    (artifacts / "storefront-metrics.json").write_text(json.dumps(measured, indent=1))
    print("storefront metrics", json.dumps(measured))
    for numbers in measured.values():
        assert numbers["first_contentful_paint_ms"] is not None
        assert numbers["bytes_transferred"] < 500_000
