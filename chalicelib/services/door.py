"""Door scanning: a scan's verdict, offline scans synced later, the check-in list.

Reads the ticket and its order, lets the domain decide (domain/door.py) and
has the door store make an admission atomic; if another door changed the
ticket's line between the read and the write, it reads again and decides
again, so two doors scanning one ticket at once admit it once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters.door_store import DoorStore
from chalicelib.services import webhooks
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain import tickets as ticket_codes
from chalicelib.domain.door import (
    Admission,
    OfflineScans,
    Scan,
    TicketAlreadyUsed,
    TicketInvalid,
    TicketOrderNotPaid,
    TicketOtherPerformance,
    Verdict,
    admission_time,
    decide,
    moment,
    too_old,
)
from chalicelib.domain.model import OrderStatus, Ticket, utcnow
from chalicelib.errors import InvalidInput, ServiceBusy
from chalicelib.observability import count

# A ticket's line changing between our read and our write means another door
# just scanned it; a few rounds settle any real door.
ADMIT_ROUNDS = 5


def _ticket(store: VenueStore, code: str) -> tuple[Ticket | None, bool]:
    """The ticket behind a code of this venue, and whether its order is paid."""
    ticket_id = ticket_codes.verify(store.venue, code, store.secret())
    ticket = store.get_ticket(ticket_id) if ticket_id else None
    if ticket is None:
        return None, False
    order = store.get_order(ticket.order_id)
    return ticket, order is not None and order.status == OrderStatus.PAID


def judge(store: VenueStore, scan: Scan, *, now: datetime | None = None, offline: bool = False) -> dict[str, Any]:
    """The scan's verdict as a plain answer (`result` and what the door shows)."""
    now = now or utcnow()
    door = DoorStore(store)
    at = admission_time(scan, now, offline=offline)
    first = replaced = None
    for _ in range(ADMIT_ROUNDS):
        # Read again each round: a lost race may be a cancel at the counter, not another door.
        ticket, paid = _ticket(store, scan.code)
        ours = ticket is not None and ticket.performance_id == scan.performance_id
        first = door.admission(scan.performance_id, ticket.ticket_id) if ours and paid else None
        verdict = decide(scan, ticket, paid, first, at, offline=offline)
        if verdict != Verdict.VALID or (first is not None and first.nonce == scan.nonce):
            break  # a refusal, or this very scan admitted it before (a retry): nothing to write
        if door.admit(ticket, at, scan.door, scan.nonce, replacing=first):
            replaced, first = first, Admission(ticket_id=ticket.ticket_id, performance_id=scan.performance_id, at=at,
                                               door=scan.door, nonce=scan.nonce)
            count("TicketAdmitted", store.venue)
            break
    else:
        raise ServiceBusy("This ticket is being scanned at another door right now. Scan it again.")
    return _answer(door, scan, verdict, ticket, first, replaced, at, offline)


def _answer(door: DoorStore, scan: Scan, verdict: Verdict, ticket: Ticket | None, first: Admission | None,
            replaced: Admission | None, at: datetime, offline: bool) -> dict[str, Any]:
    answer: dict[str, Any] = {"result": verdict.value, "nonce": scan.nonce, "performance_id": scan.performance_id}
    if verdict == Verdict.INVALID:
        answer["reason"] = "unknown" if ticket is None else "order_not_paid"
        return answer
    answer.update(ticket_id=ticket.ticket_id, event_title=ticket.event_title, label=ticket.label,
                  ticket_starts_at=ticket.starts_at.isoformat())
    if verdict == Verdict.OTHER_PERFORMANCE:
        answer["ticket_performance_id"] = ticket.performance_id
    elif verdict == Verdict.VALID:
        answer.update(admitted_at=moment(first.at), door=first.door)
        if replaced is not None:  # an offline scan from before: the one it replaced is the duplicate
            answer["duplicate"] = {"admitted_at": moment(replaced.at), "door": replaced.door}
    else:
        answer.update(first_admitted_at=moment(first.at), first_door=first.door)
        if offline:  # this holder got in while the device was offline: a duplicate to see in the list
            door.record_later(Admission(ticket_id=ticket.ticket_id, performance_id=scan.performance_id, at=at,
                                        door=scan.door, nonce=scan.nonce))
    return answer


