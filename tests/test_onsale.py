"""High-demand on-sales through the waiting room (docs/onsale.md), on the
real pipeline: the API over the Chalice test client, the venue's FIFO queue
on moto (IAM enforced), the numbering and serving worker, the inlet, with
the suite's injected DynamoDB conflicts, throttling and SQS duplicates."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.domain import onsale as rules
from chalicelib.domain.onsale import turn_known
from chalicelib.workers import onsale as onsale_worker
from local.runner import drain, onsale_queue_url

VENUE = "club-kaap"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def open_onsale(api, venue: str = VENUE, capacity: int = 30, opens_in: timedelta = timedelta(hours=1),
                admit_per_second: int = 200, max_tickets: int = 4) -> dict:
    event = api.new_event(venue, capacity=capacity)
    answer = set_onsale(api, event, _now() + opens_in, admit_per_second, max_tickets)
    assert answer.status_code == 200, answer.data
    return event


def set_onsale(api, event: dict, opens_at: datetime, admit_per_second: int = 200, max_tickets: int = 4):
    return api.call("PUT", f"/venues/{event['venue']}/events/{event['event_id']}/performances/"
                           f"{event['performance_id']}/onsale",
                    {"opens_at": opens_at.isoformat(), "admit_per_second": admit_per_second,
                     "max_tickets_per_buyer": max_tickets}, token=api.token(f"{event['venue']}-lead"))


class Buyer:
    """A buyer's browser: its own session, its place in line."""

    def __init__(self, api, event: dict, quantity: int) -> None:
        self.api, self.event, self.quantity = api, event, quantity
        self.session = ""
        self.entry: dict | None = None
        self.status: dict | None = None

    def join(self, key: str | None = None):
        answer = self.api.call("POST", f"/queue/{self.event['venue']}/{self.event['event_id']}/"
                                       f"{self.event['performance_id']}",
                               {"tickets": [{"price_type": "normaal", "quantity": self.quantity}]},
                               headers={"Idempotency-Key": key or str(uuid.uuid4())}, buyer=self.session)
        if answer.status_code == 202:
            self.session = answer.data["buyer_session"]
            self.entry = answer.data
        return answer

    def look(self, token: str | None = None, session: str | None = None):
        answer = self.api.call("GET", f"/queue/{self.event['venue']}/entries/{self.entry['entry_id']}",
                               headers={"X-Queue-Token": token or self.entry["queue_token"]},
                               buyer=self.session if session is None else session)
        if answer.status_code == 200 and token is None and session is None:
            self.status = answer.data
        return answer


def run_line(api, venue: str = VENUE, rounds: int = 200) -> None:
    """What the event source mapping and the inlet do in AWS, until the line stands still."""
    url = onsale_queue_url(venue)
    for _ in range(rounds):
        moved = drain(url, api.app.onsale_worker)
        admitted = onsale_worker.tick_all(seconds=1.0)
        moved += drain(url, api.app.onsale_worker)
        if not moved and not admitted:
            return
    raise AssertionError("the line never stood still")


def status_file(api, event: dict) -> dict:
    """The line's status file, as the edge serves it to every waiting page."""
    s3 = api.loket.aws.operator.client("s3", endpoint_url=api.loket.aws.endpoint)
    return json.loads(s3.get_object(Bucket=api.loket.outputs["SiteBucketName"],
                                    Key=f"catalogue/queue/{event['venue']}/{event['performance_id']}.json")["Body"].read())


def performance_available(event: dict) -> int:
    store = bootstrap.worker_store(event["venue"])
    return store.get_performance(event["event_id"], event["performance_id"]).available


def test_a_high_demand_performance_sells_only_through_its_line(api):
    event = open_onsale(api)
    direct = api.hold(event, 1)
    assert direct.status_code == 409
    assert direct.data["reason"] == "waiting_room"
    catalogue = api.loket.aws.operator.client("s3", endpoint_url=api.loket.aws.endpoint).get_object(
        Bucket=api.loket.outputs["SiteBucketName"],
        Key=f"catalogue/events/{VENUE}/{event['event_id']}.json")["Body"].read().decode()
    assert '"onsale"' in catalogue and event["performance_id"] in catalogue


