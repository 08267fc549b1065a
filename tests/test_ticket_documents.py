"""Rendering a paid order's documents, as plain functions (no AWS): the PDF's
QR codes decode, with a real decoder on the rasterised page, to codes the
door check accepts; the .ics says when and where in UTC; the mail speaks the
buyer's language and escapes what venues and buyers typed."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest

from chalicelib.domain import confirmation_mail, ticket_documents as documents, tickets


def decoded_qr_codes(pdf: bytes) -> list[list[str]]:
    """Per page, the QR codes zbar finds on the page rendered at 150 dpi."""
    import pypdfium2
    from pyzbar import pyzbar

    found = []
    document = pypdfium2.PdfDocument(io.BytesIO(pdf))
    for page in document:
        image = page.render(scale=150 / 72).to_pil()
        found.append([symbol.data.decode() for symbol in pyzbar.decode(image) if symbol.type == "QRCODE"])
    return found


def page_texts(pdf: bytes) -> list[str]:
    import pypdfium2

    return [page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(io.BytesIO(pdf))]


SECRET = b"venue-secret-for-this-test"
STARTS = datetime(2026, 12, 12, 19, 0, tzinfo=timezone.utc)  # 20:00 in Brussels


def _sheets(n: int = 2) -> list[documents.TicketSheet]:
    return [documents.TicketSheet(code=tickets.sign("concertzaal", tickets.derived_ticket_id(SECRET, "o", i), SECRET),
                                  event_title="Brugse Winternacht – Strijkkwartet", starts_at=STARTS,
                                  hall="Grote zaal", price_label="-26", amount_cents=1500,
                                  seat="Rij 4, stoel 12" if i == 0 else None) for i in range(n)]


def test_the_pdf_has_a_page_per_ticket_whose_qr_code_the_door_check_accepts():
    sheets = _sheets(2)
    branding = documents.Branding(display_name="Concertzaal Zand", address="'t Zand 34, 8000 Brugge",
                                  primary="#7c2d12", footer="Deuren open 30 minuten voor aanvang.")
    pdf = documents.render_pdf(branding, sheets, "nl")
    assert pdf.startswith(b"%PDF")
    codes = decoded_qr_codes(pdf)
    assert codes == [[sheets[0].code], [sheets[1].code]]
    assert all(tickets.verify("concertzaal", page[0], SECRET) for page in codes)
    first, second = page_texts(pdf)
    for expected in ("Concertzaal Zand", "Brugse Winternacht - Strijkkwartet", "zaterdag 12 december 2026, 20:00",
                     "Grote zaal", "-26 (EUR 15,00)", "Rij 4, stoel 12", "'t Zand 34, 8000 Brugge",
                     "Ticket 1 van 2", "Deuren open 30 minuten"):
        assert expected in first, expected
    assert "Rij 4" not in second and "Ticket 2 van 2" in second


def test_the_pdf_speaks_french_and_survives_a_broken_logo():
    pdf = documents.render_pdf(documents.Branding(display_name="Cultuurcentrum De Reien", logo_png=b"not a png"),
                               _sheets(1), "fr")
    text = page_texts(pdf)[0]
    assert "samedi 12 décembre 2026, 20h00" in text and "Salle" in text and "Billet 1 sur 1" in text
    assert len(decoded_qr_codes(pdf)[0]) == 1


def _unfolded(ics: bytes) -> dict[str, str]:
    text = ics.decode().replace("\r\n ", "")
    assert all(len(line.encode()) <= 75 for line in ics.decode().split("\r\n"))
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


def test_the_ics_names_the_performance_in_utc_with_escaped_text():
    entry = documents.PerformanceEntry(
        uid=documents.performance_uid("order1", "perf1", "concertzaal"), event_title="Bach; Händel, en meer",
        starts_at=STARTS, hall="Grote zaal", venue_name="Concertzaal Zand",
        address="'t Zand 34, 8000 Brugge " + "met een heel lange toevoeging " * 4, tickets=2,
        stamp=datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc))
    ics = documents.render_ics(entry, "en")
    fields = _unfolded(ics)
    assert ics.startswith(b"BEGIN:VCALENDAR\r\n") and ics.endswith(b"END:VCALENDAR\r\n")
    assert fields["DTSTART"] == "20261212T190000Z" and fields["DTEND"] == "20261212T210000Z"
    assert fields["SUMMARY"] == "Bach\\; Händel\\, en meer"
    assert fields["LOCATION"].startswith("Concertzaal Zand\\, 't Zand 34\\, 8000 Brugge")
    assert fields["DESCRIPTION"] == "Hall: Grote zaal. 2 tickets."
    assert fields["UID"] == documents.performance_uid("order1", "perf1", "concertzaal")
    assert documents.ics_filename("Bach; Händel", STARTS) == "bach-händel-20261212-2000.ics"


@pytest.mark.parametrize("language,subject,phrase", [
    ("nl", "Je tickets bij Zaal <Zand>", "Bedankt voor je bestelling"),
    ("fr", "Vos billets pour Zaal <Zand>", "Merci pour votre commande"),
    ("en", "Your tickets for Zaal <Zand>", "Thank you for your order"),
])
def test_the_mail_is_in_the_buyers_language_and_escapes_what_people_typed(language, subject, phrase):
    mail = confirmation_mail.render(documents.Branding(display_name="Zaal <Zand>", address="Markt 1, 8000 Brugge"),
                                    buyer_name="<script>An</script>", order_id="abcdef1234567890", total_cents=3000,
                                    tickets=_sheets(2), language=language,
                                    my_tickets_url=f"https://tickets.example.be/my-tickets.html?lang={language}")
    assert mail.subject == subject
    assert phrase in mail.html and phrase in mail.text
    assert "<script>" not in mail.html and "&lt;script&gt;An&lt;/script&gt;" in mail.html
    assert "Zaal &lt;Zand&gt;" in mail.html
    assert "2 × <strong>Brugse Winternacht – Strijkkwartet</strong>" in mail.html
    assert "ABCDEF1234" in mail.text and ("€ 30,00" in mail.text or "€ 30.00" in mail.text)
    link = f"https://tickets.example.be/my-tickets.html?lang={language}"
    assert f'<a href="{link}">{link}</a>' in mail.html and link in mail.text


def test_an_order_gets_one_pdf_and_one_calendar_entry_per_performance_ending_when_the_event_does():
    from datetime import timedelta

    from chalicelib.services.order_delivery import render

    later = datetime(2026, 12, 13, 14, 0, tzinfo=timezone.utc)
    sheets = [*_sheets(2), documents.TicketSheet(code="X-Y", event_title="Matinee", starts_at=later, hall="Foyer",
                                                 price_label="Normaal", amount_cents=900, performance_id="p2",
                                                 duration=timedelta(minutes=75))]
    sheets[0] = documents.TicketSheet(**{**sheets[0].__dict__, "performance_id": "p1"})
    sheets[1] = documents.TicketSheet(**{**sheets[1].__dict__, "performance_id": "p1"})
    files = render("order1", "concertzaal", documents.Branding(display_name="Concertzaal Zand"), sheets, "nl",
                   datetime(2026, 11, 30, tzinfo=timezone.utc))
    assert [(name, kind) for name, _, kind in files] == [
        ("tickets.pdf", "application/pdf"),
        ("brugse-winternacht-strijkkwartet-20261212-2000.ics", "text/calendar"),
        ("matinee-20261213-1500.ics", "text/calendar")]
    first, matinee = _unfolded(files[1][1]), _unfolded(files[2][1])
    assert first["DTEND"] == "20261212T210000Z" and "2 tickets" in first["DESCRIPTION"]
    assert matinee["DTSTART"] == "20261213T140000Z" and matinee["DTEND"] == "20261213T151500Z"
    assert len(decoded_qr_codes(files[0][1])) == 3
