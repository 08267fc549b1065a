"""The venue lead's pages in a real Chromium on the running site: an event
made with a price in euros and a picture, published, seen on the
storefront, its price changed (a basket already held keeps the old one),
taken off the site; a clerk cannot use the lead's pages; another venue's
lead is refused by the API; axe on every page; screenshots."""

from __future__ import annotations

import io
import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import requests

from tests.test_storefront_browser import _axe
from waiting import until

VENUE = "concertzaal"
LEAD_PAGES = ["events.html", "event-edit.html", "sales.html", "orders.html", "people.html"]
STAFF_DIR = Path(__file__).resolve().parents[1] / "storefront" / "staff"


def _picture() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 400), (180, 40, 90)).save(buffer, "PNG")
    return buffer.getvalue()


def _confirm(page, button: str) -> None:
    page.click(button)
    page.wait_for_selector("dialog[open] #confirm-yes")
    page.click("#confirm-yes")


def _in_catalogue(site, event_id: str) -> bool:
    network = requests.get(site.url("/catalogue/network.json"), timeout=10).json()
    return any(e["event_id"] == event_id for e in network["events"])


def test_a_lead_makes_publishes_reprices_and_unpublishes_an_event(site, browser, artifacts):
    title = f"Kamerconcert {uuid.uuid4().hex[:6]}"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    buyer = context.new_page()  # the same browser, another tab: a buyer on the storefront
    buyer.set_default_timeout(20_000)
    try:
        site.staff_sign_in(page, f"{VENUE}-lead", "/staff/events.html")
        page.wait_for_selector("#events table, #events p")
        page.screenshot(path=str(artifacts / "events.png"), full_page=True)
        page.click("#new-event")
        page.wait_for_selector("#title-nl")
        page.fill("#title-nl", title)
        page.fill("#description-nl", "Strijkkwartetten van Haydn en Bartók.")
        page.click("#tab-fr")
        page.fill("#title-fr", f"{title} (fr)")
        page.fill("#hall", "Kamermuziekzaal")
        page.select_option("#genre", "classical")
        page.fill("#price-amount-0", "12,5O")  # a typo: refused on the page, nothing sent
        page.click("#save")
        page.wait_for_selector("#price-amount-0[aria-invalid='true']")
        page.fill("#price-amount-0", "12,50")
        page.click("#save")
        page.wait_for_url(lambda url: "event=" in url)
        event_id = page.url.split("event=")[1].split("&")[0]

        page.set_input_files("#image-file", files=[{"name": "zaal.png", "mimeType": "image/png", "buffer": _picture()}])
        page.wait_for_selector("#image-preview:not([hidden])")
        page.click("#image-upload")
        page.wait_for_selector("#image-current")

        starts = (datetime.now() + timedelta(days=45)).strftime("%Y-%m-%dT20:00")
        page.fill("#new-starts", starts)
        page.fill("#new-capacity", "80")
        page.click("#add-performance")
        page.wait_for_selector("[data-performance]")
        assert page.input_value("#perf-0-starts") == starts  # Brussels time in, Brussels time back
        _confirm(page, "#publish")
        page.wait_for_selector("#unpublish")
        assert page.text_content("#status") == "Gepubliceerd"
        page.screenshot(path=str(artifacts / "event-editor.png"), full_page=True)

        buyer.goto(site.url(f"/event.html?venue={VENUE}&event={event_id}"))
        buyer.wait_for_selector("#booking:not([hidden])")
        assert title in buyer.inner_text("main") and "12,50" in buyer.inner_text("#booking")
        assert buyer.locator("img[src*='catalogue/images/concertzaal/']").count() >= 1
        buyer.fill("#qty-normaal", "1")
        buyer.click("#reserve")
        buyer.wait_for_selector("#confirmation:not([hidden])")

        page.fill("#price-amount-0", "15")
        page.click("#save")
        page.wait_for_selector("#message.message-success")
        shown = until(lambda: (buyer.reload(), buyer.wait_for_selector("#booking:not([hidden])"),
                                "15,00" in buyer.inner_text("#booking"))[-1], "the new price on the event page")
        assert shown
        buyer.goto(site.url("/basket.html"))
        buyer.wait_for_selector("#checkout-section:not([hidden])")
        assert "12,50" in buyer.inner_text("main") and "15,00" not in buyer.inner_text("main")  # the held basket keeps its price

        assert _in_catalogue(site, event_id)
        _confirm(page, "#unpublish")
        page.wait_for_selector("#publish")
        assert page.text_content("#status") == "Niet gepubliceerd"
        until(lambda: not _in_catalogue(site, event_id), "the event gone from the catalogue")
        assert requests.get(site.url(f"/catalogue/events/{VENUE}/{event_id}.json"), timeout=10).status_code in (403, 404)
    finally:
        context.close()


