"""A venue's waiting rooms: the line in the venue's own table, the work in
the venue's own FIFO queue (`loket-{stage}-venue-{slug}-onsale.fifo`), both
reached with the venue's credentials only.

Items (docs/onsale.md):
  QUEUE#{perf} / STATE             the on-sale's settings and counters: joined (places
                                   numbered), arrived_after (of which joined after opening),
                                   pre_count (the drawn pre-queue), pre_lanes_closed,
                                   serving (last admitted place), admitted_demand
                                   and served_demand (places asked by admitted / served
                                   buyers), shuffled; gsi1 ONSALES/{opens_at}
  QENTRY#{entry} / QENTRY          a buyer's arrival: its draw (before opening) or seq (after it),
                                   state, hold id or refusal
  QORDER#{perf}#{page} / QORDER    the drawn pre-queue in draw order, ORDER_PAGE_SIZE places
                                   a page (place = page * size + index + 1): the draw writes
                                   N / 100 items, not N; every page its own partition;
                                   never changed once written, so readers cache them
  QORDER#{perf} / INDEX            the first draw of every page, to find a buyer's place
  QAFTER#{perf}#{seq} / QPOS       who holds the seq-th place after opening (every place its own
                                   partition: no hot key); its place
                                   in the whole line is pre_count + seq
  QPRE#{perf}#{shard} / {draw}#{entry}  the pre-queue, in the order of each arrival's draw
Only counters on STATE and the performance's capacity are shared items, and
each is written once per batch, never once per buyer.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Iterable

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import is_condition_failure, key, marshal, query_all, unmarshal, values, written_if
from chalicelib.adapters.venue_store import VenueStore, hold_item
from chalicelib.domain.model import Hold, OnSaleSettings
from chalicelib.domain.onsale import PRE_QUEUE_SHARDS, Decision, EntryState, Reason

ONSALES_INDEX_KEY = "ONSALES"
PRE_QUEUE_FIELDS = ("entry_id", "event_id", "performance_id", "buyer", "tickets", "quantity", "joined_at", "ttl", "draw")
def _ordered(sequence_number: str) -> str:
    """An SQS sequence number (up to 128 bits, in decimal) as a string that sorts as the number does."""
    return sequence_number.zfill(40)


# Places per page of the drawn pre-queue: a page of 100 is about 20 KB (20 write units), well
# under DynamoDB's 400 KB item limit; a tick reads one or two.
ORDER_PAGE_SIZE = 100
ORDER_FIELDS = ("entry_id", "buyer", "tickets", "quantity", "draw")
# Pages of drawn lines read by this instance: (table, performance, page) -> places. Immutable once drawn.
_order_pages: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
_order_indexes: dict[tuple[str, str], list[str]] = {}

ARRIVE_GROUP = "arrive#"  # + perf: joins after opening, in queue order
PRE_GROUP = "pre#"  # + perf#lane: joins before opening (their order is drawn)
RESERVE_GROUP = "reserve#"


def pre_group(performance_id: str, lane: int) -> str:
    return f"{PRE_GROUP}{performance_id}#{lane}"


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def queue_name(stage: str, venue: str) -> str:
    return f"loket-{stage}-venue-{venue}-onsale.fifo"


class OnSaleStore:
    def __init__(self, store: VenueStore, sqs: Any, queue_url: str) -> None:
        self.store = store
        self.venue = store.venue
        self.db = store.db
        self.table = store.table
        self.sqs = sqs
        self.queue_url = queue_url

    # -- settings -------------------------------------------------------------------
    def configure(self, event_id: str, performance_id: str, settings: OnSaleSettings, draw_key: str) -> None:
        """Mark the performance high-demand and create or update its line's
        settings, atomically (the catalogue and POST /holds read the former).
        `draw_key` is kept if the line has one."""
        plain = settings.model_dump(mode="json")
        self.db.transact_write_items(TransactItems=[
            {"Update": {
                "TableName": self.table, "Key": key(f"EVENT#{event_id}", f"PERF#{performance_id}"),
                "UpdateExpression": "SET onsale = :s", "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": values(s=plain)}},
            {"Update": {
                "TableName": self.table, "Key": key(f"QUEUE#{performance_id}", "STATE"),
                "UpdateExpression": "SET opens_at = :o, admit_per_second = :r, max_tickets_per_buyer = :m, "
                                    "event_id = :e, performance_id = :p, gsi1pk = :g, gsi1sk = :o, "
                                    "joined = if_not_exists(joined, :zero), serving = if_not_exists(serving, :zero), "
                                    "arrived_after = if_not_exists(arrived_after, :zero), "
                                    "admitted_demand = if_not_exists(admitted_demand, :zero), "
                                    "served_demand = if_not_exists(served_demand, :zero), "
                                    "admitted_entries = if_not_exists(admitted_entries, :zero), "
                                    "served_entries = if_not_exists(served_entries, :zero), "
                                    "shuffled = if_not_exists(shuffled, :no), draw_key = if_not_exists(draw_key, :k)",
                "ExpressionAttributeValues": values(k=draw_key, o=plain["opens_at"], r=settings.admit_per_second,
                                                    m=settings.max_tickets_per_buyer, e=event_id, p=performance_id,
                                                    g=ONSALES_INDEX_KEY, zero=0, no=False)}},
        ])

    def state(self, performance_id: str) -> dict[str, Any] | None:
        return self.store._get(f"QUEUE#{performance_id}", "STATE")

    def on_sales(self) -> list[dict[str, Any]]:
        """Every line of this venue (the inlet skips the finished ones)."""
        return query_all(self.db, TableName=self.table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",
                         ExpressionAttributeValues=values(p=ONSALES_INDEX_KEY))

    # -- joining --------------------------------------------------------------------
    def send(self, group: str, messages: list[tuple[str, dict[str, Any]]]) -> list[str]:
        """Messages (deduplication id, body) into one message group, in order;
        answers their sequence numbers (increasing in the group's order)."""
        return self.send_to_groups([(group, dedup, body) for dedup, body in messages])

    def send_to_groups(self, messages: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
        """Messages (group, deduplication id, body), in order within each group."""
        sequence_numbers: list[str] = []
        for start in range(0, len(messages), 10):
            chunk = messages[start:start + 10]
            answer = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "MessageBody": json.dumps(body, separators=(",", ":")), "MessageGroupId": group,
                 "MessageDeduplicationId": dedup} for i, (group, dedup, body) in enumerate(chunk)])
            if answer.get("Failed"):
                # FIFO keeps order only if nothing after a failure goes ahead: stop here, the caller retries.
                raise RuntimeError(f"SQS refused {len(answer['Failed'])} of {len(chunk)} on-sale messages")
            by_id = {item["Id"]: item["SequenceNumber"] for item in answer["Successful"]}
            sequence_numbers += [by_id[str(i)] for i in range(len(chunk))]
        return sequence_numbers

    def deliver_again_after(self, receipts: list[tuple[str, int]]) -> None:
        """Messages that failed (receipt handle, seconds): visible again after that long."""
        for start in range(0, len(receipts), 10):
            self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": seconds}
                for i, (handle, seconds) in enumerate(receipts[start:start + 10])])

    # -- numbering ------------------------------------------------------------------
    def entries(self, entry_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        keys = [key(f"QENTRY#{e}", "QENTRY") for e in dict.fromkeys(entry_ids)]
        return {item["entry_id"]: item for item in self._batch_get(keys)}

    def entry(self, entry_id: str) -> dict[str, Any] | None:
        return self.store._get(f"QENTRY#{entry_id}", "QENTRY")

    def entry_and_line(self, entry_id: str, event_id: str, performance_id: str) -> tuple[dict | None, dict | None, dict | None]:
        """A buyer's entry, the line's state and the performance, in one request."""
        wanted = {("QENTRY#" + entry_id, "QENTRY"): "entry", (f"QUEUE#{performance_id}", "STATE"): "state",
                  (f"EVENT#{event_id}", f"PERF#{performance_id}"): "performance"}
        found = {wanted[(item["pk"], item["sk"])]: item for item in self._batch_get([key(*k) for k in wanted])}
        return found.get("entry"), found.get("state"), found.get("performance")

    def number_after(self, performance_id: str, sequences: list[str], now: datetime,
                     accepted_until_ms: int) -> dict[str, int]:
        """Take the next places after opening for these arrivals (their SQS
        sequence numbers, in queue order) with one counter update; answers
        each one's `seq`. `numbered_until_ms`: every join the queue accepted
        after opening up to then has its place (waiting pages ask for their
        place only after that).

        Redelivery keeps the places: the counter remembers every place its
        last update handed out, new or kept (`numbered_batch`: sequence number
        -> seq). A batch numbered but never written (the worker stopped in
        between) comes back first in its FIFO group, so its arrivals are in
        that record and get the same places: nobody who joined after them
        can have gone ahead. Only if the inlet has already passed such a
        place as a gap (rules.GAP_GRACE_SECONDS) is the arrival numbered
        again, at the end: late rather than never. One consistent read and
        one conditional write on the line's counter per batch."""
        for _ in range(5):
            state = self.state(performance_id) or {}
            last = int(state.get("arrived_after", 0))
            before = state.get("numbered_batch")
            before = before if isinstance(before, dict) else {}
            serving, pre_count = int(state.get("serving", 0)), state.get("pre_count")
            numbers: dict[str, int] = {}
            for sequence in sequences:
                kept = before.get(_ordered(sequence))
                passed_as_gap = kept is not None and state.get("shuffled") and int(pre_count) + int(kept) <= serving
                if kept is not None and not passed_as_gap:
                    numbers[sequence] = int(kept)
            new = [sequence for sequence in sequences if sequence not in numbers]
            numbers.update({sequence: last + 1 + i for i, sequence in enumerate(new)})
            try:
                self.db.update_item(
                    TableName=self.table, Key=key(f"QUEUE#{performance_id}", "STATE"),
                    UpdateExpression="SET arrived_after = :after, numbered_at = :at, numbered_until_ms = :until, "
                                     "numbered_batch = :batch ADD joined :n",
                    ConditionExpression="arrived_after = :last",
                    ExpressionAttributeValues=values(after=last + len(new), at=_iso(now), until=accepted_until_ms,
                                                     batch={_ordered(s): n for s, n in numbers.items()}, n=len(new),
                                                     last=last))
                return numbers
            except ClientError as error:
                if not is_condition_failure(error):
                    raise  # else numbered meanwhile: read again
        raise RuntimeError("could not number on-sale arrivals; SQS delivers them again")

    def write_places(self, entries: list[dict[str, Any]]) -> None:
        """Entries with their position: the entry, and (numbered ones) the place index."""
        items = []
        for entry in entries:
            items.append({"pk": f"QENTRY#{entry['entry_id']}", "sk": "QENTRY", **entry})
            place = {"sk": "QPOS", "entry_id": entry["entry_id"], "buyer": entry["buyer"], "tickets": entry["tickets"],
                     "quantity": entry["quantity"], "ttl": entry["ttl"]}
            if entry.get("seq") is not None:
                items.append({**place, "pk": f"QAFTER#{entry['performance_id']}#{entry['seq']}", "seq": entry["seq"],
                              "sequence": entry.get("sequence")})
            elif entry.get("draw"):
                items.append(self._draw_item(entry))
        self._batch_write(items)

    def write_pre_arrivals(self, performance_id: str, lanes: set[int], entries: list[dict[str, Any]]) -> bool:
        """The usual case of a pre-queue batch in one request: its entries and
        draws, only if none of their lanes has closed and none was written
        before. False, with nothing written, otherwise (or on a transaction
        conflict): the caller then takes the careful path."""
        closed = " AND ".join(f"NOT contains(pre_lanes_closed, :l{lane})" for lane in sorted(lanes))
        items: list[dict[str, Any]] = [{"ConditionCheck": {
            "TableName": self.table, "Key": key(f"QUEUE#{performance_id}", "STATE"), "ConditionExpression": closed,
            "ExpressionAttributeValues": {f":l{lane}": {"N": str(lane)} for lane in lanes}}}]
        for entry in entries:
            items.append({"Put": {"TableName": self.table, "ConditionExpression": "attribute_not_exists(pk)",
                                  "Item": marshal({"pk": f"QENTRY#{entry['entry_id']}", "sk": "QENTRY", **entry})}})
            items.append({"Put": {"TableName": self.table, "Item": marshal(self._draw_item(entry))}})
        try:
            self.db.transact_write_items(TransactItems=items)
            return True
        except ClientError:
            return False

    @staticmethod
    def _draw_item(entry: dict[str, Any]) -> dict[str, Any]:
        """The arrival with its draw: everything the draw needs, so it reads nothing else."""
        shard = int(entry["entry_id"][:4], 16) % PRE_QUEUE_SHARDS
        return {**{k: entry[k] for k in PRE_QUEUE_FIELDS}, "pk": f"QPRE#{entry['performance_id']}#{shard}",
                "sk": f"{entry['draw']}#{entry['entry_id']}"}

    def pre_queue(self, performance_id: str) -> list[dict[str, Any]]:
        """Everyone who joined before opening, with their draw; the shards are read side by side."""
        def shard(number: int) -> list[dict[str, Any]]:
            return query_all(self.db, TableName=self.table, KeyConditionExpression="pk = :p",
                             ExpressionAttributeValues=values(p=f"QPRE#{performance_id}#{number}"), ConsistentRead=True)

        with ThreadPoolExecutor(max_workers=8) as pool:
            return [{k: item[k] for k in PRE_QUEUE_FIELDS} for found in pool.map(shard, range(PRE_QUEUE_SHARDS))
                    for item in found]

    def write_draw(self, performance_id: str, ordered: list[dict[str, Any]]) -> None:
        """The drawn pre-queue, in draw order, as pages (and their index).
        Repeatable: the same pre-queue gives the same pages."""
        pages = [ordered[start:start + ORDER_PAGE_SIZE] for start in range(0, len(ordered), ORDER_PAGE_SIZE)]
        ttl = max((int(entry["ttl"]) for entry in ordered), default=None)
        items = [{"pk": f"QORDER#{performance_id}#{number}", "sk": "QORDER", "ttl": ttl,
                  "places": [{k: entry[k] for k in ORDER_FIELDS} for entry in page]}
                 for number, page in enumerate(pages)]
        items.append({"pk": f"QORDER#{performance_id}", "sk": "INDEX", "ttl": ttl,
                      "first_draws": [page[0]["draw"] for page in pages]})
        self._batch_write([{k: v for k, v in item.items() if v is not None} for item in items])

    def drawn_places(self, performance_id: str, first: int, last: int) -> dict[int, dict[str, Any]]:
        """Drawn places first..last (1-based), from their pages."""
        numbers = range((first - 1) // ORDER_PAGE_SIZE, (last - 1) // ORDER_PAGE_SIZE + 1)
        missing = [n for n in numbers if (self.table, performance_id, n) not in _order_pages]
        for item in self._batch_get([key(f"QORDER#{performance_id}#{n}", "QORDER") for n in missing]):
            number = int(item["pk"].rpartition("#")[2])
            _order_pages[(self.table, performance_id, number)] = item["places"]
        found: dict[int, dict[str, Any]] = {}
        for number in numbers:
            for index, place in enumerate(_order_pages.get((self.table, performance_id, number), [])):
                position = number * ORDER_PAGE_SIZE + index + 1
                if first <= position <= last:
                    found[position] = {**place, "position": position}
        return found

    def drawn_position(self, performance_id: str, draw: str) -> int | None:
        """A drawn buyer's place: the page from the index, the place within the page."""
        import bisect

        cache_key = (self.table, performance_id)
        if cache_key not in _order_indexes:
            index = self.store._get(f"QORDER#{performance_id}", "INDEX")
            if index is None:
                return None
            _order_indexes[cache_key] = index["first_draws"]
        number = bisect.bisect_right(_order_indexes[cache_key], draw) - 1
        if number < 0:
            return None
        page = self.drawn_places(performance_id, number * ORDER_PAGE_SIZE + 1, (number + 1) * ORDER_PAGE_SIZE)
        return next((position for position, place in page.items() if place["draw"] == draw), None)

    def close_pre_lane(self, performance_id: str, lane: int) -> dict[str, Any]:
        """Record that a pre-queue lane has written every arrival before the
        opening; answers the line's state after it (repeatable)."""
        try:
            answer = self.db.update_item(
                TableName=self.table, Key=key(f"QUEUE#{performance_id}", "STATE"),
                UpdateExpression="ADD pre_lanes_closed :lane", ConditionExpression="NOT contains(pre_lanes_closed, :n)",
                ExpressionAttributeValues={":lane": {"NS": [str(lane)]}, ":n": {"N": str(lane)}}, ReturnValues="ALL_NEW")
            return unmarshal(answer["Attributes"])
        except ClientError as error:
            if is_condition_failure(error):
                return self.state(performance_id) or {}
            raise

    def mark_shuffled(self, performance_id: str, count: int, now: datetime) -> bool:
        """The drawn pre-queue holds places 1..count; the arrivals after opening follow it."""
        try:
            self.db.update_item(
                TableName=self.table, Key=key(f"QUEUE#{performance_id}", "STATE"),
                UpdateExpression="SET shuffled = :yes, pre_count = :n, drawn_at = :at ADD joined :n",
                ConditionExpression="shuffled = :no",
                ExpressionAttributeValues=values(n=count, yes=True, no=False, at=_iso(now)))
            return True
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise

    def mark_opening_announced(self, performance_id: str) -> bool:
        """True once: the inlet sends the opening marker into the arrivals' group."""
        return written_if(
            self.db.update_item, TableName=self.table, Key=key(f"QUEUE#{performance_id}", "STATE"),
            UpdateExpression="SET opening_announced = :yes", ConditionExpression="attribute_not_exists(opening_announced)",
            ExpressionAttributeValues=values(yes=True))

    # -- admission ------------------------------------------------------------------
    def places(self, performance_id: str, first: int, last: int, pre_count: int) -> dict[int, dict[str, Any]]:
        """Places first..last of the whole line: the drawn ones, then those after opening."""
        found = self.drawn_places(performance_id, first, min(last, pre_count)) if first <= pre_count else {}
        keys = [key(f"QAFTER#{performance_id}#{p - pre_count}", "QPOS") for p in range(max(first, pre_count + 1), last + 1)]
        for item in self._batch_get(keys):
            position = pre_count + int(item["seq"])
            found[position] = {**item, "position": position}
        return found

    def note_gap(self, performance_id: str, position: int, numbered: int, now: datetime) -> None:
        """The inlet found this numbered place unwritten, with `numbered`
        places numbered so far: it waits for those from now on."""
        self.db.update_item(TableName=self.table, Key=key(f"QUEUE#{performance_id}", "STATE"),
                            UpdateExpression="SET gap_position = :p, gap_through = :n, gap_seen_at = :at",
                            ExpressionAttributeValues=values(p=position, n=numbered, at=_iso(now)))

    def record_admission(self, performance_id: str, serving_before: int, serving: int, demand: int,
                         entries: int, now: datetime, draw: str | None = None, sequence: str | None = None) -> bool:
        """Move the serving position (and, for waiting pages, the draw and the
        sequence number admitted up to); False if another inlet moved it first."""
        also = {"admitted_draw_until": draw, "admitted_sequence_until": sequence}
        also = {name: value for name, value in also.items() if value}
        try:
            self.db.update_item(
                TableName=self.table, Key=key(f"QUEUE#{performance_id}", "STATE"),
                UpdateExpression="SET serving = :s, admitted_at = :at" + "".join(f", {n} = :{n}" for n in also)
                                 + " ADD admitted_demand :d, admitted_entries :n",
                ConditionExpression="serving = :before",
                ExpressionAttributeValues=values(s=serving, at=_iso(now), d=demand, n=entries, before=serving_before,
                                                 **also))
            return True
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise

    # -- serving --------------------------------------------------------------------
    def serve(self, performance_id: str, event_id: str, decisions: list[Decision], holds: dict[str, Hold],
              taken: int, fingerprints: dict[str, str], keep: int = 0) -> bool:
        """One transaction for an admitted batch: the places taken, each
        granted buyer's hold, every buyer's answer, the line's counters.
        False, with nothing written, if a condition failed: a buyer of the
        batch was answered meanwhile (a redelivered batch) or fewer places
        are left than the caller read."""
        items: list[dict[str, Any]] = []
        if taken:
            items.append({"Update": {
                "TableName": self.table, "Key": key(f"EVENT#{event_id}", f"PERF#{performance_id}"),
                # `keep`: the places the counter keeps (Performance.kept_from) stay out of the line's reach
                "UpdateExpression": "SET available = available - :q", "ConditionExpression": "available >= :need",
                "ExpressionAttributeValues": values(q=taken, need=taken + keep)}})
        demand = 0
        for decision in decisions:
            entry = decision.entry
            demand += entry["quantity"]
            if decision.granted:
                hold = holds[entry["entry_id"]]
                items.append({"Put": {"TableName": self.table, "Item": marshal(hold_item(hold, fingerprints[hold.hold_id])),
                                      "ConditionExpression": "attribute_not_exists(pk)"}})
                items.append({"Update": {
                    "TableName": self.table, "Key": self.store._buyer_key(hold),
                    "UpdateExpression": "ADD held :q", "ExpressionAttributeValues": values(q=hold.quantity)}})
                result = {"state": EntryState.HELD.value, "hold_id": hold.hold_id}
                if decision.partial:
                    result["reason"] = Reason.FEWER_PLACES_LEFT.value
            else:
                result = {"state": EntryState.REFUSED.value, "reason": Reason.SOLD_OUT.value}
            names = {f"#{k}": k for k in result}
            items.append({"Update": {
                "TableName": self.table, "Key": key(f"QENTRY#{entry['entry_id']}", "QENTRY"),
                "UpdateExpression": "SET " + ", ".join(f"#{k} = :{k}" for k in result),
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": values(**result)}})
        # Batches are served in line order: the last draw and sequence number here are the highest so far.
        served = {"served_until": max(d.entry["position"] for d in decisions)}
        served.update({f"served_{kind}_until": d.entry[kind] for d in decisions for kind in ("draw", "sequence")
                       if d.entry.get(kind)})
        items.append({"Update": {
            "TableName": self.table, "Key": key(f"QUEUE#{performance_id}", "STATE"),
            "UpdateExpression": "ADD served_demand :d, served_entries :n SET "
                                + ", ".join(f"{name} = :{name}" for name in served),
            "ExpressionAttributeValues": values(d=demand, n=len(decisions), **served)}})
        return self.store._transact_if_unchanged(items)

    # -- helpers --------------------------------------------------------------------
    def _batch_get(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request = {self.table: {"Keys": keys[start:start + 100], "ConsistentRead": True}}
            for attempt in range(10):
                answer = self.db.batch_get_item(RequestItems=request)
                found += [unmarshal(i) for i in answer.get("Responses", {}).get(self.table, [])]
                request = answer.get("UnprocessedKeys") or None
                if not request:
                    break
                time.sleep(min(1.0, 0.02 * 2 ** attempt))
            else:
                raise RuntimeError("DynamoDB left on-sale reads unprocessed after 10 attempts")
        return found

    def _batch_write(self, items: list[dict[str, Any]]) -> None:
        """Up to 25 items per call; a large pre-queue's draw writes many
        chunks side by side, so it ends well within the message's visibility."""
        chunks = [items[start:start + 25] for start in range(0, len(items), 25)]
        if len(chunks) <= 4:
            for chunk in chunks:
                self._write_chunk(chunk)
            return
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(self._write_chunk, chunks))

    def _write_chunk(self, chunk: list[dict[str, Any]]) -> None:
        request = {self.table: [{"PutRequest": {"Item": marshal(i)}} for i in chunk]}
        for attempt in range(10):
            request = self.db.batch_write_item(RequestItems=request).get("UnprocessedItems") or None
            if not request:
                return
            time.sleep(min(1.0, 0.02 * 2 ** attempt))  # throttled: back off, then the rest
        raise RuntimeError("DynamoDB left on-sale writes unprocessed after 10 attempts")
