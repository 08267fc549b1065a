"""High-demand on-sales: the waiting room (docs/onsale.md).

join          buyer -> venue's FIFO queue: before opening group pre#{perf}#{lane},
              after it group arrive#{perf}                    (API, no hot item)
take_pre_arrivals  writes the pre-queue's arrivals with their draw, lanes side by
              side; the last lane to see the opening draws the order  (worker)
take_arrivals numbers arrivals after opening in queue order, one counter update
              per batch                                        (worker, in order)
tick          admits the next places within rate, backlog and stock, sends
              them to group reserve#{perf}; publishes the status file (inlet)
serve_batch   one transaction per admitted batch: places, holds, answers (worker)
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters import catalogue_store, secrets
from chalicelib.adapters.onsale_store import ARRIVE_GROUP, PRE_GROUP, RESERVE_GROUP, OnSaleStore, pre_group
from chalicelib.adapters.venue_store import VenueStore
from chalicelib.domain import onsale as rules, tokens
from chalicelib.domain.model import Hold, HoldStatus, NewHold, OnSaleSettings, Performance, TicketRequest, hold_expiry, price_hold, utcnow
from chalicelib.domain.onsale import EntryState, JoinRequest
from chalicelib.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from chalicelib.observability import count, logger
from chalicelib.settings import get_settings

SERVE_ATTEMPTS = 5


def _derived_id(*parts: str) -> str:
    return tokens.derived_id(secrets.token_signing_key(), *parts)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def status_path(venue: str, performance_id: str) -> str:
    return f"queue/{venue}/{performance_id}.json"


# -- the venue's settings ---------------------------------------------------------------
def configure(onsale: OnSaleStore, event_id: str, performance_id: str, settings: OnSaleSettings,
              now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    performance = onsale.store.get_performance(event_id, performance_id)
    if not performance:
        raise NotFound("This performance does not exist.")
    if settings.opens_at >= performance.starts_at:
        raise InvalidInput("The on-sale must open before the performance starts.",
                           errors=[{"field": "opens_at", "message": "after the performance starts", "code": "too_late"}])
    current = onsale.state(performance_id)
    if current and datetime.fromisoformat(current["opens_at"]) <= now \
            and datetime.fromisoformat(current["opens_at"]) != settings.opens_at:
        raise Conflict("This on-sale has opened; its opening time can no longer change (the rate and limit can).")
    onsale.configure(event_id, performance_id, settings, rules.new_draw_key())
    _lines_cache.pop(onsale.venue, None)  # this instance's inlet sees the new line at once
    _sale_info_cache.pop((onsale.venue, event_id, performance_id), None)
    logger.info("on-sale configured", extra={"venue": onsale.venue, "performance_id": performance_id,
                                              "opens_at": settings.opens_at.isoformat()})
    publish_status(onsale, onsale.state(performance_id), performance, now)
    return settings.model_dump(mode="json")


# -- joining (API) --------------------------------------------------------------------
def join(onsale: OnSaleStore, event_id: str, performance_id: str, request: JoinRequest, buyer: str,
         now: datetime | None = None) -> dict[str, Any]:
    """Validate and queue the arrival: one SQS message, no write on the table.

    One place in line per buyer session and performance: the entry id is
    derived from the session, so a second join (a retry, another window) is
    the same arrival. SQS drops it within its 5-minute deduplication window
    and the numbering worker skips an entry it already placed after that;
    the first join's tickets count."""
    now = now or utcnow()
    event, performance = _sale_info(onsale.store, event_id, performance_id)
    if not event or not event.published:
        raise NotFound("This event does not exist or is not on sale.")
    if not performance:
        raise NotFound("This performance does not exist.")
    if performance.onsale is None:
        raise Conflict("This performance is not sold through a waiting room: reserve it directly (POST /holds).")
    if performance.starts_at <= now:
        raise Conflict("This performance has already started.")
    limit = performance.onsale.max_tickets_per_buyer
    if request.quantity > limit:
        raise InvalidInput(f"At most {limit} tickets per buyer for this on-sale.",
                           errors=[{"field": "tickets", "message": f"at most {limit} tickets", "code": "too_many_tickets"}])
    price_hold(event, NewHold(venue=onsale.venue, event_id=event_id, performance_id=performance_id,
                              tickets=request.tickets))  # unknown price types are refused now, not at the turn
    entry_id = _derived_id("queue-entry", onsale.venue, performance_id, buyer)
    pre_queue = rules.is_pre_queue(now, performance.onsale.opens_at)
    group = pre_group(performance_id, rules.pre_queue_lane(entry_id)) if pre_queue else ARRIVE_GROUP + performance_id
    body = {"kind": "arrive", "entry_id": entry_id, "event_id": event_id, "performance_id": performance_id,
            "buyer": buyer, "tickets": [[t.price_type, t.quantity] for t in request.tickets],
            "quantity": request.quantity, "joined_at": now.isoformat(),
            "ttl": _epoch(performance.starts_at + timedelta(days=2))}
    joined_at_ms = int(time.time() * 1000)  # before the send: the queue's SentTimestamp is not earlier
    sequence_number = onsale.send(group, [(entry_id, body)])[0]
    count("QueueJoined", onsale.venue)
    return {"entry_id": entry_id, "state": EntryState.QUEUED.value, "joined_at_ms": joined_at_ms,
            "pre_queue": pre_queue, "sequence_number": sequence_number,
            "queue_token": _token(entry_id, event_id, performance_id, buyer, performance.starts_at),
            "opens_at": performance.onsale.opens_at.isoformat(),
            "status_url": f"/{catalogue_store.PREFIX}{status_path(onsale.venue, performance_id)}"}


