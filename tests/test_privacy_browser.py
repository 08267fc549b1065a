"""A buyer downloads what each venue keeps about them from "my tickets", in a
real Chromium on the running site: one venue at a time, by keyboard, in
Dutch first; axe finds nothing."""

from __future__ import annotations

import json
import uuid

from axe_playwright_python.sync_playwright import Axe

from test_my_tickets_browser import _fresh_page, _link_from_the_outbox, _pay_a_two_venue_basket


def test_a_buyer_downloads_each_venues_data_separately(browser, site, artifacts):
    buyer = f"mijn.gegevens.{uuid.uuid4().hex[:8]}@example.be"
    assert len(_pay_a_two_venue_basket(browser, site, buyer, artifacts)) == 2
    with _fresh_page(browser) as page:
        page.goto(site.url("/my-tickets.html"))
        page.wait_for_selector("#ask:not([hidden])")
        page.get_by_role("button", name="EN", exact=True).click()  # the outbox helper looks for the English mail
        page.fill("#email", buyer)
        page.keyboard.press("Enter")
        page.wait_for_selector("#message.message-success")
        link = _link_from_the_outbox(page, site, buyer, artifacts)

    with _fresh_page(browser, accept_downloads=True) as page:
        page.goto(link.replace("lang=en", "lang=nl"))
        page.wait_for_selector("#my-data:not([hidden]) .my-data-download")
        buttons = page.locator(".my-data-download")
        assert buttons.count() == 2  # one per venue the buyer bought at
        assert page.inner_text("#my-data-heading") == "Je gegevens per huis"
        axe = Axe().run(page)
        assert axe.violations_count == 0, axe.generate_report()
        # Marketing consent at the first venue only, with the sentence's version.
        first_venue = buttons.nth(0).get_attribute("data-venue")
        page.check(f"#consent-{first_venue}")
        page.wait_for_function("document.querySelector('#message').textContent.includes('is bewaard')")
        venues = set()
        for index in range(2):
            buttons.nth(index).focus()  # keyboard: focus and Enter
            with page.expect_download() as download:
                page.keyboard.press("Enter")
            exported = json.loads(open(download.value.path(), encoding="utf-8").read())
            venue = buttons.nth(index).get_attribute("data-venue")
            assert exported["venue"] == venue and exported["customer"]["email"] == buyer
            assert all(order["venue"] == venue for order in exported["orders"]) and len(exported["orders"]) == 1
            assert download.value.suggested_filename == f"{venue}-mijn-gegevens.json"
            consents = [(c["given"], c["text_version"]) for c in exported["consents"]]
            assert consents == ([(True, "2026-11")] if venue == first_venue else [])
            venues.add(venue)
        assert len(venues) == 2
        page.wait_for_selector("#message.message-success")
        assert "zijn gedownload" in page.inner_text("#message")
        page.get_by_role("button", name="FR", exact=True).click()
        assert page.inner_text("#my-data-heading") == "Vos données par maison"
        page.screenshot(path=str(artifacts / "my-data.png"), full_page=True)


def test_a_lead_exports_and_anonymises_a_buyer_and_sees_it_in_the_audit_log(browser, site, artifacts):
    buyer = f"wis.mij.{uuid.uuid4().hex[:8]}@example.be"
    with _fresh_page(browser) as page:
        bought = site.to_payment_page(page, "Wis Mij", buyer)
        page.click("#pay")
        page.wait_for_url("**/order.html?basket=*")
        page.wait_for_function("document.querySelectorAll('.order .ticket-code').length >= 2", timeout=30_000)
    venue = bought[0][0]["venue"]["slug"]
    with _fresh_page(browser, accept_downloads=True) as page:
        site.staff_sign_in(page, f"{venue}-lead", f"/staff/privacy.html?venue={venue}")
        page.wait_for_selector("#audit table, #audit p.muted")
        assert page.inner_text("h1") == "Privacy" and "24" in page.input_value("#retention-months")
        axe = Axe().run(page)
        assert axe.violations_count == 0, axe.generate_report()
        page.fill("#person-email", buyer)
        with page.expect_download() as download:
            page.keyboard.press("Enter")  # the form's first button: export
        exported = json.loads(open(download.value.path(), encoding="utf-8").read())
        assert exported["venue"] == venue and exported["customer"]["email"] == buyer
        page.wait_for_selector("#person-result .message-success")
        page.click("#erase")
        page.wait_for_selector("dialog.confirm-dialog[open]")
        assert buyer in page.inner_text("dialog.confirm-dialog")
        page.click("#confirm-yes")
        page.wait_for_function("document.querySelector('#person-result').textContent.includes('Geanonimiseerd')")
        page.wait_for_selector("#audit td:has-text('person.erased')")
        assert page.locator("#audit td", has_text="person.exported").count() >= 1
        assert buyer not in page.inner_text("#audit")
        page.fill("#retention-months", "3")
        page.click("#retention-save")
        page.wait_for_selector("#message.message-error")
        page.click("#retention-dry-run")
        page.wait_for_selector("#retention-result .message")
        page.screenshot(path=str(artifacts / "lead-privacy.png"), full_page=True)
        assert Axe().run(page).violations_count == 0
