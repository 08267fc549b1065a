"""Privacy rules of a venue as controller: retention, what erasure leaves, and
how personal data is recognised in text (log redaction, the network scan).

Plain Python, no AWS (docs/privacy.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

# -- retention -------------------------------------------------------------------------
# The network's default and the bounds within which a venue may choose its own.
# Months after the buyer's last performance (or last order, for a buyer
# without a performance), after which the buyer is anonymised.
NETWORK_DEFAULT_MONTHS = 24
MIN_MONTHS = 6     # long enough for refunds, disputes and a season's re-run
MAX_MONTHS = 60    # data minimisation: five years is the longest a venue may keep a buyer
DAYS_PER_MONTH = 30.4375  # calendar months on average; a retention day more or less does not matter
# How long audit entries are kept: the network's fixed rule, so a venue cannot
# shorten its own proof (pretix keeps its log; we keep it bounded).
AUDIT_MONTHS = 60


class RetentionOutOfBounds(ValueError):
    pass


@dataclass(frozen=True)
class RetentionPolicy:
    months: int = NETWORK_DEFAULT_MONTHS
    updated_by: str | None = None
    updated_at: str | None = None

    @classmethod
    def chosen(cls, months: int, updated_by: str, updated_at: str) -> "RetentionPolicy":
        if not MIN_MONTHS <= months <= MAX_MONTHS:
            raise RetentionOutOfBounds(f"The network allows {MIN_MONTHS} to {MAX_MONTHS} months; {months} is outside.")
        return cls(months=months, updated_by=updated_by, updated_at=updated_at)

    def cutoff(self, now: datetime) -> datetime:
        """Buyers whose last performance started before this moment are past the limit."""
        return now - timedelta(days=self.months * DAYS_PER_MONTH)

    def as_dict(self) -> dict[str, Any]:
        return {"months": self.months, "network_default_months": NETWORK_DEFAULT_MONTHS, "min_months": MIN_MONTHS,
                "max_months": MAX_MONTHS, "audit_months": AUDIT_MONTHS, "updated_by": self.updated_by,
                "updated_at": self.updated_at}


@dataclass(frozen=True)
class CustomerActivity:
    """What retention needs to know of a customer: ids and dates, no address."""
    customer_id: str
    last_activity: datetime   # the last performance of any of its orders, else its last order
    erased: bool = False


def past_retention(customers: Iterable[CustomerActivity], policy: RetentionPolicy,
                   now: datetime) -> list[CustomerActivity]:
    """The customers to anonymise now: not yet erased and last active before the cutoff."""
    cutoff = policy.cutoff(now)
    return sorted((c for c in customers if not c.erased and c.last_activity < cutoff),
                  key=lambda c: (c.last_activity, c.customer_id))


# -- erasure ---------------------------------------------------------------------------
ERASED_NAME = "[gewist]"


def anonymised_buyer(buyer: dict[str, Any] | None) -> dict[str, Any]:
    """An order's buyer after erasure: no name, no address; the language stays
    (it is no personal data and an order page still needs one)."""
    kept = {k: v for k, v in (buyer or {}).items() if k in ("locale", "language")}
    return {**kept, "name": ERASED_NAME, "email": None, "erased": True}


# Fields of a venue's items that hold personal data, wherever they occur.
PERSONAL_FIELDS = ("name", "email", "phone", "address")


# -- recognising personal data in text -------------------------------------------------
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Belgian/international phone numbers: +32 4xx xx xx xx, 04xx/xx.xx.xx, 0032...
# Not inside ids: a UUID or ISO time with digit groups is no phone number.
PHONE = re.compile(r"(?<![\w.:-])(?:\+|00)\d{2}[ ./-]?\d{1,3}(?:[ ./-]?\d{2,3}){3}(?![\w:-])"
                   r"|(?<![\w.:-])0\d{1,3}[ ./-]\d{2,3}(?:[ ./-]?\d{2}){2,3}(?![\w:-])")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with every e-mail address and phone number replaced."""
    return PHONE.sub(REDACTED, EMAIL.sub(REDACTED, text))