def _token(entry_id: str, event_id: str, performance_id: str, buyer: str, starts_at: datetime) -> str:
    return tokens.queue_token(secrets.token_signing_key(), entry_id, event_id, performance_id, buyer, _epoch(starts_at))


# Joins validate against the event and performance as this Lambda instance
# last read them: a burst of thousands of joins then costs no reads on the
# venue table. A venue's change reaches joins within this many seconds.
SALE_INFO_SECONDS = 5.0
_sale_info_cache: dict[tuple[str, str, str], tuple[float, Any, Any]] = {}


def _sale_info(store: VenueStore, event_id: str, performance_id: str):
    cache_key = (store.venue, event_id, performance_id)
    cached = _sale_info_cache.get(cache_key)
    if cached and time.monotonic() - cached[0] < SALE_INFO_SECONDS:
        return cached[1], cached[2]
    event, performance = store.get_event(event_id), store.get_performance(event_id, performance_id)
    _sale_info_cache[cache_key] = (time.monotonic(), event, performance)
    return event, performance


def entry_status(onsale: OnSaleStore, entry_id: str, token: str | None, buyer: str | None,
                 now: datetime | None = None) -> dict[str, Any]:
    """Where the buyer is: one read of the entry, the line and the performance together."""
    now = now or utcnow()
    if buyer is None:
        raise NotAuthenticated("Send the X-Buyer-Session you joined the line with.")
    valid = tokens.verify_queue_token(secrets.token_signing_key(), token, buyer, _epoch(now))
    if valid is None or valid[0] != entry_id:
        raise NotAuthenticated("This queue token is not valid for you (forged, expired, or from another buyer).")
    _, event_id, performance_id = valid
    entry, state, performance_item = onsale.entry_and_line(entry_id, event_id, performance_id)
    state = state or {}
    pre_count = int(state["pre_count"]) if state.get("shuffled") else None
    serving = int(state.get("serving", 0))
    outstanding = int(state.get("admitted_demand", 0)) - int(state.get("served_demand", 0))
    sold_out = performance_item is not None and (int(performance_item["available"]) - outstanding
                                                 - int(performance_item.get("box_office_quota", 0))) <= 0 \
        and bool(state.get("shuffled"))
    answer: dict[str, Any] = {"state": EntryState.QUEUED.value, "position": None, "serving": serving, "ahead": None,
                              "sold_out": sold_out, "hold": None, "reason": None, "queue_token": token}
    if entry is not None and entry.get("buyer") == buyer:
        position = rules.line_position(entry, pre_count)
        entry_state = entry["state"]
        if position is None and pre_count is not None and entry.get("draw"):
            position = onsale.drawn_position(performance_id, entry["draw"])  # the draw has placed it
            if entry_state == EntryState.QUEUED.value and position is not None:
                entry_state = EntryState.WAITING.value
        answer.update(state=entry_state, position=position, reason=entry.get("reason"),
                      ahead=rules.ahead_of(position, serving))
        if entry["state"] == EntryState.HELD.value:
            hold = onsale.store.get_hold(entry["hold_id"])
            answer["hold"] = hold and {**hold.model_dump(mode="json", exclude={"buyer"}), "quantity": hold.quantity,
                                       "total": hold.total}
    # else: joined, not numbered yet (the pre-queue before the draw, or a moment of numbering)
    answer["poll_after_ms"] = _poll_after(answer)
    return answer


