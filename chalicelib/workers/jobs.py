"""Scheduled jobs (every minute in AWS and in the local runner).

Each venue is handled on its own credentials and in its own try block: a
broken venue is logged and skipped, never a reason to stop the others.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib import bootstrap
from chalicelib.observability import logger
from chalicelib.services import catalogue, sales, venues


def _each_active_venue(action, name: str) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for venue in bootstrap.network().list_venues():
        if venue.get("status") != "active":
            continue
        try:
            results[venue["slug"]] = action(venue["slug"])
        except Exception:  # one venue's failure must not stop the rest
            logger.exception(f"{name} failed for venue", extra={"venue": venue["slug"]})
            results[venue["slug"]] = "error"
    return results


def release_expired_holds(now: datetime | None = None) -> dict[str, Any]:
    return _each_active_venue(lambda slug: sales.release_expired_holds(bootstrap.worker_store(slug), now),
                              "release expired holds")


def return_stale_checkouts(now: datetime | None = None) -> dict[str, Any]:
    """Places stuck 'in checkout' whatever left them there (a lost webhook, a
    function stopped mid-checkout, a payment that failed later)."""
    return _each_active_venue(
        lambda slug: sales.sweep_stale_checkouts(bootstrap.network(), bootstrap.worker_store(slug), bootstrap.worker_store,
                                                 now),
        "return stale checkouts")


def reconcile_baskets(now: datetime | None = None) -> dict[str, str]:
    """Baskets left unfinished: settled from Stripe's answer, per venue."""
    return sales.reconcile(bootstrap.network(), bootstrap.worker_store, now)


def send_webhook_outboxes() -> dict[str, Any]:
    """Webhook events their venue's queue refused when they happened (services/webhooks.py emit)."""
    from chalicelib.services import webhooks

    return _each_active_venue(lambda slug: webhooks.sweep_outbox(bootstrap.worker_store(slug)), "webhook outbox")


def retry_pending_refunds(now: datetime | None = None) -> dict[str, Any]:
    """Refunds of cancelled orders that Stripe did not make at the time (services/order_cancellation.py)."""
    from chalicelib.services import order_cancellation

    return _each_active_venue(
        lambda slug: order_cancellation.retry_pending_refunds(bootstrap.network(), bootstrap.worker_store(slug), now),
        "retry pending refunds")


def refresh_catalogue() -> dict[str, Any]:
    """Availability in the catalogue ('few left', 'sold out') follows sales."""
    results = _each_active_venue(
        lambda slug: catalogue.publish_venue(bootstrap.network(), bootstrap.worker_store(slug), with_network=False),
        "refresh catalogue")
    catalogue.publish_network(bootstrap.network())
    return results


def apply_retention(now: datetime | None = None) -> dict[str, Any]:
    """Daily: each venue's retention policy, a dry-run report first (services/privacy.py)."""
    from chalicelib.services import privacy

    return _each_active_venue(lambda slug: privacy.scheduled_retention(bootstrap.worker_store(slug), now),
                              "apply retention")


def finish_onboarding() -> list[str]:
    return venues.finish_all(bootstrap.network())


def every_minute(now: datetime | None = None) -> dict[str, Any]:
    return {"activated": finish_onboarding(), "released": release_expired_holds(now),
            "reconciled": reconcile_baskets(now), "stale_checkouts": return_stale_checkouts(now),
            "catalogue": refresh_catalogue(), "webhook_outbox": send_webhook_outboxes(),
            "refunds": retry_pending_refunds(now)}