def test_a_clerk_cannot_use_the_lead_pages_and_another_venues_lead_is_refused(site, browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        site.staff_sign_in(page, f"{VENUE}-kassa", "/staff/events.html")
        for name in LEAD_PAGES:
            page.goto(site.url(f"/staff/{name}"))
            page.wait_for_url(lambda url: "/staff/index.html" in url)  # sent to the start page...
            page.wait_for_selector("#lead-only")
            assert "alleen voor de verantwoordelijke" in page.inner_text("#lead-only")  # ...which says why
            assert [t.get_attribute("data-page") for t in page.locator("#tiles a[data-page]").all()] == [
                "kassa", "door", "report"]
    finally:
        context.close()

    def token(username):
        answer = requests.post(site.url("/api/staff/session"), json={"username": username, "password": "loket-demo-2026"},
                               timeout=10)
        return {"Authorization": f"Bearer {answer.json()['id_token']}"}

    own = requests.get(site.url(f"/api/venues/{VENUE}/events"), headers=token(f"{VENUE}-lead"), timeout=10).json()
    event_id = own[0]["event_id"]
    other = token("club-kaap-lead")
    for method, path, body in [("GET", "/events", None), ("GET", f"/events/{event_id}", None),
                               ("PUT", f"/events/{event_id}", {"title": "x", "hall": "x", "price_types": []}),
                               ("POST", f"/events/{event_id}/unpublish", None), ("GET", "/sales", None),
                               ("GET", "/orders", None), ("GET", "/staff", None)]:
        answer = requests.request(method, site.url(f"/api/venues/{VENUE}{path}"), json=body, headers=other, timeout=10)
        assert answer.status_code == 404, (method, path, answer.text)
    assert requests.get(site.url(f"/api/venues/{VENUE}/events/{event_id}"),
                        headers=token(f"{VENUE}-lead"), timeout=10).json()["title"] == own[0]["title"]


def test_axe_and_screenshots_of_the_lead_pages(site, browser, artifacts):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        site.staff_sign_in(page, "cc-reien-lead", "/staff/events.html")
        page.wait_for_selector("#events table")
        assert "Evenementen" in page.inner_text("h1") and "Bewerken" in page.inner_text("#events")  # words, not keys
        _axe(page, "events", artifacts)
        page.click("#events a.button")
        page.wait_for_selector("#event-form")
        _axe(page, "event-editor", artifacts)
        page.screenshot(path=str(artifacts / "event-editor.png"), full_page=True)
        page.goto(site.url("/staff/event-edit.html"))
        page.wait_for_selector("#event-form")
        _axe(page, "event-new", artifacts)
        page.goto(site.url("/staff/sales.html"))
        page.wait_for_selector("#sales section[data-performance]")
        assert page.locator("#refreshed").inner_text().startswith("Bijgewerkt om")
        assert "Verkocht" in page.inner_text("#sales") and "Opbrengst" in page.inner_text("#sales")
        _axe(page, "sales", artifacts)
        page.screenshot(path=str(artifacts / "sales.png"), full_page=True)
        page.goto(site.url("/staff/orders.html"))
        page.wait_for_selector("#orders table, #orders p")
        _axe(page, "orders", artifacts)
        page.screenshot(path=str(artifacts / "orders.png"), full_page=True)
        page.goto(site.url("/staff/people.html"))
        page.wait_for_selector("#people tr[data-username]")
        assert "Gebruikersnaam" in page.inner_text("#people th")
        _axe(page, "people", artifacts)
        page.screenshot(path=str(artifacts / "people.png"), full_page=True)
        page.click("#staff-header button[data-lang='fr']")
        page.wait_for_function("document.querySelector('#people th').textContent.includes('utilisateur')")
        page.screenshot(path=str(artifacts / "people-fr.png"), full_page=True)
    finally:
        context.close()
    sizes = {path.name: path.stat().st_size for path in sorted(STAFF_DIR.glob("*.html"))
             if path.name in LEAD_PAGES}
    sizes.update({path.name: path.stat().st_size for path in sorted((STAFF_DIR / "assets").glob("*"))
                  if path.name in ("admin.js", "admin-strings.js", "admin.css", "events.js", "event-edit.js", "sales.js",
                                   "orders.js", "people.js")})
    (artifacts / "bytes.json").write_text(json.dumps(sizes, indent=1))


def test_a_cancelled_event_says_so_on_the_storefront_and_sells_nothing(site, browser, artifacts):
    lead = requests.post(site.url("/api/staff/session"), json={"username": "club-kaap-lead", "password": "loket-demo-2026"},
                         timeout=10).json()["id_token"]
    auth = {"Authorization": f"Bearer {lead}"}
    event = requests.post(site.url("/api/venues/club-kaap/events"), headers=auth, timeout=10, json={
        "title": f"Afgelast {uuid.uuid4().hex[:6]}", "hall": "Zaal", "price_types": [
            {"code": "normaal", "label": "Normaal", "amount": 2000}]}).json()
    starts = (datetime.now().astimezone() + timedelta(days=20)).isoformat()
    assert requests.post(site.url(f"/api/venues/club-kaap/events/{event['event_id']}/performances"), headers=auth,
                         json={"starts_at": starts, "capacity": 30}, timeout=10).status_code == 201
    assert requests.post(site.url(f"/api/venues/club-kaap/events/{event['event_id']}/publish"), headers=auth,
                         timeout=10).status_code == 200
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        site.staff_sign_in(page, "club-kaap-lead", f"/staff/event-edit.html?event={event['event_id']}")
        page.wait_for_selector("#cancel-event")
        page.click("#cancel-event")
        page.wait_for_selector("dialog[open]")
        assert "niets meer verkocht" in page.inner_text("dialog[open]")  # says what will happen
        page.click("#confirm-yes")
        page.wait_for_selector("#message.message-warning")
        assert page.text_content("#status") == "Geannuleerd" and "Terug te betalen bestellingen: 0" in page.inner_text("#message")
        page.screenshot(path=str(artifacts / "event-cancelled.png"), full_page=True)
        page.goto(site.url(f"/event.html?venue=club-kaap&event={event['event_id']}"))
        page.wait_for_selector("[data-cancelled]")
        assert page.text_content("[data-cancelled]") == "Geannuleerd"
        assert "geannuleerd" in page.inner_text("#all-cancelled")
        assert page.locator("input[name=performance]:enabled").count() == 0
    finally:
        context.close()
