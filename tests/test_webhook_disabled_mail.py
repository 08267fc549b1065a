"""A venue is told by mail when Loket switches one of its webhook endpoints off
(docs/integrations.md "Delivery"): once per disable, as the venue itself, to its
profile's reply-to address, naming only the endpoint's host, and how to switch it on."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.adapters import webhook_store
from chalicelib.domain.model import VenueProfile
from chalicelib.services import webhooks as service
from tests.test_my_tickets_api import mails_to
from tests.test_webhooks import endpoint, order_paid, receivers, run_queue, venues  # noqa: F401 - fixtures

VENUE = "concertzaal"


@pytest.fixture
def contact():
    """The venue's profile with a reply-to address of this test; the venue's own profile again afterwards."""
    store = bootstrap.worker_store(VENUE)
    before = store.get_profile()
    address = f"webhooks.{uuid.uuid4().hex[:8]}@concertzaal.example"
    store.put_profile(VenueProfile(display_name="Concertzaal Brugge", reply_to=address,
                                   address={"street": "'t Zand 34", "postal_code": "8000", "city": "Brugge"}))
    yield address
    if before is not None:
        store.put_profile(before)
    else:
        store.db.delete_item(TableName=store.table, Key={"pk": {"S": "SETTINGS"}, "sk": {"S": "PROFILE"}})


def test_a_disabled_endpoint_is_mailed_to_the_venue_once_per_disable(api, venues, receivers, contact):
    receiver = receivers([(410, {}, "gone"), (410, {}, "gone again")])
    created = endpoint(api, VENUE, receiver.url + "?token=receiver-secret-123")
    order_paid(VENUE, f"ord_{uuid.uuid4().hex[:8]}")
    run_queue(VENUE, datetime.now(timezone.utc))

    mails = mails_to(contact)
    assert len(mails) == 1
    mail = mails[0]
    assert "concertzaal" in str(mail["From"]) and "Concertzaal Brugge" in str(mail["From"])
    assert mail["X-Loket-Webhook-Endpoint"] == created["endpoint_id"]
    body = mail.get_body(("plain",)).get_content()
    assert "127.0.0.1" in body and created["endpoint_id"] in body and '"enabled": true' in body
    assert "hooks/loket" not in body and "receiver-secret-123" not in body  # the host only
    assert "410" in body  # why

    # A second disable of an endpoint already off (a duplicated message) tells nobody again.
    store = bootstrap.worker_store(VENUE)
    webhooks = webhook_store.WebhookStore(store, "local")
    service._disable(webhooks, webhooks.get_endpoint(created["endpoint_id"]), "Every attempt failed.",
                     datetime.now(timezone.utc))
    assert len(mails_to(contact)) == 1

    # Switched on again, then off again: a new disable, a new mail.
    on = api.call("PATCH", f"/venues/{VENUE}/webhooks/endpoints/{created['endpoint_id']}", {"enabled": True},
                  token=api.token(f"{VENUE}-lead"))
    assert on.status_code == 200 and on.data["enabled"] is True, on.data
    order_paid(VENUE, f"ord_{uuid.uuid4().hex[:8]}")
    run_queue(VENUE, datetime.now(timezone.utc))
    assert len(mails_to(contact)) == 2