def findings(text: str, needles: Iterable[str]) -> list[str]:
    """Which of the known `needles` (buyers' names, addresses, phone numbers)
    occur in `text`, case-insensitively."""
    lowered = text.lower()
    return sorted({n for n in needles if n and n.lower() in lowered})


# -- the readable export ------------------------------------------------------------------
PAGE_WORDS = {
    "nl": {"title": "Uw gegevens bij", "customer": "Klant", "orders": "Bestellingen", "tickets": "Tickets",
           "consents": "Toestemmingen", "audit": "Wie uw gegevens inzag", "none": "geen", "erased": "Gewist op"},
    "fr": {"title": "Vos données chez", "customer": "Client", "orders": "Commandes", "tickets": "Billets",
           "consents": "Consentements", "audit": "Qui a consulté vos données", "none": "aucun",
           "erased": "Effacé le"},
    "en": {"title": "Your data at", "customer": "Customer", "orders": "Orders", "tickets": "Tickets",
           "consents": "Consents", "audit": "Who read your data", "none": "none", "erased": "Erased on"},
}


def export_page(export: dict[str, Any], venue_name: str, language: str = "nl") -> str:
    """The export as a self-contained HTML page (prints as a PDF from any browser)."""
    from html import escape

    words = PAGE_WORDS.get(language, PAGE_WORDS["nl"])

    def rows(pairs: Iterable[tuple[str, Any]]) -> str:
        return "".join(f"<tr><th scope='row'>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in pairs)

    customer = export.get("customer") or {}
    parts = [f"<h1>{escape(words['title'])} {escape(venue_name)}</h1>",
             f"<p>{escape(export['generated_at'])} · {escape(export['customer_id'])}</p>",
             f"<h2>{words['customer']}</h2><table>{rows(sorted(customer.items()))}</table>"]
    if export.get("erasure"):
        parts.append(f"<p>{words['erased']} {escape(str(export['erasure'].get('at')))}</p>")
    parts.append(f"<h2>{words['orders']}</h2>")
    for order in export.get("orders") or []:
        summary = [(k, order.get(k)) for k in ("order_id", "status", "created_at", "paid_at", "total", "channel")]
        summary += [(f"buyer.{k}", v) for k, v in sorted((order.get("buyer") or {}).items())]
        tickets = "".join(f"<li>{escape(t['event_title'])} · {escape(str(t['starts_at']))} · {escape(t['label'])}</li>"
                          for t in order.get("tickets") or [])
        parts.append(f"<table>{rows(summary)}</table><h3>{words['tickets']}</h3><ul>{tickets}</ul>")
    consents = "".join(f"<li>{escape(str(c.get('purpose')))}: {escape(str(c.get('given')))} · "
                       f"{escape(str(c.get('text_version')))} · {escape(str(c.get('at')))}</li>"
                       for c in export.get("consents") or []) or f"<li>{words['none']}</li>"
    audit = "".join(f"<li>{escape(str(e.get('at')))} · {escape(str(e.get('actor')))} ({escape(str(e.get('role')))})"
                    f" · {escape(str(e.get('action')))} · {escape(str(e.get('route')))}</li>"
                    for e in export.get("audit_entries") or []) or f"<li>{words['none']}</li>"
    parts += [f"<h2>{words['consents']}</h2><ul>{consents}</ul>", f"<h2>{words['audit']}</h2><ul>{audit}</ul>"]
    return (f"<!doctype html><html lang='{escape(language)}'><head><meta charset='utf-8'>"
            f"<title>{escape(words['title'])} {escape(venue_name)}</title>"
            "<style>body{font-family:sans-serif;max-width:50rem;margin:2rem auto;line-height:1.4}"
            "th{text-align:left;padding-right:1rem}</style></head><body><main>"
            + "".join(parts) + "</main></body></html>")
