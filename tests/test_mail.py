"""The mail adapter on moto with IAM enforced: a venue sends only as itself,
the network only as its no-reply address, and what arrives is the MIME the
adapter built (read back from moto's SES, as the local outbox does)."""

from __future__ import annotations

import email
from email import policy

import pytest
from botocore.exceptions import ClientError

from chalicelib import bootstrap
from chalicelib.adapters import mail


def _sent(message_id: str) -> email.message.EmailMessage:
    from local.moto_mail import sent_messages

    raw = next(m["raw"] for m in sent_messages() if m["id"] == message_id)
    return email.message_from_string(raw, policy=policy.default)


def test_a_venue_sends_as_itself_with_html_text_and_attachments(loket):
    store = bootstrap.worker_store("concertzaal")
    message_id = mail.send(
        mail.venue_ses(store), sender=mail.venue_sender("concertzaal", "Concertzaal Zand"),
        to="Lies Claes <lies.claes@example.be>", subject="Je tickets voor Zomernacht",
        html="<p>Hallo Lies</p>", text="Hallo Lies", reply_to=["tickets@concertzaal.example"],
        attachments=[mail.Attachment("tickets.pdf", b"%PDF-1.4 test", "application/pdf"),
                     mail.Attachment("voorstelling.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")])
    sent = _sent(message_id)
    assert (sent["From"].addresses[0].display_name, sent["From"].addresses[0].addr_spec) == (
        "Concertzaal Zand", "tickets@concertzaal.loket.test")
    assert sent["Reply-To"] == "tickets@concertzaal.example"
    assert sent["Subject"] == "Je tickets voor Zomernacht"
    assert sent.get_body(("plain",)).get_content().strip() == "Hallo Lies"
    assert "<p>Hallo Lies</p>" in sent.get_body(("html",)).get_content()
    files = {part.get_filename(): part.get_payload(decode=True) for part in sent.iter_attachments()}
    assert files == {"tickets.pdf": b"%PDF-1.4 test", "voorstelling.ics": b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}


def test_a_venue_cannot_send_as_another_venue_or_as_the_network(loket):
    ses = mail.venue_ses(bootstrap.worker_store("concertzaal"))
    for sender in (mail.venue_sender("cc-reien", "Cultuurcentrum De Reien"), mail.network_sender()):
        with pytest.raises(ClientError) as refused:
            mail.send(ses, sender=sender, to="lies.claes@example.be", subject="x", html="<p>x</p>", text="x")
        assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_the_network_sends_its_own_mails_but_not_as_a_venue(loket):
    message_id = mail.send(mail.network_ses(), sender=mail.network_sender(), to="lies.claes@example.be",
                           subject="Je link", html="<p>link</p>", text="link")
    assert _sent(message_id)["From"].addresses[0].addr_spec == "no-reply@loket.test"
    with pytest.raises(ClientError) as refused:
        mail.send(mail.network_ses(), sender=mail.venue_sender("concertzaal", "Concertzaal Zand"),
                  to="lies.claes@example.be", subject="x", html="<p>x</p>", text="x")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
