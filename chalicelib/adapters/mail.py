"""Outgoing mail through Amazon SES (moto locally).

`send` builds one MIME message with the standard library (text and HTML
alternatives, optional attachments) and hands it to SES `SendRawEmail`, the
one SES call that carries attachments; moto supports it and keeps the sent
message (the local outbox reads it from there: local/moto_mail.py).

Who may send as whom is IAM's business, not this module's:
- network mails (magic links) come from `settings.network_sender`
  (`no-reply@{mail domain}`), sent with the function's own identity, whose
  policy names only the network's identity (infra/platform.yaml);
- a venue's mails come from `venue_sender(venue)` on the venue's own
  subdomain identity, sent with the venue's role, whose policy names only
  that identity (infra/venue.yaml). The caller passes the SES client built
  on the right session; `venue_ses(store)` builds it for a venue store.

Nothing here logs addresses, subjects or bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any, Iterable

from chalicelib.settings import get_settings

VENUE_LOCAL_PART = "tickets"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str  # e.g. "application/pdf", "text/calendar"


class MailRejected(Exception):
    """SES refused the message for good (e.g. an unverified sender or a
    malformed address): sending it again will not help."""


def venue_sender(venue: str, display_name: str) -> str:
    """`"Concertzaal Brugge" <tickets@concertzaal.{mail domain}>`."""
    return formataddr((display_name, f"{VENUE_LOCAL_PART}@{get_settings().venue_mail_identity(venue)}"))


def network_sender(display_name: str = "Loket") -> str:
    return formataddr((display_name, get_settings().network_sender))


def build(*, sender: str, to: str, subject: str, html: str, text: str, reply_to: Iterable[str] | None = None,
          attachments: Iterable[Attachment] = (), headers: dict[str, str] | None = None) -> EmailMessage:
    """The MIME message: multipart/alternative (text, then HTML), wrapped in
    multipart/mixed when there are attachments."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    reply_to = [address for address in (reply_to or []) if address]
    if reply_to:
        message["Reply-To"] = ", ".join(reply_to)
    domain = sender.rpartition("@")[2].rstrip(">") or None
    message["Message-ID"] = make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=attachment.filename)
    return message


def send(ses_client: Any, *, sender: str, to: str, subject: str, html: str, text: str,
         reply_to: list[str] | None = None, attachments: Iterable[Attachment] = (),
         headers: dict[str, str] | None = None, configuration_set: str | None = None) -> str:
    """Send one mail; returns SES's message id. Raises MailRejected when SES
    refuses the message itself; throttling and outages raise botocore's
    errors (worth a retry)."""
    from botocore.exceptions import ClientError

    message = build(sender=sender, to=to, subject=subject, html=html, text=text, reply_to=reply_to,
                    attachments=attachments, headers=headers)
    request: dict[str, Any] = {"Source": sender, "Destinations": [_address_only(to)],
                               "RawMessage": {"Data": message.as_bytes()}}
    if configuration_set:
        request["ConfigurationSetName"] = configuration_set
    try:
        return ses_client.send_raw_email(**request)["MessageId"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("MessageRejected", "MailFromDomainNotVerifiedException",
                                                          "InvalidParameterValue"):
            raise MailRejected(error.response["Error"].get("Message", "rejected")) from error
        raise


def _address_only(to: str) -> str:
    from email.headerregistry import HeaderRegistry

    parsed = HeaderRegistry()("To", to)
    addresses: tuple[Address, ...] = parsed.addresses
    return addresses[0].addr_spec if addresses else to


def venue_ses(store: Any):
    """SES on the venue's own role (the store's session)."""
    from chalicelib.adapters import aws

    return aws.client("ses", store.session)


def network_ses():
    """SES on the function's own identity, for network mails."""
    from chalicelib.adapters import aws

    return aws.client("ses")