def test_the_pre_queue_is_drawn_at_random_and_later_arrivals_follow_in_order(api):
    event = open_onsale(api, capacity=200)
    early = [Buyer(api, event, 1) for _ in range(12)]
    for buyer in early:
        assert buyer.join().status_code == 202
    run_line(api)
    assert all(b.look().data["state"] == "queued" for b in early), "no place before the draw"
    assert set_onsale(api, event, _now()).status_code == 200  # the on-sale opens now
    late = [Buyer(api, event, 1) for _ in range(8)]
    for buyer in late:
        assert buyer.join().status_code == 202
    run_line(api)
    for buyer in early + late:
        buyer.look()
    early_places = [b.status["position"] for b in early]
    late_places = [b.status["position"] for b in late]
    assert sorted(early_places) == list(range(1, 13)), "the pre-queue holds the first places"
    assert early_places != list(range(1, 13)), "…in drawn order, not in arrival order"
    assert late_places == list(range(13, 21)), "after opening: first come, first served"
    assert all(b.status["state"] == "held" for b in early + late)
    line = status_file(api, event)
    assert all(turn_known(line, b.entry) == "served" for b in early + late), "every page knows to ask, without asking"
    assert not any(rules.draw_for(line["draw_key"], b.entry["entry_id"]) in json.dumps(b.entry) for b in early), \
        "nobody's draw is known before the draw"


