"""The door: what a scanned ticket code means for the performance being checked.

Plain Python: the rules only. The adapter (adapters/door_store.py) makes the
chosen admission atomic; the service (services/door.py) reads, decides, writes.

A scan names the performance the door is checking, the door (a name the
device chose), a nonce the device made for this scan and when it was scanned.
Its verdict is one of:
  valid             admitted now (or this very scan admitted it before: a retry)
  already_used      admitted before, by another scan: when and at which door
  other_performance a real ticket, for another performance (which one)
  invalid           forged, unknown, or its order is not paid (cancelled)
A retry with the same nonce gets the same verdict and admits nothing twice.
Offline scans sync later: the earliest admission of a ticket wins, every
later one is reported as a duplicate.
"""

# No `from __future__ import annotations`: pydantic would eval() every field annotation (see model.py).

from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from chalicelib.domain.model import Id, Model, Moment, Strict, Ticket
from chalicelib.errors import Conflict, NotFound

# Devices' clocks drift: a scan stamped a little in the future is taken as "now".
CLOCK_SKEW = timedelta(minutes=5)
# An offline queue older than this is not a door's queue any more.
OLDEST_OFFLINE_SCAN = timedelta(days=2)
MAX_SYNC_SCANS = 200

DoorName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Nonce = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
TicketCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class Verdict(StrEnum):
    VALID = "valid"
    ALREADY_USED = "already_used"
    OTHER_PERFORMANCE = "other_performance"
    INVALID = "invalid"


class Scan(Strict):
    code: TicketCode
    performance_id: Id
    door: DoorName
    nonce: Nonce
    scanned_at: Moment


class OfflineScans(Strict):
    scans: list[Scan] = Field(min_length=1, max_length=MAX_SYNC_SCANS)


class Admission(Model):
    """Who got in with a ticket: the first accepted scan."""

    ticket_id: str
    performance_id: str
    at: datetime
    door: str
    nonce: str


def moment(at: datetime) -> str:
    """A UTC time as a fixed-width string, so stored times compare as strings
    (DynamoDB conditions compare them) exactly as they compare as times."""
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def admission_time(scan: Scan, now: datetime, *, offline: bool) -> datetime:
    """When the scan admitted its holder. Online: the server's clock (what the
    door showed green at). Offline: the device's stamp, never in the future."""
    if not offline:
        return now
    return min(scan.scanned_at, now)


def too_old(scan: Scan, now: datetime) -> bool:
    return scan.scanned_at < now - OLDEST_OFFLINE_SCAN or scan.scanned_at > now + CLOCK_SKEW


def decide(scan: Scan, ticket: Ticket | None, order_paid: bool, first: Admission | None, at: datetime, *,
           offline: bool = False) -> Verdict:
    """The door's rule. `first` is the ticket's admission so far, `at` when this scan would admit.
    Only an offline scan can be earlier than an admission already recorded: an online one
    that lost a race to another door was second, whatever its clock said."""
    if ticket is None or not order_paid:
        return Verdict.INVALID
    if ticket.performance_id != scan.performance_id:
        return Verdict.OTHER_PERFORMANCE
    if first is None or first.nonce == scan.nonce:
        return Verdict.VALID
    if offline and at < first.at:  # the holder got in at an offline door before anyone else
        return Verdict.VALID
    return Verdict.ALREADY_USED


# -- the answers, as problem+json with a stable type the door page translates -------------
class TicketInvalid(NotFound):
    slug, title = "ticket-invalid", "Not a valid ticket"


class TicketOrderNotPaid(Conflict):
    slug, title = "ticket-order-not-paid", "This ticket's order is not paid"


class TicketAlreadyUsed(Conflict):
    slug, title = "ticket-already-used", "This ticket was already used"


class TicketOtherPerformance(Conflict):
    slug, title = "ticket-other-performance", "This ticket is for another performance"