def _poll_after(answer: dict[str, Any]) -> int:
    """Ask again soon only when it matters: the status file tells the rest."""
    if answer["state"] in (EntryState.HELD.value, EntryState.REFUSED.value):
        return 0
    ahead = answer.get("ahead")
    return 1000 if ahead is not None and ahead < 100 else 5000


# -- numbering (workers) ---------------------------------------------------------------
def _arrival_entry(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in ("entry_id", "event_id", "performance_id", "buyer", "tickets", "quantity",
                                 "joined_at", "ttl")}


def _pre_queue_entry(body: dict[str, Any], draw_key: str) -> dict[str, Any]:
    return {**_arrival_entry(body), "state": EntryState.QUEUED.value, "draw": rules.draw_for(draw_key, body["entry_id"])}


def take_pre_arrivals(onsale: OnSaleStore, performance_id: str, records: list[dict[str, Any]],
                      now: datetime | None = None) -> None:
    """Pre-queue lanes (records of any of them, in order within each): write
    each arrival with its draw (their order is decided by the draws, not by
    the queue), all lanes of the batch with one read and one write. At a
    lane's opening marker the lane is closed; the worker that closes the last
    lane draws the places. An arrival behind its lane's marker joined too
    late for the draw: it goes to the arrivals after opening, in queue order."""
    now = now or utcnow()
    draw_key = _draw_key(onsale, performance_id)
    if draw_key is None:
        logger.warning("arrival for a performance without on-sale", extra={"venue": onsale.venue})
        return
    if all(r["body"].get("kind") == "arrive" for r in records):
        fresh: dict[str, dict[str, Any]] = {}
        for record in records:
            fresh.setdefault(record["body"]["entry_id"], record["body"])  # the first join counts
        if onsale.write_pre_arrivals(performance_id, {int(r["group"].rpartition("#")[2]) for r in records}, [
                _pre_queue_entry(body, draw_key) for body in fresh.values()]):
            return
    # The careful path: an opening marker, a lane that has closed, or an arrival delivered again.
    state = onsale.state(performance_id) or {}
    closed = {int(lane) for lane in state.get("pre_lanes_closed", ())}
    known = onsale.entries(r["body"]["entry_id"] for r in records if r["body"].get("kind") == "arrive")
    pending: list[dict[str, Any]] = []
    late: list[tuple[str, dict[str, Any]]] = []
    for record in records:
        body, lane = record["body"], int(record["group"].rpartition("#")[2])
        if body.get("kind") == "open":
            onsale.write_places(pending)  # this lane's arrivals before its marker are all written
            pending = []
            state = onsale.close_pre_lane(performance_id, lane)
            closed.add(lane)
            if len(state.get("pre_lanes_closed", ())) >= rules.PRE_QUEUE_LANES and not state.get("shuffled"):
                _draw_pre_queue(onsale, performance_id, now)
            continue
        if body["entry_id"] in known:
            continue  # delivered again
        known[body["entry_id"]] = body
        if lane in closed:
            late.append((f"late-{body['entry_id']}", body))  # its own deduplication id: SQS would drop a reuse
        else:
            pending.append(_pre_queue_entry(body, draw_key))
    onsale.write_places(pending)
    if late:  # SQS drops a repeat of these within its deduplication window
        onsale.send(ARRIVE_GROUP + performance_id, late)