def test_the_line_never_oversells_and_answers_everyone(api):
    event = open_onsale(api, capacity=30, opens_in=timedelta(seconds=-1) + timedelta(seconds=1))
    set_onsale(api, event, _now())
    buyers = [Buyer(api, event, 1 + i % 4) for i in range(40)]
    start = threading.Barrier(len(buyers))

    def join(buyer):
        start.wait()
        for _ in range(10):  # a 503 is retried with the same key, as the storefront does
            answer = buyer.join(key=f"join-{id(buyer)}-key-0001")
            if answer.status_code != 503:
                break

    threads = [threading.Thread(target=join, args=(b,)) for b in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(b.entry for b in buyers)
    run_line(api)
    for buyer in buyers:
        buyer.look()
    held = [b for b in buyers if b.status["state"] == "held"]
    sold = sum(b.status["hold"]["quantity"] for b in held)
    assert (sold, performance_available(event)) == (30, 0), "sold exactly the capacity"
    assert all(b.status["state"] in ("held", "waiting", "refused") for b in buyers)
    waiting = [b for b in buyers if b.status["state"] == "waiting"]
    assert all(b.status["sold_out"] for b in waiting), "everyone still waiting learns it is sold out"
    # ...and learns it from the status file alone, as the served buyers learn when to ask for their result
    line = status_file(api, event)
    assert {b.entry["entry_id"]: turn_known(line, b.entry) for b in buyers} == {
        b.entry["entry_id"]: "served" if b.status["state"] in ("held", "refused") else "not_admitted" for b in buyers}
    # first come, first served: nobody behind a buyer got what that buyer asked for while the buyer did not
    by_place = sorted(buyers, key=lambda b: b.status["position"])
    for index, buyer in enumerate(by_place):
        if buyer.status["state"] != "held":
            assert not any(b.status["state"] == "held" and b.quantity >= buyer.quantity for b in by_place[index + 1:])


def test_places_that_come_back_go_to_the_next_buyer_in_line(api):
    event = open_onsale(api, capacity=4)
    set_onsale(api, event, _now())
    first, second, third = (Buyer(api, event, 2) for _ in range(3))
    for buyer in (first, second, third):
        buyer.join()
    run_line(api)
    assert [b.look().data["state"] for b in (first, second, third)] == ["held", "held", "waiting"]
    assert third.status["sold_out"]
    cancelled = api.call("DELETE", f"/holds/{VENUE}/{first.status['hold']['hold_id']}", buyer=first.session)
    assert cancelled.status_code == 204
    run_line(api)
    assert third.look().data["state"] == "held"


def test_a_forged_expired_or_borrowed_queue_token_is_refused(api):
    event = open_onsale(api)
    owner, other = Buyer(api, event, 1), Buyer(api, event, 1)
    owner.join()
    other.join()
    assert owner.look().status_code == 200
    token = owner.entry["queue_token"]
    entry_id, event_id, performance_id, expires, signature = token.split(".")
    forged = f"{entry_id}.{event_id}.{performance_id}.{int(expires) + 86400}.{signature}"
    assert owner.look(token=forged).status_code == 401
    from chalicelib.adapters import secrets
    from chalicelib.domain import tokens
    from chalicelib.services import sales

    expired = tokens.queue_token(secrets.token_signing_key(), entry_id, event_id, performance_id,
                                 sales.buyer_of(owner.session), int(_now().timestamp()) - 1)
    assert owner.look(token=expired).status_code == 401
    assert owner.look(session=other.session).status_code == 401, "a borrowed token is refused"
    assert other.look(token=token).status_code == 401


def test_one_place_in_line_per_buyer_and_a_retried_join_keeps_it(api):
    event = open_onsale(api)
    buyer = Buyer(api, event, 2)
    first = buyer.join(key="the-same-join-key-0001")
    again = buyer.join(key="the-same-join-key-0001")
    assert first.status_code == again.status_code == 202
    assert first.data["entry_id"] == again.data["entry_id"]
    buyer.quantity = 4  # another window of the same browser asks for more: the same place, the first request
    other_window = buyer.join(key="another-join-key-00002")
    assert other_window.status_code == 202 and other_window.data["entry_id"] == first.data["entry_id"]
    drain(onsale_queue_url(VENUE), api.app.onsale_worker)
    onsale = bootstrap.onsale(bootstrap.worker_store(VENUE))
    assert [entry["entry_id"] for entry in onsale.pre_queue(event["performance_id"])] == [first.data["entry_id"]]
    assert onsale.entry(first.data["entry_id"])["quantity"] == 2
    too_many = Buyer(api, event, 5).join()
    assert too_many.status_code == 422


def test_a_join_that_reaches_its_pre_queue_lane_after_the_opening_goes_to_the_end_of_the_line(api):
    """The pre-queue is spread over lanes (message groups) that close at the
    opening; a join the API took just before the opening but that its lane
    only delivers after the lane closed missed the draw: it is placed after
    the arrivals the line has numbered by then, and nobody is lost."""
    from chalicelib.domain.onsale import JoinRequest
    from chalicelib.services import onsale as waiting_room

    event = open_onsale(api, capacity=100)
    early = [Buyer(api, event, 1) for _ in range(10)]
    for buyer in early:
        assert buyer.join().status_code == 202
    opens_at = _now()
    assert set_onsale(api, event, opens_at).status_code == 200
    on_time = Buyer(api, event, 1)
    assert on_time.join().status_code == 202
    run_line(api)  # every lane closed, the pre-queue drawn, the on-time arrival numbered
    onsale = bootstrap.onsale(bootstrap.worker_store(VENUE))
    late = waiting_room.join(onsale, event["event_id"], event["performance_id"],
                             JoinRequest(tickets=[{"price_type": "normaal", "quantity": 1}]), "late-buyer-session",
                             now=opens_at - timedelta(milliseconds=1))
    after = Buyer(api, event, 1)
    run_line(api)
    assert after.join().status_code == 202
    run_line(api)
    for buyer in early + [on_time, after]:
        buyer.look()
    assert sorted(b.status["position"] for b in early) == list(range(1, 11)), "the draw: everyone on time"
    assert on_time.status["position"] == 11
    late_entry = onsale.entry(late["entry_id"])
    assert late_entry["seq"] == 2 and late_entry["state"] == "held", "after the line's arrivals by then"
    assert after.status["position"] == 13
    assert all(b.status["state"] == "held" for b in early + [on_time, after])


def _worker_stops_between_numbering_and_writing(api, monkeypatch):
    """The worker stops between numbering a batch of arrivals and writing
    their places (a Lambda timing out, say). SQS delivers the batch again
    first in its group: the buyers get the places they were numbered with,
    not places at the back, and the line does not wait at a gap. (The stop
    itself is simulated by making the adapter's write raise once: nothing
    else makes a Lambda die at that point.)"""
    from chalicelib.adapters.onsale_store import OnSaleStore
    from local.runner import _Context, _lambda_event, _queue_arn

    event = open_onsale(api, capacity=100)
    set_onsale(api, event, _now())
    run_line(api)  # the opening: the (empty) pre-queue drawn
    first = [Buyer(api, event, 1) for _ in range(3)]
    for buyer in first:
        assert buyer.join().status_code == 202
    url = onsale_queue_url(VENUE)
    sqs = api.loket.aws.operator.client("sqs", endpoint_url=api.loket.aws.endpoint)
    delivered = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert {json.loads(m["Body"])["entry_id"] for m in delivered} == {b.entry["entry_id"] for b in first}

    def stops_before_writing(self, entries):
        raise TimeoutError("the worker stopped between numbering and writing")

    with monkeypatch.context() as patched:
        patched.setattr(OnSaleStore, "write_places", stops_before_writing)
        answer = api.app.onsale_worker(_lambda_event(_queue_arn(url), delivered), _Context("onsale_worker"))
    assert len(answer["batchItemFailures"]) == len(delivered), "the whole batch is delivered again"
    return first, delivered, sqs, url


def _deliver_again(sqs, url: str, delivered: list[dict]) -> None:
    for message in delivered:  # their visibility timeout passing
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)


