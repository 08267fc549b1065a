"""Bounces and complaints are recorded in the selling venue's own table and
shown to its lead. Locally SES delivers nothing, so the test hands the
mail-events function the notification SES publishes (configuration-set event
publishing, through the venue's SNS topic, as Lambda receives it), about a
confirmation mail that was really sent through moto's SES."""

from __future__ import annotations

import json
import uuid

from chalicelib import bootstrap
from chalicelib.adapters.order_delivery_store import OrderDeliveryStore
from chalicelib.domain.mail_feedback import parse


def _paid_and_mailed(api, venue: str) -> tuple[str, str]:
    bought = api.buy(api.new_event(venue), 1, email=f"bounce.{uuid.uuid4().hex[:8]}@example.be")
    order_id = bought["basket"]["orders"][0]["order_id"]
    delivery = OrderDeliveryStore(bootstrap.worker_store(venue)).get(order_id)
    assert delivery["mail_state"] == "sent"
    return order_id, delivery["mail_message_id"]


def _sns_event(topic_venue: str, notification: dict) -> dict:
    return {"Records": [{"EventSource": "aws:sns", "Sns": {
        "Type": "Notification", "MessageId": str(uuid.uuid4()),
        "TopicArn": f"arn:aws:sns:eu-west-1:123456789012:loket-local-venue-{topic_venue}-mail-events",
        "Message": json.dumps(notification)}}]}


def _bounce(message_id: str, source: str) -> dict:
    return {"eventType": "Bounce",
            "bounce": {"bounceType": "Permanent", "bounceSubType": "NoEmail", "timestamp": "2026-11-30T16:10:00.000Z",
                       "bouncedRecipients": [{"emailAddress": "nobody@example.be", "status": "5.1.1"}]},
            "mail": {"timestamp": "2026-11-30T16:09:58.000Z", "messageId": message_id, "source": source,
                     "destination": ["nobody@example.be"]}}


def _complaint(message_id: str, source: str) -> dict:
    return {"notificationType": "Complaint",
            "complaint": {"complaintFeedbackType": "abuse", "timestamp": "2026-11-30T16:20:00.000Z",
                          "complainedRecipients": [{"emailAddress": "nobody@example.be"}]},
            "mail": {"timestamp": "2026-11-30T16:09:58.000Z", "messageId": message_id, "source": source}}


def test_a_bounce_and_a_complaint_are_kept_by_the_selling_venue_once_and_shown_to_its_lead(api, app):
    order_id, message_id = _paid_and_mailed(api, "concertzaal")
    source = '"Concertzaal Zand" <tickets@concertzaal.loket.test>'
    for _ in range(2):  # SNS and Lambda deliver at least once
        app.mail_events(_sns_event("concertzaal", _bounce(message_id, source)), None)
    app.mail_events(_sns_event("concertzaal", _complaint(message_id, source)), None)

    lead = api.token("concertzaal-lead")
    listed = api.call("GET", "/venues/concertzaal/mail-events", token=lead)
    assert listed.status_code == 200, listed.data
    mine = [e for e in listed.data["events"] if e["message_id"] == message_id]
    assert sorted((e["type"], e["detail"], e["permanent"], e["order_id"]) for e in mine) == [
        ("bounce", "Permanent/NoEmail", True, order_id), ("complaint", "abuse", True, order_id)]
    assert "nobody@example.be" not in json.dumps(listed.data)  # addresses only through the audited order route

    # Another venue neither sees them nor may look.
    other = api.call("GET", "/venues/cc-reien/mail-events", token=api.token("cc-reien-lead"))
    assert all(e["message_id"] != message_id for e in other.data["events"])
    assert api.call("GET", "/venues/concertzaal/mail-events", token=api.token("cc-reien-lead")).status_code == 404
    assert api.call("GET", "/venues/concertzaal/mail-events", token=api.token("concertzaal-kassa")).status_code in (403, 404)


def test_a_report_about_another_venues_mail_is_not_recorded_on_the_wrong_venue(api, app):
    _, message_id = _paid_and_mailed(api, "concertzaal")
    bounce = _bounce(message_id, "tickets@concertzaal.loket.test")
    assert app.mail_events(_sns_event("cc-reien", bounce), None) == {"recorded": 0}
    assert app.mail_events(_sns_event("no-such-venue", bounce), None) == {"recorded": 0}
    for venue in ("cc-reien", "concertzaal"):
        events = OrderDeliveryStore(bootstrap.worker_store(venue)).mail_events()
        assert all(e["message_id"] != message_id for e in events)


def test_deliveries_and_unknown_reports_are_not_feedback():
    assert parse({"eventType": "Delivery", "mail": {"messageId": "m", "source": "a@b"}}) is None
    assert parse({"notificationType": "Bounce", "mail": {}}) is None
    assert parse({}) is None