_draw_keys: dict[tuple[str, str], str] = {}


def _draw_key(onsale: OnSaleStore, performance_id: str) -> str | None:
    """The line's draw key, read once per instance: it never changes."""
    cache_key = (onsale.venue, performance_id)
    if cache_key not in _draw_keys:
        state = onsale.state(performance_id)
        if state is None:
            return None
        _draw_keys[cache_key] = state["draw_key"]
    return _draw_keys[cache_key]


def take_arrivals(onsale: OnSaleStore, performance_id: str, records: list[dict[str, Any]],
                  now: datetime | None = None) -> None:
    """Arrivals after opening: the next places, in the order the queue
    accepted them, with one counter update for the whole batch. They need
    not wait for the draw: their place in the whole line is the pre-queue's
    size plus their `seq`. A redelivered arrival keeps its place, also when
    it was numbered but not yet written (OnSaleStore.number_after)."""
    now = now or utcnow()
    arrivals = [r for r in records if r["body"].get("kind") == "arrive"]
    if not arrivals:
        return
    known = onsale.entries(r["body"]["entry_id"] for r in arrivals)
    after: list[dict[str, Any]] = []
    for record in arrivals:
        body = record["body"]
        if body["entry_id"] in known:
            continue  # delivered again
        known[body["entry_id"]] = body
        after.append({**_arrival_entry(body), "state": EntryState.WAITING.value, "sequence": record["sequence"]})
    if not after:
        return
    numbers = onsale.number_after(performance_id, [entry["sequence"] for entry in after], now,
                                  max(r["accepted_at_ms"] for r in arrivals))
    for entry in after:
        entry["seq"] = numbers[entry["sequence"]]
    onsale.write_places(after)


def _draw_pre_queue(onsale: OnSaleStore, performance_id: str, now: datetime) -> None:
    """The pre-queue's places, in the order of each arrival's draw. Repeatable:
    the draws were fixed at arrival, so a second run writes the same places."""
    drawn = {entry["entry_id"]: entry for entry in onsale.pre_queue(performance_id)}
    order = rules.draw_order((entry["draw"], entry_id) for entry_id, entry in drawn.items())
    onsale.write_draw(performance_id, [drawn[e] for e in order])
    drawn_now = onsale.mark_shuffled(performance_id, len(order), now)
    logger.info("pre-queue drawn", extra={"venue": onsale.venue, "performance_id": performance_id,
                                          "places": len(order)})
    if drawn_now:
        # The first admission and the status file at once, not at the inlet's next tick: the whole
        # pre-queue waits for them. Safe beside the inlet: the same batches carry the same
        # deduplication ids, and only one of two can move `serving`.
        state = onsale.state(performance_id)
        performance = state and onsale.store.get_performance(state["event_id"], performance_id)
        if performance is not None:
            _tick_line(onsale, state, performance, utcnow(), 1.0)


# -- admission (inlet, every second) --------------------------------------------------------
# Which lines a venue has is looked up this often; each line's counters are
# read fresh (consistently) every tick.
LINES_LOOKUP_SECONDS = 5.0
_lines_cache: dict[str, tuple[float, list[tuple[str, str]]]] = {}


def _lines(onsale: OnSaleStore) -> list[tuple[str, str]]:
    cached = _lines_cache.get(onsale.venue)
    if cached and time.monotonic() - cached[0] < LINES_LOOKUP_SECONDS:
        return cached[1]
    lines = [(item["event_id"], item["performance_id"]) for item in onsale.on_sales()]
    _lines_cache[onsale.venue] = (time.monotonic(), lines)
    return lines