def test_arrivals_numbered_but_not_written_keep_their_places_when_delivered_again(api, monkeypatch):
    """...and the line does not wait at a gap or skip them."""
    first, delivered, sqs, url = _worker_stops_between_numbering_and_writing(api, monkeypatch)
    _deliver_again(sqs, url, delivered)
    later = Buyer(api, first[0].event, 1)
    assert later.join().status_code == 202
    run_line(api)
    for buyer in first + [later]:
        buyer.look()
    assert [b.status["position"] for b in first] == [1, 2, 3], "the places they were numbered with"
    assert later.status["position"] == 4
    assert all(b.status["state"] == "held" for b in first + [later])


def test_arrivals_delivered_again_after_the_line_passed_their_places_are_served_at_the_end(api, monkeypatch):
    """Delivered again only after the inlet has given up waiting for their
    places (rules.GAP_GRACE_SECONDS) and passed them: they are placed again
    at the end of the line, served late rather than never."""
    first, delivered, sqs, url = _worker_stops_between_numbering_and_writing(api, monkeypatch)
    onsale_worker.tick_all(seconds=1.0)  # the inlet finds place 1 missing, and waits for it
    assert status_file(api, first[0].event)["serving"] == 0
    onsale_worker.tick_all(now=_now() + timedelta(seconds=rules.GAP_GRACE_SECONDS + 1), seconds=1.0)
    assert status_file(api, first[0].event)["serving"] >= 3, "the inlet passed the unwritten places"
    _deliver_again(sqs, url, delivered)
    run_line(api)
    for buyer in first:
        buyer.look()
    assert sorted(b.status["position"] for b in first) == [4, 5, 6]
    assert all(b.status["state"] == "held" for b in first)


