"""The local outbox (`make run` only, never deployed): every mail SES "sent"
in moto, for a tester to follow a purchase to its confirmation mail.

  /outbox                              the mails, newest first: time, from, to, subject
  /outbox/{id}                         one mail: its headers, its HTML (rendered in a
                                       sandboxed frame), its text and attachments
  /outbox/{id}/html                    the HTML part as it is
  /outbox/{id}/attachments/{n}/{name}  an attachment, with its own content type

The local edge (local/edge.py) serves these paths; the mails come from moto's
SES (`/moto-api/loket/outbox`, local/moto_mail.py), wherever moto runs.
"""

from __future__ import annotations

import email
import json
import urllib.request
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from html import escape
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")
STYLE = """body{font-family:system-ui,Arial,sans-serif;margin:0;color:#111827;background:#f9fafb}
main{max-width:1000px;margin:0 auto;padding:24px}h1{font-size:1.6rem}table{border-collapse:collapse;width:100%;
background:#fff}th,td{text-align:left;padding:10px 12px;border-bottom:1px solid #d1d5db;vertical-align:top}
th{background:#f3f4f6}a{color:#1d4ed8}a:focus,a:hover{text-decoration-thickness:3px}
iframe{width:100%;height:640px;border:1px solid #9ca3af;background:#fff}pre{white-space:pre-wrap;background:#fff;
padding:12px;border:1px solid #d1d5db}dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px}
dt{font-weight:bold}ul.files li{margin:8px 0}"""


def fetch(moto_endpoint: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{moto_endpoint}/moto-api/loket/outbox", timeout=10) as response:
        return json.loads(response.read())["messages"]


def _parsed(raw: str) -> EmailMessage:
    return email.message_from_string(raw, policy=policy.default)


def _when(message: EmailMessage) -> str:
    try:
        return parsedate_to_datetime(message["Date"]).astimezone(BRUSSELS).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return ""


def _page(title: str, body: str) -> bytes:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><main>{body}</main></body></html>").encode()


def _list(messages: list[dict[str, Any]]) -> bytes:
    rows = []
    for item in messages:
        message = _parsed(item["raw"])
        rows.append(f"<tr><td>{escape(_when(message))}</td><td>{escape(str(message['From'] or ''))}</td>"
                    f"<td>{escape(str(message['To'] or ''))}</td>"
                    f"<td><a href=\"/outbox/{quote(item['id'])}\">{escape(str(message['Subject'] or '(no subject)'))}"
                    f"</a></td></tr>")
    table = ("<table><caption>Newest first</caption><thead><tr><th scope=\"col\">Sent (Brussels)</th>"
             "<th scope=\"col\">From</th><th scope=\"col\">To</th><th scope=\"col\">Subject</th></tr></thead>"
             f"<tbody>{''.join(rows)}</tbody></table>") if rows else "<p>No mail has been sent yet.</p>"
    return _page("Outbox - Loket (local)",
                 "<h1>Outbox</h1><p>Every mail Loket sent through SES in this local run "
                 f"({len(messages)}). Nothing here leaves this machine.</p>{table}")


def _attachments(message: EmailMessage) -> list[EmailMessage]:
    return list(message.iter_attachments())


def _detail(item: dict[str, Any]) -> bytes:
    message = _parsed(item["raw"])
    base = f"/outbox/{quote(item['id'])}"
    subject = str(message["Subject"] or "(no subject)")
    headers = "".join(f"<dt>{name}</dt><dd>{escape(str(message[name]))}</dd>"
                      for name in ("Date", "From", "To", "Reply-To", "Subject") if message[name])
    files = "".join(
        f'<li><a href="{base}/attachments/{n}/{quote(part.get_filename() or f"file-{n}")}">'
        f"{escape(part.get_filename() or f'file {n}')}</a> ({escape(part.get_content_type())}, "
        f"{len(part.get_payload(decode=True) or b'')} bytes)</li>"
        for n, part in enumerate(_attachments(message)))
    text_part = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    body = (f'<p><a href="/outbox">Back to the outbox</a></p><h1>{escape(subject)}</h1><dl>{headers}</dl>'
            + (f'<h2>Attachments</h2><ul class="files">{files}</ul>' if files else "")
            + (f'<h2>As the buyer sees it</h2><iframe title="The mail as HTML" sandbox src="{base}/html"></iframe>'
               f'<p><a href="{base}/html">Open the HTML on its own</a></p>' if html_part else "")
            + (f"<h2>Text version</h2><pre>{escape(text_part.get_content())}</pre>" if text_part else ""))
    return _page(f"{subject} - Outbox", body)


def handle(moto_endpoint: str, path: str) -> tuple[int, str, bytes]:
    """(status, content type, body) for an /outbox path."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p][1:]
    messages = fetch(moto_endpoint)
    if not parts:
        return 200, "text/html; charset=utf-8", _list(messages)
    item = next((m for m in messages if m["id"] == parts[0]), None)
    if item is None:
        return 404, "text/html; charset=utf-8", _page("Not found - Outbox",
                                                       '<h1>No such mail</h1><p><a href="/outbox">Outbox</a></p>')
    if len(parts) == 1:
        return 200, "text/html; charset=utf-8", _detail(item)
    message = _parsed(item["raw"])
    if parts[1:] == ["html"]:
        html = message.get_body(("html",))
        return 200, "text/html; charset=utf-8", (html.get_content() if html else "").encode()
    if len(parts) >= 3 and parts[1] == "attachments" and parts[2].isdigit():
        files = _attachments(message)
        n = int(parts[2])
        if n < len(files):
            return 200, files[n].get_content_type(), files[n].get_payload(decode=True) or b""
    return 404, "text/plain; charset=utf-8", b"Not found"