def tick(onsale: OnSaleStore, now: datetime | None = None, *, seconds: float = 1.0) -> dict[str, int]:
    """Admit the next buyers of every open line of this venue; publish each
    line's status. Returns how many were admitted per performance (if any)."""
    now = now or utcnow()
    admitted = {}
    for event_id, performance_id in _lines(onsale):
        performance = onsale.store.get_performance(event_id, performance_id)
        state = onsale.state(performance_id)
        if performance is None or state is None or performance.starts_at <= now:
            continue
        moved = _tick_line(onsale, state, performance, now, seconds)
        if moved:
            admitted[performance_id] = moved
    return admitted


def _tick_line(onsale: OnSaleStore, state: dict[str, Any], performance: Performance, now: datetime,
               seconds: float) -> int:
    performance_id = performance.performance_id
    if now < datetime.fromisoformat(state["opens_at"]):
        publish_status(onsale, state, performance, now)
        return 0
    if not state.get("shuffled"):
        # Opening: everyone who joined before it is ahead of this marker in
        # their lane, so once every lane has seen it the pre-queue is complete.
        if onsale.mark_opening_announced(performance_id):
            onsale.send_to_groups([(pre_group(performance_id, lane), f"open-{performance_id}-{lane}",
                                    {"kind": "open", "performance_id": performance_id})
                                   for lane in range(rules.PRE_QUEUE_LANES)])
        publish_status(onsale, state, performance, now)
        return 0
    serving, joined, pre_count = int(state["serving"]), int(state["joined"]), int(state["pre_count"])
    outstanding_demand = int(state["admitted_demand"]) - int(state["served_demand"])
    outstanding_entries = int(state["admitted_entries"]) - int(state["served_entries"])
    budget = max(1, int(int(state["admit_per_second"]) * seconds))
    # Read no more of the line than the places left could admit (every buyer wants at least one):
    # once sold out, a tick reads no places at all, however long the line.
    room = performance.online_available - outstanding_demand
    last = min(joined, serving + min(budget, rules.MAX_ADMITTED_BACKLOG - outstanding_entries, max(0, room)))
    line: list[dict[str, Any]] = []
    if last > serving:
        places = onsale.places(performance_id, serving + 1, last, pre_count)
        for position in range(serving + 1, last + 1):
            if position in places:
                line.append(places[position])
                continue
            # Numbered, not written (yet): wait for it from when the inlet first found it missing; every
            # place numbered by then and still missing after the grace was never written: passed.
            noted = int(state.get("gap_position", 0)) <= position <= int(state.get("gap_through", 0))
            if not noted:
                onsale.note_gap(performance_id, position, joined, now)
                break
            if (now - datetime.fromisoformat(state["gap_seen_at"])).total_seconds() <= rules.GAP_GRACE_SECONDS:
                break
            line.append({"position": position, "quantity": 0, "gap": True})
    admission = rules.admit(line, available=performance.online_available, outstanding_demand=outstanding_demand,
                            outstanding_entries=outstanding_entries, budget=budget)
    if admission.admitted:
        buyers = [e for e in admission.admitted if not e.get("gap")]
        batches = [buyers[i:i + rules.BUYERS_PER_ADMISSION] for i in range(0, len(buyers), rules.BUYERS_PER_ADMISSION)]
        onsale.send(RESERVE_GROUP + performance_id, [(
            f"reserve-{performance_id}-{batch[0]['position']}-{batch[-1]['position']}",
            {"kind": "reserve", "event_id": performance.event_id, "performance_id": performance_id,
             "entries": [{k: e[k] for k in ("entry_id", "buyer", "tickets", "quantity", "position", "draw", "sequence")
                          if k in e} for e in batch]})
            for batch in batches])
        if onsale.record_admission(performance_id, serving, admission.last_position, admission.demand,
                                   len(buyers), now, **_last_admitted(admission.admitted)):
            state = {**state, "serving": admission.last_position,
                     "admitted_demand": int(state["admitted_demand"]) + admission.demand}
            count("QueueAdmitted", onsale.venue, len(buyers))
    publish_status(onsale, state, performance, now)
    return len(admission.admitted)