@pytest.mark.parametrize("redeliveries", [2])
def test_a_redelivered_batch_never_reserves_twice(api, redeliveries):
    event = open_onsale(api, capacity=50)
    set_onsale(api, event, _now())
    buyers = [Buyer(api, event, 2) for _ in range(5)]
    for buyer in buyers:
        buyer.join()
    onsale = bootstrap.onsale(bootstrap.worker_store(VENUE))
    url = onsale_queue_url(VENUE)
    from chalicelib.services import onsale as waiting_room

    admitted = []

    def worker_keeping_the_batches(sqs_event, context):  # the admitted batches, as SQS delivered them
        admitted.extend(body for body in (json.loads(r["body"]) for r in sqs_event["Records"])
                        if body["kind"] == "reserve")
        return api.app.onsale_worker(sqs_event, context)

    drain(url, worker_keeping_the_batches)  # numbered
    onsale_worker.tick_all(seconds=1.0)  # the opening: a marker into every pre-queue lane
    drain(url, worker_keeping_the_batches)  # the lanes close, the (empty) pre-queue is drawn, admitted, served
    assert admitted and performance_available(event) == 50 - 10
    for _ in range(redeliveries):  # ...and delivered again and again
        for body in admitted:
            waiting_room.serve_batch(onsale, body)
    assert performance_available(event) == 50 - 10
    assert all(b.look().data["state"] == "held" for b in buyers)


def test_a_venue_cannot_reach_another_venues_line(api):
    """The bulkhead, enforced by IAM: each venue's line is its own queue and
    table, reachable only with that venue's role."""
    from botocore.exceptions import ClientError

    mine = bootstrap.onsale(bootstrap.worker_store(VENUE))
    theirs = onsale_queue_url("concertzaal")
    with pytest.raises(ClientError) as refused:
        mine.sqs.send_message(QueueUrl=theirs, MessageBody="{}", MessageGroupId="arrive#x",
                              MessageDeduplicationId=uuid.uuid4().hex)
    assert refused.value.response["Error"]["Code"] in ("AccessDenied", "403")
    with pytest.raises(ClientError):
        mine.sqs.receive_message(QueueUrl=theirs)


def test_a_drawn_pre_queue_larger_than_a_page_is_read_back_in_draw_order(api):
    """The draw writes the line as pages of places (OnSaleStore.write_draw):
    across page boundaries the inlet reads every place once, in order, and
    every buyer finds their own place from their draw."""
    import secrets as random_tokens

    from chalicelib.adapters.onsale_store import ORDER_PAGE_SIZE

    onsale = bootstrap.onsale(bootstrap.worker_store(VENUE))
    performance_id = f"perf-pages-{uuid.uuid4().hex[:8]}"
    size = 2 * ORDER_PAGE_SIZE + 50
    drawn = sorted(({"entry_id": random_tokens.token_hex(16), "buyer": f"session-{n}", "tickets": [["normaal", 1]],
                     "quantity": 1, "draw": random_tokens.token_hex(32), "ttl": 2_000_000_000} for n in range(size)),
                   key=lambda entry: entry["draw"])
    onsale.write_draw(performance_id, drawn)
    across = onsale.places(performance_id, ORDER_PAGE_SIZE - 5, 2 * ORDER_PAGE_SIZE + 5, pre_count=size)
    assert sorted(across) == list(range(ORDER_PAGE_SIZE - 5, 2 * ORDER_PAGE_SIZE + 6))
    assert [across[p]["entry_id"] for p in sorted(across)] == \
        [e["entry_id"] for e in drawn[ORDER_PAGE_SIZE - 6:2 * ORDER_PAGE_SIZE + 5]]
    for position in (1, ORDER_PAGE_SIZE, ORDER_PAGE_SIZE + 1, size):
        assert onsale.drawn_position(performance_id, drawn[position - 1]["draw"]) == position
    assert onsale.places(performance_id, size - 2, size + 3, pre_count=size).keys() == {size - 2, size - 1, size}, \
        "past the pre-queue: only the arrivals after opening, none written yet"


