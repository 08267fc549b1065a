"""The privacy rules as plain Python (domain/privacy.py): no stack needed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain import privacy as rules

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["mail an.peeters@example.be now", "+32 475 12 34 56", "0475/12.34.56",
                                  "0032 475 12 34 56", "bel 050 44 86 86"])
def test_addresses_and_phone_numbers_are_redacted(text):
    redacted = rules.redact(text)
    assert "[redacted]" in redacted and "@" not in redacted and not re.search(r"\d{2}[ ./]\d{2}", redacted)


@pytest.mark.parametrize("text", ["request 0123-4567-8901-2345", "2026-11-30T16:57:33+00:00", "order 01234 567 89",
                                  "total 12500 cents"])
def test_ids_times_and_amounts_are_not_mistaken_for_phone_numbers(text):
    assert rules.redact(text) == text


def test_a_venue_chooses_retention_only_within_the_networks_bounds():
    assert rules.RetentionPolicy().months == rules.NETWORK_DEFAULT_MONTHS == 24
    assert rules.RetentionPolicy.chosen(rules.MIN_MONTHS, "lead", "now").months == 6
    assert rules.RetentionPolicy.chosen(rules.MAX_MONTHS, "lead", "now").months == 60
    for months in (rules.MIN_MONTHS - 1, rules.MAX_MONTHS + 1, 0):
        with pytest.raises(rules.RetentionOutOfBounds):
            rules.RetentionPolicy.chosen(months, "lead", "now")


def test_retention_picks_exactly_the_customers_last_active_before_the_cutoff():
    policy = rules.RetentionPolicy(months=12)
    cutoff = policy.cutoff(NOW)
    customers = [rules.CustomerActivity("just-past", cutoff - timedelta(seconds=1)),
                 rules.CustomerActivity("on-the-line", cutoff),
                 rules.CustomerActivity("recent", NOW - timedelta(days=10)),
                 rules.CustomerActivity("already-erased", cutoff - timedelta(days=400), erased=True),
                 rules.CustomerActivity("long-ago", cutoff - timedelta(days=400))]
    assert [c.customer_id for c in rules.past_retention(customers, policy, NOW)] == ["long-ago", "just-past"]


def test_an_anonymised_buyer_keeps_only_the_language():
    assert rules.anonymised_buyer({"name": "An Peeters", "email": "an@example.be", "locale": "fr"}) == {
        "locale": "fr", "name": rules.ERASED_NAME, "email": None, "erased": True}


def test_the_readable_export_escapes_what_it_shows():
    page = rules.export_page({"generated_at": "now", "customer_id": "c1", "customer": {"name": "<script>x</script>"},
                              "orders": [], "consents": [], "audit_entries": []}, "Concertzaal", "fr")
    assert "<script>x" not in page and "&lt;script&gt;" in page and "Vos données chez Concertzaal" in page
    assert page.startswith("<!doctype html><html lang='fr'>")
