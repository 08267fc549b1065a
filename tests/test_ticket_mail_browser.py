"""E-tickets and the confirmation mail in a real Chromium on the running site
(`make run` on free ports): a buyer pays a two-venue basket in English, finds
each venue's mail in the local outbox, opens it, opens the PDF and the .ics;
the PDF's QR codes, rasterised and read by zbar, are codes the door check
accepts. Records how long the mails took from the click on "Pay"."""

from __future__ import annotations

import email
import io
import json
import re
import time
import uuid
from datetime import datetime, timezone
from email import policy

import requests
from axe_playwright_python.sync_playwright import Axe

from tests.test_ticket_documents import decoded_qr_codes
from waiting import until


def _mails_to(site, address: str) -> list[tuple[str, email.message.EmailMessage]]:
    moto = re.search(r"AWS \(moto\)\s+(\S+)", "".join(site.output.lines)).group(1)
    found = []
    for sent in requests.get(f"{moto}/moto-api/loket/outbox", timeout=10).json()["messages"]:
        message = email.message_from_string(sent["raw"], policy=policy.default)
        if message["To"] and message["To"].addresses[0].addr_spec == address:
            found.append((sent["id"], message))
    return found


def _clerk_checks(site, venue: str, code: str) -> dict:
    session = requests.post(site.url("/api/staff/session"),
                            json={"username": f"{venue}-kassa", "password": "loket-demo-2026"}, timeout=10)
    assert session.status_code == 200, session.text
    check = requests.post(site.url(f"/api/venues/{venue}/tickets/check"), json={"code": code}, timeout=10,
                          headers={"Authorization": f"Bearer {session.json()['id_token']}"})
    return check.json()


def test_a_paid_two_venue_basket_mails_each_venues_tickets_which_open_and_scan(browser, site, artifacts):
    buyer = f"e.tickets.{uuid.uuid4().hex[:8]}@example.be"
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(site.url("/"))
        page.click("button[data-lang='en']")  # the buyer reads English: so will their mails
        chosen = site.to_payment_page(page, "Eva Tickets", buyer)
        paid_at = time.monotonic()
        page.click("#pay")

        # Payment to mail: poll the outbox until both venues' mails are there (deadline 30 s).
        def both_mails():
            found = _mails_to(site, buyer)
            return found if len(found) >= 2 else None

        mails = until(both_mails, "both venues' mails in the outbox", seconds=30, every=0.05)
        payment_to_mail = time.monotonic() - paid_at
        assert len(mails) == 2, f"{len(mails)} mails after {payment_to_mail:.1f} s"
        (artifacts / "payment-to-mail.json").write_text(json.dumps({"seconds": round(payment_to_mail, 2)}))
        print(f"\npayment -> both mails in the outbox: {payment_to_mail:.2f} s")

        # The order page offers the documents and says the mail went out, once it did.
        page.wait_for_url("**/order.html?basket=*")
        page.wait_for_function("document.querySelectorAll(\".order-documents[data-mail='sent']\").length === 2",
                               timeout=30_000)
        assert page.locator(".mail-state").first.inner_text() == "We also e-mailed your tickets to the address you gave."
        page.screenshot(path=str(artifacts / "1-order-with-documents.png"), full_page=True)
        axe = Axe().run(page)
        assert axe.violations_count == 0, axe.generate_report()
        order_links = page.eval_on_selector_all(".document-link", "els => els.map(a => [a.dataset.kind, a.href])")
        assert sorted(kind for kind, _ in order_links) == ["ics", "ics", "pdf", "pdf"]
        order_pdf = context.request.get(next(href for kind, href in order_links if kind == "pdf"))
        assert order_pdf.ok and order_pdf.body().startswith(b"%PDF")

        # The outbox lists them, newest first; each is from its own venue, in English.
        page.goto(site.url("/outbox"))
        for message_id, message in mails:
            assert page.locator(f"a[href='/outbox/{message_id}']").count() == 1
            assert message["Subject"].startswith("Your tickets for ")
        page.screenshot(path=str(artifacts / "2-outbox.png"), full_page=True)
        axe = Axe().run(page)
        assert axe.violations_count == 0, axe.generate_report()
        senders = {m["From"].addresses[0].addr_spec.split("@")[1].split(".")[0]: (i, m) for i, m in mails}
        assert set(senders) == {event["venue"]["slug"] for event, _, _ in chosen}

        for event, performance, _ in chosen:
            venue = event["venue"]["slug"]
            message_id, message = senders[venue]
            page.click(f"a[href='/outbox/{message_id}']")
            page.wait_for_selector("iframe[title='The mail as HTML']")
            frame = page.frame_locator("iframe[title='The mail as HTML']")
            assert "Thank you for your order" in frame.locator("body").inner_text()
            page.screenshot(path=str(artifacts / f"3-mail-{venue}.png"), full_page=True)
            assert Axe().run(page).violations_count == 0

            # Open the attachments as the tester would, from the mail's page.
            links = page.eval_on_selector_all("ul.files a", "els => els.map(a => a.href)")
            pdf = context.request.get(next(link for link in links if link.endswith(".pdf")))
            assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
            codes = [symbols[0] for symbols in decoded_qr_codes(pdf.body())]
            assert len(codes) == 1
            check = _clerk_checks(site, venue, codes[0])
            assert check["result"] == "valid" and check["event_title"] == event["title"], check
            _save_first_page(pdf.body(), artifacts / f"4-ticket-{venue}.png")

            ics = context.request.get(next(link for link in links if link.endswith(".ics")))
            calendar = ics.text().replace("\r\n ", "")
            assert ics.headers["content-type"].startswith("text/calendar")
            assert f"SUMMARY:{_ics_escaped(event['title'])}" in calendar
            starts = datetime.fromisoformat(performance["starts_at"]).astimezone(timezone.utc)
            assert f"DTSTART:{starts:%Y%m%dT%H%M%SZ}" in calendar
            page.go_back()
    finally:
        context.close()


def _ics_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")


def _save_first_page(pdf: bytes, path) -> None:
    import pypdfium2

    pypdfium2.PdfDocument(io.BytesIO(pdf))[0].render(scale=1).to_pil().save(path)
