"""Onboarding and offboarding venues.

Onboarding starts the venue's CloudFormation stack (its table, queues and
role) and registers the venue as `provisioning`; `finish_onboarding` turns
it `active` once the stack is complete: it initialises the venue's secret
through the venue's own role, opens its Stripe connected account and
creates its staff groups. In AWS a stack takes minutes, so the API answers
202 and the scheduled reconcile job (or the CLI, which waits) finishes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated, Any

from pydantic import StringConstraints

from chalicelib import bootstrap
from chalicelib.adapters import aws, identity, payments, provisioning, tenancy
from chalicelib.adapters.network_store import NetworkStore
from chalicelib.domain.model import Slug, Strict, Text, utcnow
from chalicelib.errors import Conflict, NotFound, OffboardingNotPrepared
from chalicelib.observability import logger
from chalicelib.settings import get_settings
from chalicelib.services import catalogue, sales, venue_backup


class NewVenue(Strict):
    slug: Slug
    name: Text
    city: Text = "Brugge"
    description: Annotated[str, StringConstraints(max_length=1000)] = ""
    brand_color: Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")] = "#1d4ed8"
    website: Annotated[str, StringConstraints(max_length=200)] = ""


def onboard(network: NetworkStore, request: NewVenue, *, cfn: Any = None) -> dict[str, Any]:
    settings = get_settings()
    venue = {**request.model_dump(), "status": "provisioning", "created_at": utcnow().isoformat()}
    if not network.put_venue(venue, only_new=True):
        raise Conflict(f"A venue '{request.slug}' already exists.")
    provisioning.start_venue_stack(
        cfn or aws.client("cloudformation"), stage=settings.stage, venue=request.slug,
        template_url=settings.venue_template_url, provisioner_role_arn=settings.venue_provisioner_role_arn,
        trusted_principal_arn=settings.api_principal_arn, onsale_worker_arn=settings.onsale_worker_arn)
    logger.info("venue onboarding started", extra={"venue": request.slug})
    return venue


def finish_onboarding(network: NetworkStore, slug: str, *, cfn: Any = None) -> dict[str, Any]:
    venue = network.get_venue(slug)
    if not venue:
        raise NotFound(f"There is no venue '{slug}'.")
    if venue["status"] != "provisioning":
        return venue
    status, _ = provisioning.stack_state(cfn or aws.client("cloudformation"), get_settings().venue_stack_name(slug))
    if status in provisioning.FAILED or status is None:
        network.update_venue(slug, status="failed")
        logger.error("venue stack failed", extra={"venue": slug, "stack_status": status})
        return network.get_venue(slug)
    if status not in provisioning.DONE:
        return venue
    bootstrap.worker_store(slug).initialise()
    account = venue.get("stripe_account_id") or payments.create_connected_account(venue=slug, name=venue["name"])
    for role in identity.ROLES:
        identity.ensure_group(identity.venue_group(slug, role))
    network.update_venue(slug, status="active", stripe_account_id=account)
    logger.info("venue active", extra={"venue": slug})
    return network.get_venue(slug)


def finish_all(network: NetworkStore) -> list[str]:
    """Scheduled: activate every venue whose stack has completed."""
    return [v["slug"] for v in network.list_venues()
            if v["status"] == "provisioning" and finish_onboarding(network, v["slug"])["status"] == "active"]


def prepare_offboarding(network: NetworkStore, slug: str) -> dict[str, Any]:
    """First of two steps: the venue stops selling (public routes open only
    active venues) and its whole table is exported to the backups bucket.
    Nothing is deleted. Returns the export's summary and the confirmation
    that the second step (`offboard`) needs; asking again makes a new export
    and a new confirmation."""
    venue = network.get_venue(slug)
    if not venue:
        raise NotFound(f"There is no venue '{slug}'.")
    if venue["status"] == "failed":
        # Its stack never completed: no table, no role, nothing to export.
        manifest = {"bucket": "-", "prefix": "nothing (the venue's stack failed)", "item_count": 0, "counts": {}}
        was_published: list[str] = []
    elif venue["status"] in ("active", "offboarding"):
        was_published = venue.get("offboarding", {}).get("published_events")
        if was_published is None:
            was_published = [e.event_id for e in bootstrap.worker_store(slug).list_events() if e.published]
        manifest = None
    else:
        raise Conflict(f"Venue '{slug}' is still being provisioned; offboard it once it is active or failed.")
    if venue["status"] != "failed":
        network.update_venue(slug, status="offboarding")
    sales.forget_active_venue(slug)
    manifest = manifest or venue_backup.export_venue(slug, venue)
    confirmation = secrets.token_hex(4)
    network.update_venue(slug, offboarding={
        "export": f"s3://{manifest['bucket']}/{manifest['prefix']}", "item_count": manifest["item_count"],
        "counts": manifest["counts"], "published_events": was_published,
        "confirmation_sha256": hashlib.sha256(confirmation.encode()).hexdigest()})
    logger.info("venue exported for offboarding", extra={"venue": slug, "item_count": manifest["item_count"],
                                                         "counts": manifest["counts"]})
    return {"venue": slug, "export": f"s3://{manifest['bucket']}/{manifest['prefix']}",
            "item_count": manifest["item_count"], "counts": manifest["counts"], "confirmation": confirmation}


def offboard(network: NetworkStore, slug: str, *, confirmation: str | None, cfn: Any = None) -> dict[str, Any]:
    """Second step: with the confirmation `prepare_offboarding` answered,
    remove the venue: catalogue pages, staff groups, then its stack. The
    stack keeps the table and the queues holding data (DeletionPolicy Retain);
    an operator deletes them once the export is checked (docs/operations.md)."""
    venue = network.get_venue(slug)
    if not venue:
        raise NotFound(f"There is no venue '{slug}'.")
    plan = venue.get("offboarding") or {}
    if venue["status"] not in ("offboarding", "failed") or not plan.get("confirmation_sha256"):
        raise OffboardingNotPrepared(f"Venue '{slug}' has not been exported: POST /network/venues/{slug}/offboarding "
                                     f"first, then repeat this request with its confirmation.")
    if not confirmation or not hmac.compare_digest(hashlib.sha256(confirmation.encode()).hexdigest(),
                                                   plan["confirmation_sha256"]):
        raise OffboardingNotPrepared(f"The confirmation does not match the last export of '{slug}' "
                                     f"({plan['export']}).")
    event_ids: list[str] = plan.get("published_events") or []
    sales.forget_active_venue(slug)
    catalogue.unpublish_venue(network, slug, event_ids)
    for role in identity.ROLES:
        identity.delete_group(identity.venue_group(slug, role))
    provisioning.delete_venue_stack(cfn or aws.client("cloudformation"), stage=get_settings().stage, venue=slug)
    tenancy.forget(slug)
    network.delete_venue(slug)
    logger.info("venue offboarded", extra={"venue": slug, "export": plan["export"]})
    return {"venue": slug, "export": plan["export"], "item_count": plan["item_count"], "counts": plan["counts"]}


def public_profile(venue: dict[str, Any]) -> dict[str, Any]:
    return {k: venue.get(k) for k in ("slug", "name", "city", "description", "brand_color", "website", "status",
                                        "created_at")}