REFUSALS = {"already_used": TicketAlreadyUsed, "other_performance": TicketOtherPerformance}
DETAILS = {
    "already_used": "This ticket was already used.",
    "other_performance": "This ticket is for another performance.",
}


def scan(store: VenueStore, scan: Scan, *, now: datetime | None = None) -> dict[str, Any]:
    """One online scan: the answer if admitted, else the refusal as a problem."""
    answer = judge(store, scan, now=now)
    result = answer["result"]
    _announce_admission(store, answer)
    if result == "invalid":
        extensions = {k: v for k, v in answer.items() if k != "result"}
        if answer["reason"] == "unknown":
            raise TicketInvalid("This is not a valid ticket of this venue.", result="invalid", **extensions)
        raise TicketOrderNotPaid("This ticket's order is not paid (or was cancelled).", result="invalid", **extensions)
    if result in REFUSALS:
        raise REFUSALS[result](DETAILS[result], **answer)
    return answer


def sync(store: VenueStore, batch: OfflineScans, *, now: datetime | None = None) -> dict[str, Any]:
    """Scans a device made offline, in the order they were made: each one's
    verdict (the earliest admission of a ticket wins)."""
    now = now or utcnow()
    stale = [i for i, s in enumerate(batch.scans) if too_old(s, now)]
    if stale:
        raise InvalidInput("Some scans are older than two days or stamped in the future; check the device's clock.",
                           errors=[{"field": f"scans.{i}.scanned_at", "message": "too old or in the future",
                                    "code": "scan_time_out_of_range"} for i in stale])
    ordered = sorted(batch.scans, key=lambda s: s.scanned_at)
    results = [judge(store, s, now=now, offline=True) for s in ordered]
    for answer in results:
        _announce_admission(store, answer)
    return {"results": results}


def _announce_admission(store: VenueStore, answer: dict[str, Any]) -> None:
    """ticket.checked_in for the venue's integrations, once per ticket (its id is the ticket's)."""
    if answer["result"] == "valid":
        webhooks.emit_safely(store, "ticket.checked_in", {"ticket": answer}, answer["ticket_id"])


def check_ins(store: VenueStore, performance_id: str) -> dict[str, Any]:
    """The performance's door list: who got in when and where, and the counts."""
    lines = DoorStore(store).door_list(performance_id)
    tickets = [line for line in lines if line["kind"] == "TICKET"]
    admitted = sorted((t for t in tickets if "admitted_at" in t), key=lambda t: t["admitted_at"], reverse=True)
    duplicates = sorted((line for line in lines if line["kind"] == "LATER"), key=lambda d: d["admitted_at"],
                        reverse=True)
    return {"performance_id": performance_id, "sold": len(tickets), "admitted": len(admitted),
            "check_ins": [{k: t[k] for k in ("ticket_id", "label", "admitted_at", "door")} for t in admitted],
            "duplicates": [{k: d[k] for k in ("ticket_id", "admitted_at", "door")} for d in duplicates]}


def performance_of(store: VenueStore, code: str) -> str:
    """The performance a code's ticket is for (a check without a door); a bad code is refused as at the door."""
    ticket, _ = _ticket(store, code)
    if ticket is None:
        raise TicketInvalid("This is not a valid ticket of this venue.", result="invalid", reason="unknown")
    return ticket.performance_id


def upcoming(store: VenueStore, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Performances that started at most 12 hours ago or are still to come, soonest first."""
    since = (now or utcnow()) - timedelta(hours=12)
    found = []
    for event in store.list_events():
        for performance in store.list_performances(event.event_id):
            if performance.starts_at >= since:
                found.append((performance.starts_at, {"event_id": event.event_id, "event_title": event.title, "hall": event.hall,
                              "performance_id": performance.performance_id,
                              "starts_at": performance.starts_at.isoformat(), "capacity": performance.capacity}))
    return [shown for _, shown in sorted(found, key=lambda pair: pair[0])]
