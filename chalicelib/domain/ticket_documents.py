"""A paid order's documents: the PDF (one page per ticket, the venue's
branding, a QR code per ticket) and one `.ics` per performance.

Plain Python, bytes out, no AWS. The QR code holds exactly the ticket's code
(`domain/tickets.py`), the string the door check verifies. fpdf2 and segno
are imported inside the functions that draw, so importing this module costs
nothing at cold start.

fpdf2's built-in Helvetica covers Latin-1 (Dutch and French accents), not
"€" or typographic dashes: `_printable` writes those as "EUR" and "-" rather
than ship a 700 kB Unicode font in every Lambda package.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")
LANGUAGES = ("nl", "fr", "en")
# A performance's length when the venue gave none, for the calendar entry.
DEFAULT_DURATION = timedelta(hours=2)


@dataclass(frozen=True)
class Branding:
    """What a venue's tickets look like (from its profile, or its name alone)."""

    display_name: str
    address: str = ""
    primary: str = "#1d4ed8"
    on_primary: str = "#ffffff"
    logo_png: bytes | None = None
    footer: str = ""


@dataclass(frozen=True)
class TicketSheet:
    """One ticket as printed."""

    code: str
    event_title: str
    starts_at: datetime
    hall: str
    price_label: str
    amount_cents: int
    seat: str | None = None  # seat or zone, when the venue sells them
    performance_id: str = ""
    duration: timedelta | None = None  # the event's length, when the venue gave it


@dataclass(frozen=True)
class PerformanceEntry:
    """One calendar entry: a performance the buyer has tickets for."""

    uid: str
    event_title: str
    starts_at: datetime
    hall: str
    venue_name: str
    address: str
    tickets: int
    ends_at: datetime | None = None
    stamp: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


