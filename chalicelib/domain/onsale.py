"""The waiting room's rules (docs/onsale.md), as plain functions.

Who is where in line, who is admitted next, who gets places: no AWS here.
The adapters store the line; the workers apply these rules to it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Iterable

from pydantic import Field, model_validator

from chalicelib.domain.model import Strict, TicketRequest

# An admitted batch becomes one DynamoDB transaction of 3 items per buyer
# (hold, entry result, buyer counter) plus the capacity counter and the
# line's own counters: 30 buyers stay under the 100-item limit.
BUYERS_PER_ADMISSION = 30
# Admitted buyers not yet served: the inlet holds back above this, so the
# reservation queue never gets deep (and a slow worker slows admission, not
# the buyers already admitted).
MAX_ADMITTED_BACKLOG = 600
# A numbered place that never got written (the numbering worker stopped
# between counting and writing, and SQS gave up on it) is skipped this long
# after the inlet first found it missing.
GAP_GRACE_SECONDS = 30
PRE_QUEUE_SHARDS = 16
# Joins before the opening are spread over this many message groups ("lanes"),
# numbered side by side: their order is a random draw anyway, so nothing is
# lost by not keeping one queue order, and a large pre-queue is written in
# parallel instead of 10 arrivals at a time (docs/capacity.md).
PRE_QUEUE_LANES = 8


class EntryState(StrEnum):
    QUEUED = "queued"      # joined; place not drawn or not numbered yet
    WAITING = "waiting"    # has a place in line
    HELD = "held"          # the reservation was made
    REFUSED = "refused"    # nothing was left at their turn (admission makes this rare)


class Reason(StrEnum):
    SOLD_OUT = "sold_out"                    # refused: nothing was left at their turn
    FEWER_PLACES_LEFT = "fewer_places_left"  # held, but fewer places than asked


class JoinRequest(Strict):
    tickets: list[TicketRequest] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def distinct(self) -> "JoinRequest":
        if len({t.price_type for t in self.tickets}) != len(self.tickets):
            raise ValueError("list each price type once")
        return self

    @property
    def quantity(self) -> int:
        return sum(t.quantity for t in self.tickets)


def is_pre_queue(joined_at: datetime, opens_at: datetime) -> bool:
    """Joined before the on-sale: their place is drawn at random at opening."""
    return joined_at < opens_at


def pre_queue_lane(entry_id: str) -> int:
    """The pre-queue lane of an entry: from its server-derived id, so a buyer cannot pick one."""
    return int(entry_id[:8], 16) % PRE_QUEUE_LANES


def line_position(entry: dict, pre_count: int | None) -> int | None:
    """A place in the whole line: the pre-queue's drawn places come first
    (1..pre_count), then everyone who joined after opening, in their order
    (`seq`). None until the draw has fixed how many are ahead."""
    if entry.get("position") is not None:
        return int(entry["position"])
    if entry.get("seq") is None or pre_count is None:
        return None
    return pre_count + int(entry["seq"])


def new_draw_key() -> str:
    """A line's secret for the draw, revealed in its status file once drawn."""
    return secrets.token_hex(32)


def draw_for(draw_key: str, entry_id: str) -> str:
    """A pre-queue arrival's lottery ticket: places are drawn in the order of
    these values. Fixed at arrival and repeatable, unknown to anyone before
    the draw (the key is secret until then), and afterwards computable by the
    buyer's own page from its entry id, so it can follow the line in the
    status file without asking the API."""
    return hmac.new(bytes.fromhex(draw_key), entry_id.encode(), hashlib.sha256).hexdigest()[:16]


