"""The confirmation mail of a paid order, in the buyer's language (nl, fr,
en): subject, HTML and text. Plain Python; every value from the venue or the
buyer is escaped in the HTML."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from chalicelib.domain.ticket_documents import Branding, TicketSheet, euros, language_of, local_time

TEXTS = {
    "nl": {
        "subject": "Je tickets bij {venue}",
        "hello": "Beste {name},",
        "thanks": "Bedankt voor je bestelling bij {venue}. Je betaling is ontvangen.",
        "attached": "Je tickets zitten als PDF in de bijlage, met een agenda-item per voorstelling (.ics). "
                    "Toon de QR-code op je telefoon of op papier aan de ingang.",
        "order": "Bestelnummer",
        "total": "Totaal",
        "reply": "Vragen? Antwoord op deze e-mail: je bericht gaat naar {venue}.",
        "mine": "Je tickets kwijt? Vraag op {url} een link aan met dit e-mailadres.",
        "html_lang": "nl",
    },
    "fr": {
        "subject": "Vos billets pour {venue}",
        "hello": "Bonjour {name},",
        "thanks": "Merci pour votre commande chez {venue}. Votre paiement a bien été reçu.",
        "attached": "Vos billets sont joints en PDF, avec une entrée d'agenda par représentation (.ics). "
                    "Présentez le code QR sur votre téléphone ou sur papier à l'entrée.",
        "order": "Numéro de commande",
        "total": "Total",
        "reply": "Des questions ? Répondez à cet e-mail : votre message arrive chez {venue}.",
        "mine": "Billets perdus ? Demandez un lien sur {url} avec cette adresse e-mail.",
        "html_lang": "fr",
    },
    "en": {
        "subject": "Your tickets for {venue}",
        "hello": "Dear {name},",
        "thanks": "Thank you for your order at {venue}. Your payment has been received.",
        "attached": "Your tickets are attached as a PDF, with a calendar entry per performance (.ics). "
                    "Show the QR code on your phone or on paper at the door.",
        "order": "Order number",
        "total": "Total",
        "reply": "Questions? Reply to this e-mail: your message goes to {venue}.",
        "mine": "Lost your tickets? Ask for a link at {url} with this e-mail address.",
        "html_lang": "en",
    },
}


@dataclass(frozen=True)
class ConfirmationMail:
    subject: str
    html: str
    text: str


def _link_line(sentence: str, url: str) -> str:
    if not url:
        return ""
    before, _, after = sentence.partition("{url}")
    return f'<p>{escape(before)}<a href="{escape(url)}">{escape(url)}</a>{escape(after)}</p>'


def order_reference(order_id: str) -> str:
    """What a buyer quotes on the phone: short, unambiguous, from the order id."""
    return order_id[:10].upper()


def render(branding: Branding, *, buyer_name: str, order_id: str, total_cents: int, tickets: list[TicketSheet],
           language: str, my_tickets_url: str = "") -> ConfirmationMail:
    """`my_tickets_url`: where the buyer asks for their tickets again ("my tickets")."""
    language = language_of(language)
    words = TEXTS[language]
    venue = branding.display_name
    lines: dict[tuple[str, str, str], int] = {}
    for ticket in tickets:
        key = (ticket.event_title, local_time(ticket.starts_at, language), ticket.price_label)
        lines[key] = lines.get(key, 0) + 1
    reference = order_reference(order_id)

    text_lines = [words["hello"].format(name=buyer_name), "", words["thanks"].format(venue=venue), ""]
    text_lines += [f"- {count} x {title}, {when} ({label})" for (title, when, label), count in lines.items()]
    text_lines += ["", f"{words['total']}: {euros(total_cents, language)}", f"{words['order']}: {reference}", "",
                   words["attached"], "", words["reply"].format(venue=venue)]
    if my_tickets_url:
        text_lines += ["", words["mine"].format(url=my_tickets_url)]
    if branding.address:
        text_lines += ["", f"{venue}, {branding.address}"]

    items = "".join(f"<li>{count} × <strong>{escape(title)}</strong>, {escape(when)} ({escape(label)})</li>"
                    for (title, when, label), count in lines.items())
    html = f"""<!doctype html>
<html lang="{words['html_lang']}"><head><meta charset="utf-8"><title>{escape(words['subject'].format(venue=venue))}</title></head>
<body style="margin:0;font-family:Arial,Helvetica,sans-serif;color:#1f2937;background:#f3f4f6">
<div style="max-width:600px;margin:0 auto;background:#ffffff">
<div style="background:{escape(branding.primary)};color:{escape(branding.on_primary)};padding:20px 24px">
<p style="margin:0;font-size:22px;font-weight:bold">{escape(venue)}</p></div>
<div style="padding:24px;font-size:16px;line-height:1.5">
<p>{escape(words['hello'].format(name=buyer_name))}</p>
<p>{escape(words['thanks'].format(venue=venue))}</p>
<ul>{items}</ul>
<p>{escape(words['total'])}: <strong>{escape(euros(total_cents, language))}</strong><br>
{escape(words['order'])}: <strong>{escape(reference)}</strong></p>
<p>{escape(words['attached'])}</p>
<p>{escape(words['reply'].format(venue=venue))}</p>
{_link_line(words['mine'], my_tickets_url)}
{f'<p style="color:#4b5563;font-size:14px">{escape(venue)}, {escape(branding.address)}</p>' if branding.address else ''}
</div></div></body></html>"""
    return ConfirmationMail(subject=words["subject"].format(venue=venue), html=html, text="\n".join(text_lines))