def test_waiting_pages_learn_they_were_served_without_waiting_for_the_next_tick(api):
    """The worker that served a batch publishes the status file itself: the
    pages it served see it at once, not at the inlet's next second."""
    event = open_onsale(api, capacity=50)
    set_onsale(api, event, _now())
    url = onsale_queue_url(VENUE)
    onsale_worker.tick_all(seconds=1.0)  # the opening: a marker into every pre-queue lane
    drain(url, api.app.onsale_worker)  # the (empty) pre-queue drawn
    buyers = [Buyer(api, event, 1) for _ in range(3)]
    for buyer in buyers:
        assert buyer.join().status_code == 202
    drain(url, api.app.onsale_worker)  # numbered
    onsale_worker.tick_all(seconds=1.0)  # admitted
    assert status_file(api, event)["served_until"] == 0
    drain(url, api.app.onsale_worker)  # served; no tick after it
    line = status_file(api, event)
    assert line["served_until"] == 3
    assert all(turn_known(line, b.entry) == "served" for b in buyers)


def test_a_failed_batch_is_delivered_again_within_seconds_not_after_the_visibility_timeout(api, monkeypatch):
    """A failed message holds up its whole FIFO group, so everyone behind it
    in line. The worker makes it visible again after 1 s (then 2, 4, 8)
    instead of the queue's 60 s. (The failure is the serving transaction
    raising once: a stand-in for a Lambda that died mid-batch.)"""
    from chalicelib.adapters.onsale_store import OnSaleStore

    from tests.waiting import until

    event = open_onsale(api, capacity=20)
    set_onsale(api, event, _now())
    run_line(api)
    buyers = [Buyer(api, event, 1) for _ in range(3)]
    for buyer in buyers:
        assert buyer.join().status_code == 202
    url = onsale_queue_url(VENUE)
    drain(url, api.app.onsale_worker)  # numbered
    serve = OnSaleStore.serve

    def dies_once(self, *args, **kwargs):
        monkeypatch.setattr(OnSaleStore, "serve", serve)
        raise TimeoutError("the worker stopped mid-batch")

    monkeypatch.setattr(OnSaleStore, "serve", dies_once)
    onsale_worker.tick_all(seconds=1.0)  # admitted
    drain(url, api.app.onsale_worker)  # the serving batch fails
    assert all(b.look().data["state"] != "held" for b in buyers)

    def all_served() -> bool:
        drain(url, api.app.onsale_worker)
        return all(b.look().data["state"] == "held" for b in buyers)

    until(all_served, "the failed batch delivered again and served", seconds=10, every=0.5)


def test_arrivals_that_fail_twice_keep_their_places_and_later_ones_stay_behind(api):
    """A batch numbered, not written; delivered again with later arrivals
    behind it, and not written again; then delivered a third time: every
    arrival keeps the place it was first given (found in review: the later
    arrivals' numbering made the counter forget the first ones')."""
    onsale = bootstrap.onsale(bootstrap.worker_store(VENUE))
    event = open_onsale(api, capacity=10)
    performance_id = event["performance_id"]
    now = _now()
    a, b, c, d, e = (f"{18_000_000_000_000_900_000 + n:020d}" for n in range(5))
    assert onsale.number_after(performance_id, [a, b, c], now, 0) == {a: 1, b: 2, c: 3}
    assert onsale.number_after(performance_id, [a, b, c, d, e], now, 0) == {a: 1, b: 2, c: 3, d: 4, e: 5}
    assert onsale.number_after(performance_id, [a, b, c, d, e], now, 0) == {a: 1, b: 2, c: 3, d: 4, e: 5}
    assert onsale.number_after(performance_id, [d, e], now, 0) == {d: 4, e: 5}, "a, b, c were written meanwhile"
    f = f"{18_000_000_000_000_900_010:020d}"
    assert onsale.number_after(performance_id, [f], now, 0) == {f: 6}
    assert int(onsale.state(performance_id)["joined"]) == 6
