"""A venue as controller of its buyers' data (docs/privacy.md): access
(export), erasure (anonymisation), retention, consent. Every function works
on one venue's store, on that venue's own role: nothing here reads another
venue or writes personal data anywhere else.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters.privacy_store import PrivacyStore, erasure_event_id
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain import privacy as rules
from chalicelib.domain.model import utcnow
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.observability import logger

EXPORT_FORMAT = "loket.person-export.v1"
RETENTION_NOTICE_DAYS = 7  # a buyer first appears in the dry-run report; anonymised a week later


class PersonNotFound(NotFound):
    slug, title = "person-not-found", "This venue holds no data about this person"


class RetentionOutOfBounds(InvalidInput):
    slug, title = "retention-out-of-bounds", "Outside the network's retention bounds"


# -- access --------------------------------------------------------------------------------
def _orders_with_details(privacy: PrivacyStore, customer_id: str) -> list[dict[str, Any]]:
    orders = []
    for order in sorted(privacy.orders_of(customer_id), key=lambda o: o.get("created_at", "")):
        extra = {i["sk"]: {k: v for k, v in i.items() if k != "sk"} for i in privacy.order_items(order["order_id"])}
        delivery = extra.get("DELIVERY") or {}
        message_id = delivery.get("mail_message_id")
        orders.append({
            **{k: v for k, v in order.items() if k not in ("gsi1pk", "gsi1sk")},
            "tickets": [t.model_dump(mode="json") for t in privacy.store.tickets_of_order(order["order_id"])],
            "mail": {k: delivery.get(k) for k in ("mail_state", "mail_sent_at", "mail_attempts", "mail_message_id")
                     if k in delivery},
            "documents": [d["name"] for d in delivery.get("documents") or []],
            "mail_events": privacy.mail_events_of(message_id) if message_id else [],
        })
    return orders


def export(store: VenueStore, email: str, now: datetime | None = None) -> dict[str, Any]:
    """Everything this venue holds about the person with this address. PersonNotFound if nothing."""
    privacy = PrivacyStore(store)
    customer_id = privacy.customer_id_of(email)
    partition = {i["sk"]: {k: v for k, v in i.items() if k != "sk"} for i in privacy.customer_items(customer_id)}
    orders = _orders_with_details(privacy, customer_id)
    if not partition and not orders:
        raise PersonNotFound("This venue holds no data about this address.")
    customer = partition.get("CUSTOMER")
    if customer:
        customer = {k: v for k, v in customer.items() if k not in ("gsi1pk", "gsi1sk")}
    return {
        "format": EXPORT_FORMAT, "venue": store.venue, "generated_at": (now or utcnow()).isoformat(),
        "customer_id": customer_id, "customer": customer,
        "consents": [v for k, v in partition.items() if k.startswith("CONSENT#")],
        "orders": orders,
        "link_requests": [{"window": k.split("#", 1)[1], "sent": v.get("sent")}
                          for k, v in partition.items() if k.startswith("MYTICKETS#")],
        "audit_entries": privacy.audit_entries_about(customer_id, {o["order_id"] for o in orders}),
        "erasure": partition.get("ERASED"),
    }


def known_customer(store: VenueStore, email: str) -> str:
    """The customer id of an address this venue sold to (and did not erase)."""
    privacy = PrivacyStore(store)
    customer_id = privacy.customer_id_of(email)
    customer = store.get_customer(customer_id)
    if not customer or str(customer.get("email", "")).lower() != email.strip().lower():
        raise PersonNotFound("This venue holds no data about this address.")
    return customer_id


# -- erasure -----------------------------------------------------------------------------------
def erase(store: VenueStore, *, email: str | None = None, customer_id: str | None = None, by: str,
          reason: str, now: datetime | None = None) -> dict[str, Any]:
    """Anonymise one person at this venue. Orders keep their amounts, lines and
    status; tickets, door lines and documents stay as they are (they carry no
    name), so accounting totals do not move and the tickets still admit.
    Idempotent: each step can be repeated, the ERASED marker comes last; a
    retry after a crash finishes the job and ends in the same state."""
    from chalicelib.settings import get_settings

    privacy = PrivacyStore(store)
    now = now or utcnow()
    customer_id = customer_id or privacy.customer_id_of(email or "")
    earlier = privacy.erasure_of(customer_id)
    orders = privacy.orders_of(customer_id)
    if earlier is None and not orders and store.get_customer(customer_id) is None:
        raise PersonNotFound("This venue holds no data about this person.")
    for order in orders:
        buyer = order.get("buyer") or {}
        if not buyer.get("erased"):
            privacy.anonymise_order(order["order_id"], rules.anonymised_buyer(buyer), now)
    privacy.forget_customer_items(customer_id)
    order_ids = sorted(o["order_id"] for o in orders)
    marker = earlier or {"at": now.isoformat(), "by": by, "reason": reason, "order_ids": order_ids}
    privacy.anonymise_customer(customer_id, marker)
    privacy.queue_webhook(get_settings().stage, "customer.anonymized", erasure_event_id(store.venue, customer_id),
                          {"venue": store.venue, "customer_id": customer_id, "order_ids": order_ids,
                           "anonymized_at": marker["at"]}, now)
    logger.info("customer anonymised", extra={"venue": store.venue, "customer_id": customer_id,
                                              "orders": len(order_ids), "reason": reason})
    return {"venue": store.venue, "customer_id": customer_id, "status": "anonymised", "anonymised_at": marker["at"],
            "order_ids": order_ids, "already": earlier is not None}


# -- retention -------------------------------------------------------------------------------------
def retention_policy(store: VenueStore) -> rules.RetentionPolicy:
    chosen = PrivacyStore(store).get_retention()
    if not chosen:
        return rules.RetentionPolicy()
    return rules.RetentionPolicy(months=int(chosen["months"]), updated_by=chosen.get("updated_by"),
                                 updated_at=chosen.get("updated_at"))


def set_retention(store: VenueStore, months: int, by: str, now: datetime | None = None) -> rules.RetentionPolicy:
    try:
        policy = rules.RetentionPolicy.chosen(months, by, (now or utcnow()).isoformat())
    except rules.RetentionOutOfBounds as error:
        raise RetentionOutOfBounds(str(error), min_months=rules.MIN_MONTHS, max_months=rules.MAX_MONTHS) from error
    PrivacyStore(store).put_retention(policy.months, by, policy.updated_at or "")
    return policy


def _activity(store: VenueStore, customer: dict[str, Any]) -> rules.CustomerActivity:
    """The customer's last performance (of any order's tickets), else its last order."""
    moments = [t.starts_at for order_id in customer.get("order_ids") or ()
               for t in store.tickets_of_order(order_id)]
    if not moments:
        moments = [datetime.fromisoformat(customer.get("last_order_at") or customer["first_order_at"])]
    return rules.CustomerActivity(customer_id=customer["customer_id"], last_activity=max(moments))


def retention_report(store: VenueStore, now: datetime | None = None) -> dict[str, Any]:
    """Dry run: who the policy would anonymise now; changes nothing."""
    now = now or utcnow()
    policy = retention_policy(store)
    due = rules.past_retention((_activity(store, c) for c in PrivacyStore(store).all_customers()), policy, now)
    return {"venue": store.venue, "dry_run": True, "at": now.isoformat(), "policy": policy.as_dict(),
            "cutoff": policy.cutoff(now).isoformat(), "count": len(due),
            "due": [{"customer_id": c.customer_id, "last_activity": c.last_activity.isoformat()} for c in due]}


def apply_retention(store: VenueStore, now: datetime | None = None, *, by: str = "retention-job") -> dict[str, Any]:
    """Anonymise the buyers past the venue's limit (the same list a dry run gives)."""
    report = retention_report(store, now)
    erased = [erase(store, customer_id=c["customer_id"], by=by, reason="retention", now=now)["customer_id"]
              for c in report["due"]]
    return {**report, "dry_run": False, "anonymised": erased}