def _last_admitted(entries: list[dict[str, Any]]) -> dict[str, str]:
    """The draw of the last drawn place and the sequence number of the last
    place after opening among these (in line order): waiting pages compare
    their own with them (rules.turn_known)."""
    last: dict[str, str] = {}
    for entry in entries:
        if entry.get("draw"):
            last["draw"] = entry["draw"]
        if entry.get("sequence"):
            last["sequence"] = entry["sequence"]
    return last


# The status file is rewritten when it changes, and at least this often (its
# `updated_at` tells a waiting page the inlet is alive).
STATUS_HEARTBEAT_SECONDS = 5.0
_published: dict[tuple[str, str], tuple[float, str]] = {}


def publish_status(onsale: OnSaleStore, state: dict[str, Any] | None, performance: Performance, now: datetime) -> None:
    """The line as every waiting buyer sees it: a static file, cached 1 s."""
    if not state:
        return
    outstanding = int(state.get("admitted_demand", 0)) - int(state.get("served_demand", 0))
    opens_at = datetime.fromisoformat(state["opens_at"])
    drawn = bool(state.get("shuffled"))
    numbered_until_ms = int(state.get("numbered_until_ms", 0))
    if drawn:  # every join before the opening has its place
        numbered_until_ms = max(numbered_until_ms, int(opens_at.timestamp() * 1000))
    document = {"opens_at": state["opens_at"], "open": now >= opens_at and drawn,
                "serving": int(state.get("serving", 0)), "joined": int(state.get("joined", 0)) if drawn else 0,
                # A waiting page asks for its place once numbered_until_ms has passed its join,
                # and for its result once served_until has reached its place: no polling.
                "numbered_until_ms": numbered_until_ms if drawn else 0,
                # A page follows its own turn without asking (rules.turn_known): with its draw
                # (computable from the key once drawn) or its join's SQS sequence number.
                "pre_count": int(state.get("pre_count", 0)) if drawn else None,
                "draw_key": state.get("draw_key") if drawn else None,
                "admitted_draw_until": state.get("admitted_draw_until"),
                "served_draw_until": state.get("served_draw_until"),
                "admitted_sequence_until": state.get("admitted_sequence_until"),
                "served_sequence_until": state.get("served_sequence_until"),
                "served_until": int(state.get("served_until", 0)),
                "sold_out": now >= opens_at and performance.online_available - outstanding <= 0,
                "places_may_return": performance.starts_at > now}
    content = json.dumps(document, sort_keys=True)
    cache_key = (onsale.venue, performance.performance_id)
    last = _published.get(cache_key)
    if last and last[1] == content and time.monotonic() - last[0] < STATUS_HEARTBEAT_SECONDS:
        return
    catalogue_store.put_document(status_path(onsale.venue, performance.performance_id),
                                 {**document, "updated_at": now.isoformat()}, max_age=1)
    _published[cache_key] = (time.monotonic(), content)


