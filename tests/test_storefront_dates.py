"""The storefront's date search (storefront/assets/datesearch.js), run as the
browser runs it: the module itself in Chromium, served from the source tree
(no site needed), on fixed days so every case is exact."""

from __future__ import annotations

from pathlib import Path

import pytest

ASSETS = Path(__file__).resolve().parents[1] / "storefront" / "assets"
ORIGIN = "http://storefront.test"

MONDAY = "2026-11-30"
SUNDAY = "2026-12-06"
NEW_YEARS_EVE = "2026-12-31"

CASES = [
    # (today, what is typed, range from, range to, words left to match)
    (MONDAY, "zaterdag", "2026-12-05", "2026-12-05", []),
    (MONDAY, "samedi", "2026-12-05", "2026-12-05", []),
    (MONDAY, "Saturday", "2026-12-05", "2026-12-05", []),
    (MONDAY, "maandag", MONDAY, MONDAY, []),
    (MONDAY, "vandaag", MONDAY, MONDAY, []),
    (MONDAY, "aujourd’hui", MONDAY, MONDAY, []),
    (MONDAY, "tonight", MONDAY, MONDAY, []),
    (MONDAY, "morgen", "2026-12-01", "2026-12-01", []),
    (MONDAY, "dit weekend", "2026-12-05", "2026-12-06", []),
    (MONDAY, "ce week-end", "2026-12-05", "2026-12-06", []),
    (SUNDAY, "this weekend", SUNDAY, SUNDAY, []),
    (MONDAY, "volgende week", "2026-12-07", "2026-12-13", []),
    (MONDAY, "12 december", "2026-12-12", "2026-12-12", []),
    (MONDAY, "le 12 déc.", "2026-12-12", "2026-12-12", []),
    (MONDAY, "December 12th", "2026-12-12", "2026-12-12", []),
    (MONDAY, "zaterdag 12 december", "2026-12-12", "2026-12-12", []),
    (MONDAY, "12/12", "2026-12-12", "2026-12-12", []),
    (MONDAY, "12-12-2026", "2026-12-12", "2026-12-12", []),
    (MONDAY, "2026-12-12", "2026-12-12", "2026-12-12", []),
    (MONDAY, "3 januari", "2027-01-03", "2027-01-03", []),  # a day without a year is the next one
    (NEW_YEARS_EVE, "2 janvier", "2027-01-02", "2027-01-02", []),
    (MONDAY, "december", "2026-12-01", "2026-12-31", []),
    (MONDAY, "mars", "2027-03-01", "2027-03-31", []),
    (MONDAY, "volgende maand", "2026-12-01", "2026-12-31", []),
    (MONDAY, "jazz op zaterdag", "2026-12-05", "2026-12-05", ["jazz"]),
    (MONDAY, "Beethoven 9 december", "2026-12-09", "2026-12-09", ["beethoven"]),
]
NOT_DATES = [
    (MONDAY, "Beethoven 9", ["beethoven", "9"]),
    (MONDAY, "trio noord", ["trio", "noord"]),
    (MONDAY, "31/02", ["31/02"]),
    (MONDAY, "do", ["do"]),  # a two-letter day ("do", "za") counts only with a number
]


@pytest.fixture(scope="module")
def datesearch(browser):
    """A page that has imported the module, from the source tree."""
    context = browser.new_context()
    page = context.new_page()

    def serve(route):
        name = route.request.url.removeprefix(f"{ORIGIN}/assets/")
        if "/" in name or not (ASSETS / name).is_file():
            route.fulfill(status=404)
        else:
            route.fulfill(body=(ASSETS / name).read_bytes(), content_type="text/javascript")

    page.route(f"{ORIGIN}/assets/*", serve)
    page.route(f"{ORIGIN}/", lambda route: route.fulfill(body="<!doctype html><title>dates</title>",
                                                         content_type="text/html"))
    page.goto(f"{ORIGIN}/")
    page.evaluate("async () => { window.dates = await import('/assets/datesearch.js'); }")
    yield page
    context.close()


@pytest.mark.parametrize("today,text,start,end,words", CASES)
def test_dates_in_a_search_in_dutch_french_or_english(datesearch, today, text, start, end, words):
    parsed = datesearch.evaluate("([text, today]) => window.dates.parseDateQuery(text, today)", [text, today])
    assert parsed == {"range": {"from": start, "to": end}, "words": words}


@pytest.mark.parametrize("today,text,words", NOT_DATES)
def test_words_that_are_no_date_stay_words(datesearch, today, text, words):
    parsed = datesearch.evaluate("([text, today]) => window.dates.parseDateQuery(text, today)", [text, today])
    assert parsed == {"range": None, "words": words}


def test_a_performance_day_is_its_day_in_brussels(datesearch):
    # 23:30 UTC on 12 December is already the 13th in Brussels.
    assert datesearch.evaluate("() => window.dates.brusselsDay('2026-12-12T23:30:00Z')") == "2026-12-13"
    assert datesearch.evaluate("() => window.dates.inRange('2026-12-13', {from: '2026-12-13', to: ''})") is True