LABELS = {
    "nl": {"ticket": "Ticket", "when": "Datum", "hall": "Zaal", "price": "Prijstype", "seat": "Plaats",
           "address": "Adres", "of": "van", "show": "Toon deze code aan de ingang.", "tickets": "tickets"},
    "fr": {"ticket": "Billet", "when": "Date", "hall": "Salle", "price": "Tarif", "seat": "Place",
           "address": "Adresse", "of": "sur", "show": "Présentez ce code à l'entrée.", "tickets": "billets"},
    "en": {"ticket": "Ticket", "when": "Date", "hall": "Hall", "price": "Price type", "seat": "Seat",
           "address": "Address", "of": "of", "show": "Show this code at the door.", "tickets": "tickets"},
}
_MONTHS = {
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
}
_DAYS = {
    "nl": ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"],
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else "nl"


def local_time(moment: datetime, language: str) -> str:
    """`zaterdag 12 december 2026, 20:00` in Brussels time, in the buyer's language."""
    language = language_of(language)
    local = moment.astimezone(BRUSSELS)
    day, month = _DAYS[language][local.weekday()], _MONTHS[language][local.month - 1]
    hour = local.strftime("%H:%M") if language != "fr" else local.strftime("%Hh%M")
    return f"{day} {local.day} {month} {local.year}, {hour}"


def euros(cents: int, language: str) -> str:
    amount = f"{cents / 100:,.2f}"
    if language_of(language) in ("nl", "fr"):
        amount = amount.replace(",", " ").replace(".", ",")
    return f"€ {amount}"


def _printable(text: str) -> str:
    """Helvetica in a PDF is Latin-1: say what it cannot draw another way."""
    text = text.replace("€", "EUR").replace("–", "-").replace("—", "-").replace("’", "'").replace("…", "...")
    return text.encode("latin-1", "replace").decode("latin-1")


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def qr_png(code: str, scale: int = 8) -> bytes:
    import segno

    buffer = io.BytesIO()
    # Error correction M and a 4-module quiet zone: readable from a phone's
    # screen and from a creased print.
    segno.make(code, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def render_pdf(branding: Branding, tickets: list[TicketSheet], language: str, *,
               created_at: datetime | None = None) -> bytes:
    """One A4 page per ticket: the venue's colours and logo on top, the
    performance and price, the QR code, the venue's address and text."""
    from fpdf import FPDF

    words = LABELS[language_of(language)]
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(_printable(f"{branding.display_name} - {words['tickets']}"))
    pdf.set_author(_printable(branding.display_name))
    pdf.set_creation_date(created_at or datetime(2026, 1, 1, tzinfo=timezone.utc))  # same order, same bytes
    pdf.set_auto_page_break(False)
    for number, ticket in enumerate(tickets, start=1):
        pdf.add_page()
        pdf.set_fill_color(*_rgb(branding.primary))
        pdf.rect(0, 0, 210, 38, style="F")
        left = 15
        if branding.logo_png:
            try:
                pdf.image(io.BytesIO(branding.logo_png), x=15, y=7, h=24, keep_aspect_ratio=True, w=48)
                left = 70
            except Exception:  # an unreadable logo must not cost the buyer their tickets
                left = 15
        pdf.set_text_color(*_rgb(branding.on_primary))
        pdf.set_font("helvetica", "B", 20)
        pdf.set_xy(left, 10)
        pdf.cell(195 - left, 10, _printable(branding.display_name))
        pdf.set_font("helvetica", "", 11)
        pdf.set_xy(left, 21)
        pdf.cell(195 - left, 7, _printable(f"{words['ticket']} {number} {words['of']} {len(tickets)}"))

        pdf.set_text_color(20, 20, 20)
        pdf.set_xy(15, 50)
        pdf.set_font("helvetica", "B", 22)
        pdf.multi_cell(180, 10, _printable(ticket.event_title))
        rows = [(words["when"], local_time(ticket.starts_at, language)), (words["hall"], ticket.hall),
                (words["price"], f"{ticket.price_label} ({euros(ticket.amount_cents, language)})")]
        if ticket.seat:
            rows.append((words["seat"], ticket.seat))
        if branding.address:
            rows.append((words["address"], branding.address))
        pdf.ln(4)
        for label, value in rows:
            pdf.set_x(15)
            pdf.set_font("helvetica", "B", 12)
            pdf.cell(38, 8, _printable(label))
            pdf.set_font("helvetica", "", 12)
            pdf.multi_cell(142, 8, _printable(value))

        pdf.image(io.BytesIO(qr_png(ticket.code)), x=55, y=130, w=100, h=100)
        pdf.set_xy(15, 233)
        pdf.set_font("courier", "B", 12)
        pdf.cell(180, 8, ticket.code, align="C")
        pdf.set_xy(15, 242)
        pdf.set_font("helvetica", "", 11)
        pdf.cell(180, 7, _printable(words["show"]), align="C")
        if branding.footer:
            pdf.set_xy(15, 262)
            pdf.set_font("helvetica", "I", 10)
            pdf.multi_cell(180, 6, _printable(branding.footer), align="C")
    return bytes(pdf.output())


# -- iCalendar (RFC 5545), written by hand: one VEVENT in UTC, escaped and folded --
def _ics_text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode("utf-8"))
            current = b""
        current += encoded
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def render_ics(entry: PerformanceEntry, language: str) -> bytes:
    words = LABELS[language_of(language)]
    ends_at = entry.ends_at or entry.starts_at + DEFAULT_DURATION
    location = ", ".join(part for part in (entry.venue_name, entry.address) if part)
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Loket//Tickets//NL", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{entry.uid}",
        f"DTSTAMP:{_utc(entry.stamp)}",
        f"DTSTART:{_utc(entry.starts_at)}",
        f"DTEND:{_utc(ends_at)}",
        f"SUMMARY:{_ics_text(entry.event_title)}",
        f"LOCATION:{_ics_text(location)}",
        "DESCRIPTION:" + _ics_text(f"{words['hall']}: {entry.hall}. {entry.tickets} {words['tickets']}."),
        "END:VEVENT", "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode("utf-8")


def ics_filename(event_title: str, starts_at: datetime) -> str:
    slug = "".join(c.lower() if c.isalnum() else "-" for c in event_title).strip("-")
    while "--" in slug:
        slug = slug.replace("--", "-")
    return f"{slug[:40] or 'voorstelling'}-{starts_at.astimezone(BRUSSELS):%Y%m%d-%H%M}.ics"


def performance_uid(order_id: str, performance_id: str, venue: str) -> str:
    """Stable per order and performance: a re-sent invite updates the same entry."""
    digest = hashlib.sha256(f"{venue}:{order_id}:{performance_id}".encode()).hexdigest()[:24]
    return f"{digest}@{venue}.loket"