# -- serving (worker, in line order) ------------------------------------------------------
def serve_batch(onsale: OnSaleStore, body: dict[str, Any], now: datetime | None = None) -> dict[str, int]:
    """Reserve for an admitted batch, in line order, in one transaction.
    Redelivered: the buyers already answered are skipped, nobody gets two holds."""
    now = now or utcnow()
    store = onsale.store
    event_id, performance_id = body["event_id"], body["performance_id"]
    event = store.get_event(event_id)
    for _ in range(SERVE_ATTEMPTS):
        answered = {e for e, item in onsale.entries(x["entry_id"] for x in body["entries"]).items()
                    if item.get("state") in (EntryState.HELD.value, EntryState.REFUSED.value)}
        todo = [e for e in body["entries"] if e["entry_id"] not in answered]
        if not todo:
            return {"held": 0, "refused": 0}
        performance = store.get_performance(event_id, performance_id)
        decisions, taken = rules.serve(todo, performance.online_available)
        holds, fingerprints = {}, {}
        for decision in decisions:
            if decision.granted:
                hold = _hold_for(onsale.venue, event, performance, decision, now)
                holds[decision.entry["entry_id"]] = hold
                fingerprints[hold.hold_id] = _fingerprint(decision.entry["tickets"])
        if onsale.serve(performance_id, event_id, decisions, holds, taken, fingerprints,
                        keep=performance.kept_from("online")):
            held = sum(1 for d in decisions if d.granted)
            if taken:
                count("PlacesHeld", onsale.venue, taken)
            logger.info("on-sale batch served", extra={"venue": onsale.venue, "performance_id": performance_id,
                                                       "held": held, "refused": len(decisions) - held})
            return {"held": held, "refused": len(decisions) - held}
        # A condition failed: someone answered part of this batch, or fewer places are left than read.
    raise RuntimeError("could not serve an admitted batch; SQS delivers it again")


def _hold_for(venue: str, event, performance: Performance, decision: rules.Decision, now: datetime) -> Hold:
    entry = decision.entry
    request = NewHold(venue=venue, event_id=performance.event_id, performance_id=performance.performance_id,
                      tickets=[TicketRequest(price_type=code, quantity=q)
                               for code, q in rules.trim(entry["tickets"], decision.quantity)])
    return Hold(hold_id=_derived_id("queue-hold", venue, entry["entry_id"]), venue=venue,
                event_id=performance.event_id, performance_id=performance.performance_id, event_title=event.title,
                starts_at=performance.starts_at, lines=price_hold(event, request), status=HoldStatus.HELD,
                expires_at=hold_expiry(now, get_settings().hold_minutes), buyer=entry["buyer"])


def _fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _publish_after_serving(onsale: OnSaleStore, body: dict[str, Any]) -> None:
    """The status file at once after serving, not at the inlet's next tick:
    waiting pages learn they were served (or that it is sold out) up to a
    tick sooner. The inlet may publish a state it read just before; its next
    tick puts it right again, and pages only ever wait on the file."""
    try:
        state = onsale.state(body["performance_id"])
        performance = onsale.store.get_performance(body["event_id"], body["performance_id"])
        if state and performance:
            publish_status(onsale, state, performance, utcnow())
    except Exception:  # the buyers are served; the inlet publishes within a second anyway
        logger.exception("status file not published after serving", extra={"venue": onsale.venue})


# -- the worker's entry point ------------------------------------------------------------
def handle(onsale: OnSaleStore, records: list[dict[str, Any]], now: datetime | None = None) -> list[str]:
    """SQS FIFO records of one venue's on-sale queue, in order. Returns the
    message ids to report as failed: the first failure and everything after
    it in its group (FIFO order must hold on redelivery)."""
    failed: list[str] = []
    by_group: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        group = record["group"]
        if group.startswith(PRE_GROUP):  # a performance's pre-queue lanes are taken together
            group = PRE_GROUP + group[len(PRE_GROUP):].rpartition("#")[0]
        by_group.setdefault(group, []).append(record)
    for group, group_records in by_group.items():
        first_unfinished = 0
        try:
            if group.startswith(PRE_GROUP):
                take_pre_arrivals(onsale, group[len(PRE_GROUP):], group_records, now)
            elif group.startswith(ARRIVE_GROUP):
                take_arrivals(onsale, group[len(ARRIVE_GROUP):], group_records, now)
            else:
                for first_unfinished, record in enumerate(group_records):
                    serve_batch(onsale, record["body"], now)
                first_unfinished = len(group_records)
                _publish_after_serving(onsale, group_records[-1]["body"])
        except Exception:
            logger.exception("on-sale messages failed; SQS delivers them again", extra={"venue": onsale.venue})
            failed += [r["message_id"] for r in group_records[first_unfinished:]]
    return failed
