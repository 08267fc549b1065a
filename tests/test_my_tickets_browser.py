"""'My tickets' in a real Chromium on the running site: a buyer pays a
two-venue basket, asks for a link, opens it in a fresh browser context, sees
the same tickets, and the link does not work a second time."""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager

import requests
from axe_playwright_python.sync_playwright import Axe
from waiting import until

LINK = re.compile(r"https?://\S+/my-tickets\.html\?lang=\w+#link=[A-Za-z0-9_-]+")


def _link_from_the_outbox(page, site, to: str, artifacts, timeout: float = 30) -> str:
    """As a tester follows it: the local /outbox page, the mail to `to`, the link in its text."""
    row = page.locator("tr", has_text=to).filter(has_text="Your tickets at Loket Brugge")
    page.goto(site.url("/outbox"))

    def listed() -> bool:
        if row.count():
            return True
        page.reload()
        return False

    until(listed, f"a link mail to {to} in the outbox", seconds=timeout, every=0.2)
    row.first.get_by_role("link").click()
    page.wait_for_selector("pre")
    page.screenshot(path=str(artifacts / "3-outbox-mail.png"), full_page=True)
    return LINK.search(page.inner_text("pre")).group(0)


@contextmanager
def _fresh_page(browser, **options):
    """A page in a browser context of its own (no storage shared with any other), closed after."""
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        context.close()


def _pay_a_two_venue_basket(browser, site, buyer: str, artifacts) -> set[str]:
    with _fresh_page(browser) as page:
        site.to_payment_page(page, "Mijn Tickets", buyer)
        page.click("#pay")  # the Stripe emulator's hosted page
        page.wait_for_url("**/order.html?basket=*")
        page.wait_for_function("document.querySelectorAll('.order .ticket-code').length >= 2", timeout=30_000)
        page.screenshot(path=str(artifacts / "1-order.png"), full_page=True)
        return set(page.locator(".ticket-code").all_inner_texts())


def test_a_buyer_sees_the_same_tickets_through_a_one_time_link_in_a_fresh_browser(browser, site, artifacts):
    buyer = f"mijn.tickets.{uuid.uuid4().hex[:8]}@example.be"
    codes = _pay_a_two_venue_basket(browser, site, buyer, artifacts)
    assert len(codes) == 2

    with _fresh_page(browser) as page:
        page.goto(site.url("/index.html"))
        page.get_by_role("link", name="Mijn tickets").click()  # from the site header
        page.wait_for_selector("#ask:not([hidden])")
        page.get_by_role("button", name="EN", exact=True).click()
        for _ in range(20):  # keyboard only from here: Tab to the field, type, Enter
            if page.evaluate("document.activeElement.id") == "email":
                break
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('aria-describedby')") == "ask-intro email-error"
        page.keyboard.type(buyer)
        page.keyboard.press("Enter")
        page.wait_for_selector("#message.message-success")
        assert "If tickets were bought with this address" in page.inner_text("#message")
        page.screenshot(path=str(artifacts / "2-link-asked.png"), full_page=True)
        assert Axe().run(page).violations_count == 0
        link = _link_from_the_outbox(page, site, buyer, artifacts)
        assert "lang=en" in link and buyer not in link

    # A fresh context, on a phone (the link is opened from a mail): nothing of the buyer's browser.
    with _fresh_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True) as page:
        page.goto(link)
        page.wait_for_selector("#mine:not([hidden]) .ticket-code")
        assert set(page.locator(".ticket-code").all_inner_texts()) == codes
        assert page.locator(".order").count() == 2  # one order per venue
        assert "#link=" not in page.url  # the spent link left the address bar
        assert page.inner_text("h1") == "My tickets"
        page.screenshot(path=str(artifacts / "4-my-tickets.png"), full_page=True)
        axe = Axe().run(page)
        assert axe.violations_count == 0, axe.generate_report()
        small = page.evaluate("""() => [...document.querySelectorAll('main button, main a, main input, header a, header button')]
            .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height < 44; })
            .map((el) => el.outerHTML.slice(0, 80))""")
        assert small == [], small
        page.reload()  # the short session keeps the page working; the link is not used again
        page.wait_for_selector("#mine:not([hidden]) .ticket-code")
        assert set(page.locator(".ticket-code").all_inner_texts()) == codes
        first = page.locator(".order").first
        first.get_by_role("button", name="PDF and calendar").click()
        pdf = first.locator("a[data-kind='pdf']")
        pdf.wait_for()
        assert page.evaluate("document.activeElement.dataset.kind") == "pdf"  # focus moves to the new links
        downloaded = requests.get(pdf.get_attribute("href"), timeout=10)
        assert downloaded.status_code == 200 and downloaded.content.startswith(b"%PDF")
        first.get_by_role("button", name="Send the confirmation again").click()
        page.wait_for_selector("#message.message-success")
        assert "is sending you the confirmation again" in page.inner_text("#message")
        page.screenshot(path=str(artifacts / "5-confirmation-sent-again.png"), full_page=True)

    with _fresh_page(browser) as page:
        page.goto(link)
        page.wait_for_selector("#message.message-error")
        assert "already used" in page.inner_text("#message")
        assert page.locator(".ticket-code").count() == 0
        assert page.is_visible("#ask-form")
        page.screenshot(path=str(artifacts / "6-link-used.png"), full_page=True)
        assert Axe().run(page).violations_count == 0
