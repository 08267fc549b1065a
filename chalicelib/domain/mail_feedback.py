"""Bounces and complaints as SES reports them, read into one shape.

SES sends two formats: identity notifications (`notificationType`) and
configuration-set event publishing (`eventType`), which Loket's venue stacks
use (infra/venue.yaml). Both carry the sent mail's `messageId` and `source`.
Deliveries and other event types are not recorded. Plain Python, no AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

RECORDED = {"Bounce": "bounce", "Complaint": "complaint"}


@dataclass(frozen=True)
class MailFeedback:
    type: str  # bounce | complaint
    message_id: str  # SES's id of the mail it is about
    source_domain: str  # the identity that sent it, e.g. concertzaal.loket.example
    at: str  # when SES reported it (ISO 8601)
    recipients: tuple[str, ...]
    detail: str  # e.g. "Permanent/General", "abuse"

    @property
    def permanent(self) -> bool:
        return self.type == "complaint" or self.detail.startswith("Permanent")


def parse(notification: dict[str, Any]) -> MailFeedback | None:
    """The feedback in an SES notification, or None if it is not a bounce or complaint."""
    kind = RECORDED.get(notification.get("notificationType") or notification.get("eventType") or "")
    mail = notification.get("mail") or {}
    if kind is None or not mail.get("messageId"):
        return None
    if kind == "bounce":
        body = notification.get("bounce") or {}
        recipients = [r.get("emailAddress", "") for r in body.get("bouncedRecipients", [])]
        detail = f"{body.get('bounceType', '')}/{body.get('bounceSubType', '')}"
    else:
        body = notification.get("complaint") or {}
        recipients = [r.get("emailAddress", "") for r in body.get("complainedRecipients", [])]
        detail = body.get("complaintFeedbackType", "") or "complaint"
    source = parseaddr(mail.get("source", ""))[1]
    return MailFeedback(type=kind, message_id=mail["messageId"], source_domain=source.rpartition("@")[2].lower(),
                        at=body.get("timestamp") or mail.get("timestamp", ""),
                        recipients=tuple(r for r in recipients if r), detail=detail)