def scheduled_retention(store: VenueStore, now: datetime | None = None) -> dict[str, Any]:
    """The daily job: a dry run first. A buyer past the limit is listed in the
    venue's report the first day, and anonymised RETENTION_NOTICE_DAYS later if
    still past it (the lead can see, export or raise the limit meanwhile)."""
    now = now or utcnow()
    privacy = PrivacyStore(store)
    report = retention_report(store, now)
    first_due = (privacy.get_retention_report() or {}).get("first_due") or {}
    first_due = {c["customer_id"]: first_due.get(c["customer_id"], now.isoformat()) for c in report["due"]}
    ripe = [cid for cid, at in first_due.items() if now - datetime.fromisoformat(at) >= timedelta(days=RETENTION_NOTICE_DAYS)]
    anonymised = [erase(store, customer_id=cid, by="retention-job", reason="retention", now=now)["customer_id"]
                  for cid in sorted(ripe)]
    waiting = {cid: at for cid, at in first_due.items() if cid not in ripe}
    audit_cutoff = (now - timedelta(days=rules.AUDIT_MONTHS * rules.DAYS_PER_MONTH)).isoformat()
    dropped_audit = privacy.drop_audit_entries_before(audit_cutoff)
    privacy.put_retention_report({"at": now.isoformat(), "cutoff": report["cutoff"], "months": report["policy"]["months"],
                                  "first_due": waiting, "anonymised": anonymised})
    if anonymised:
        from chalicelib.adapters import audit_log

        audit_log.record(store, actor="retention-job", role="system", action="retention.applied",
                         subject={"customer_ids": anonymised[:500]}, route="schedule daily-retention",
                         purpose=f"retention {report['policy']['months']} months")  # when it really ran
    return {"venue": store.venue, "due": len(report["due"]), "announced": sorted(waiting), "anonymised": anonymised,
            "audit_entries_dropped": dropped_audit}


def last_scheduled_report(store: VenueStore) -> dict[str, Any] | None:
    return PrivacyStore(store).get_retention_report()


# -- consent ----------------------------------------------------------------------------------
def consent(store: VenueStore, customer_id: str) -> dict[str, Any]:
    found = PrivacyStore(store).get_consent(customer_id)
    return {"venue": store.venue, "marketing": bool(found and found.get("given")),
            "text_version": (found or {}).get("text_version"), "at": (found or {}).get("at")}


def set_consent(store: VenueStore, customer_id: str, *, given: bool, text_version: str, source: str,
                now: datetime | None = None) -> dict[str, Any]:
    """This venue's marketing consent only: another venue never reads it."""
    PrivacyStore(store).put_consent(customer_id, given=given, text_version=text_version, at=now or utcnow(),
                                    source=source)
    return consent(store, customer_id)
