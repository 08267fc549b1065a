"""The staff shell in a real Chromium on the running site: /staff, /kassa and
/admin land on staff pages; a signed-out user is sent to sign in and back; a
clerk's start page offers the counter and the door, a lead's also the lead's
pages; signing out (or closing the tab) forgets the sign-in; axe finds no
serious violations on the sign-in and start pages."""

from __future__ import annotations

from tests.test_storefront_browser import _axe


def test_short_addresses_sign_in_and_back_by_role_and_sign_out(site, browser, artifacts):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        for short in ("/staff", "/admin"):
            page.goto(site.url(short))
            page.wait_for_selector("#signin-form")  # signed out: the sign-in page, with the way back
            assert "next=" in page.url
        _axe(page, "sign-in", artifacts)

        page.fill("#username", "cc-reien-kassa")
        page.fill("#password", "wrong password 1")
        page.click("#signin-button")
        page.wait_for_selector("#message.message-error")
        assert "wachtwoord klopt niet" in page.inner_text("#message")

        site.staff_sign_in(page, "cc-reien-kassa")
        tiles = page.locator("#tiles a[data-page]")
        tiles.first.wait_for()
        assert [t.get_attribute("data-page") for t in tiles.all()] == ["kassa", "door", "report"]
        assert "Cultuurcentrum De Reien" in page.inner_text("#staff-header")
        _axe(page, "start-clerk", artifacts)
        page.click("#staff-header button[data-lang='fr']")
        page.wait_for_function("document.querySelector('#tiles a[data-page=kassa]').textContent.includes('Caisse')")
        page.screenshot(path=artifacts / "start-clerk-fr.png", full_page=True)

        page.click(".staff-signout")
        page.wait_for_selector("#signin-form")
        page.goto(site.url("/staff/index.html"))
        page.wait_for_selector("#signin-form")  # the sign-in is gone with it

        site.staff_sign_in(page, "cc-reien-lead")
        page.locator("#tiles a[data-page]").first.wait_for()
        assert [t.get_attribute("data-page") for t in page.locator("#tiles a[data-page]").all()] == [
            "kassa", "door", "report", "events", "sales", "people", "privacy"]
        page.screenshot(path=artifacts / "start-lead.png", full_page=True)
    finally:
        context.close()

    # A new tab of the same browser (a new session storage) is signed out.
    again = browser.new_context()
    try:
        fresh = again.new_page()
        fresh.goto(site.url("/staff/index.html"))
        fresh.wait_for_selector("#signin-form")
    finally:
        again.close()