def turn_known(status: dict, entry: dict) -> str | None:
    """What a waiting page can tell from the status file alone (the same rule
    as storefront/assets/queue-turn.js): "served" when the line has been served
    past this buyer (ask the API for the result, once), "not_admitted" when
    it is sold out and this buyer was not admitted, None otherwise. `entry`:
    the join's answer (`pre_queue`, `entry_id`, `sequence_number`)."""
    if not status.get("open"):
        return None
    pre_count = int(status.get("pre_count") or 0)
    if entry.get("pre_queue"):
        if not status.get("draw_key"):
            return None
        draw = draw_for(status["draw_key"], entry["entry_id"])
        served = int(status.get("served_until") or 0) >= pre_count or draw <= (status.get("served_draw_until") or "")
        admitted = int(status.get("serving") or 0) >= pre_count or draw <= (status.get("admitted_draw_until") or "")
    else:
        sequence = int(entry["sequence_number"])
        served = sequence <= int(status.get("served_sequence_until") or 0)
        admitted = sequence <= int(status.get("admitted_sequence_until") or 0)
    if served:
        return "served"
    if status.get("sold_out") and not admitted:
        return "not_admitted"
    return None


def draw_order(pre_queue: Iterable[tuple[str, str]]) -> list[str]:
    """Entry ids of the pre-queue in their drawn order, from (draw, entry_id)."""
    return [entry_id for _, entry_id in sorted(pre_queue)]


@dataclass
class Admission:
    """What the inlet decides this tick."""

    admitted: list[dict] = field(default_factory=list)
    demand: int = 0

    @property
    def last_position(self) -> int | None:
        return self.admitted[-1]["position"] if self.admitted else None


def admit(next_in_line: list[dict], *, available: int, outstanding_demand: int, outstanding_entries: int,
          budget: int) -> Admission:
    """Admit the next buyers in order, while

    - the rate budget lasts (the on-sale's admissions per second),
    - the backlog of admitted-but-not-served buyers stays small,
    - the places left cover what every admitted buyer asked for, so each
      admitted buyer gets what they asked for, in line order.

    The one exception is the last places: when the next buyer wants more than
    is left after what admitted buyers will take (but something is), they are
    admitted at once and get what is left when served (`serve`; more, if
    places came back meanwhile). Admitted buyers always get their full
    request, so what is left is known now, and everyone behind learns at once
    that it is sold out. Nobody behind them goes first: the line never skips
    anyone. `next_in_line` holds consecutive places,
    each {"position", "quantity", ...}.
    """
    admission = Admission()
    room = available - outstanding_demand
    budget = min(budget, MAX_ADMITTED_BACKLOG - outstanding_entries)
    for entry in next_in_line:
        if len(admission.admitted) >= budget:
            break
        wants = entry["quantity"]
        if wants <= room:
            room -= wants
        elif room > 0:
            room = 0  # the last places, fewer than asked
        else:
            break
        admission.admitted.append(entry)
        admission.demand += wants
    return admission


@dataclass(frozen=True)
class Decision:
    entry: dict
    quantity: int  # places granted: what was asked, fewer if fewer were left, 0 if none

    @property
    def granted(self) -> bool:
        return self.quantity > 0

    @property
    def partial(self) -> bool:
        return 0 < self.quantity < self.entry["quantity"]


def serve(admitted: list[dict], available: int) -> tuple[list[Decision], int]:
    """In line order: each admitted buyer gets what they asked for, or what
    is left if that is less. Returns the decisions and the places taken."""
    decisions, taken = [], 0
    for entry in admitted:
        granted = max(0, min(entry["quantity"], available - taken))
        taken += granted
        decisions.append(Decision(entry, granted))
    return decisions, taken


def trim(tickets: list[list], quantity: int) -> list[tuple[str, int]]:
    """The asked tickets cut down to `quantity` places, first price types first."""
    kept: list[tuple[str, int]] = []
    for code, wanted in tickets:
        if quantity <= 0:
            break
        kept.append((code, min(wanted, quantity)))
        quantity -= kept[-1][1]
    return kept


def ahead_of(position: int | None, serving: int) -> int | None:
    return None if position is None else max(0, position - serving - 1)

