"""`make bench`: a high-demand on-sale through the waiting room (docs/onsale.md).

    python -m bench.onsale [quick|full] [out.json]

Drives the real pipeline on this machine: moto in its own process (IAM
enforced, no injected faults: this measures the shape, bench/sale_under_faults.py
measures correctness under faults), the Chalice handlers, the on-sale worker
and the inlet, the catalogue bucket. What stands in for what:

- API Gateway + Lambda: chalice local's HTTP server would be the bottleneck,
  so the API's handler is invoked in-process by a pool of LAMBDA_CONCURRENCY
  threads (like that many warm Lambda instances), each request an API
  Gateway proxy event through chalice's own LocalGateway.
- CloudFront: the waiting page's status file is read from the bucket at most
  once a second per performance and shared, as an edge cache with max-age=1.
- The event source mapping and EventBridge: local/runner.py's consumers
  (two per venue's on-sale queue, more while batches come back full) and the
  inlet, every INLET_SECONDS, in a process of their own: in AWS the workers
  are Lambda instances of their own, and sharing one interpreter lock with
  the 24 API threads would make every worker step wait behind joins.

Buyers arrive uniformly within the window, half before the opening (the
pre-queue), want 1-4 tickets, and 20% cancel their hold right after getting
it. Two other venues keep selling normal performances before and during the
on-sale; their hold latency is measured both times.
"""

from __future__ import annotations

import heapq
import json
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "onsale.json"
SIZES = {
    "quick": {"buyers": 1_000, "capacity": 300, "window_s": 5.0},
    "full": {"buyers": 10_000, "capacity": 1_300, "window_s": 10.0},
    # tests/test_onsale_bench.py: the same run, small, for correctness only
    "tiny": {"buyers": 60, "capacity": 20, "window_s": 2.0},
}
LAMBDA_CONCURRENCY = 24
INLET_SECONDS = 0.5
ADMIT_PER_SECOND = 1_000
ABANDON_SHARE = 0.2
ONSALE_VENUE, OTHER_VENUES = "club-kaap", ("concertzaal", "cc-reien")
OTHER_HOLDS_PER_SECOND = 4
POSITION_ASK_SPREAD_S = 10.0  # as queue.js
# Public on-demand prices, eu-west-1, as of 2026-11 (per request unless noted).
PRICES_USD = {
    "api_gateway_rest_request": 3.50 / 1e6,
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second": 0.0000166667,
    "dynamodb_write_request_unit": 0.7625 / 1e6,
    "dynamodb_read_request_unit": 0.1525 / 1e6,
    "sqs_fifo_request": 0.50 / 1e6,
    "s3_put": 0.005 / 1000,
    "cloudfront_https_request_eu": 0.012 / 10_000,
}
LAMBDA_MEMORY_GB = 0.5
DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 3)


class Calls:
    """AWS calls made in this process, by service and operation (botocore)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.write_units = 0
        self.lock = threading.Lock()

    def install(self) -> None:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        calls = self

        def counted(client, operation, params):  # noqa: ANN001 - botocore's signature
            service = client.meta.service_model.service_name
            units = 0
            if service == "dynamodb" and operation in DYNAMODB_WRITES:
                if operation == "TransactWriteItems":
                    units = 2 * len(params.get("TransactItems", []))
                elif operation == "BatchWriteItem":
                    units = sum(len(v) for v in params.get("RequestItems", {}).values())
                else:
                    units = 1
            with calls.lock:
                calls.counts[(service, operation)] += 1
                calls.write_units += units
            return original(client, operation, params)

        BaseClient._make_api_call = counted

    def snapshot(self) -> tuple[Counter, int]:
        with self.lock:
            return Counter(self.counts), self.write_units


class Lambda:
    """The API's handler, invoked like warm Lambda instances."""

    def __init__(self, app: Any) -> None:
        from chalice import local as chalice_local
        from chalice.config import Config

        if not isinstance(app.app, chalice_local.LocalChalice):  # the current request per thread, as chalice local
            chalice_local.CustomLocalChalice.__bases__ = (chalice_local.LocalChalice, app.app.__class__)
            app.app.__class__ = chalice_local.CustomLocalChalice
        self.gateway = chalice_local.LocalGateway(app.app, Config(chalice_stage="local"))
        self.pool = ThreadPoolExecutor(max_workers=LAMBDA_CONCURRENCY)
        self.invocations = 0
        self.pending = 0  # requests submitted, not yet answered (e.g. a buyer's cancel)
        self.busy_seconds = 0.0
        self.lock = threading.Lock()

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
        started = time.monotonic()
        raw = json.dumps(body).encode() if body is not None else b""
        answer = self.gateway.handle_request(method=method, path=path, body=raw,
                                             headers={"content-type": "application/json", **(headers or {})})
        with self.lock:
            self.invocations += 1
            self.busy_seconds += time.monotonic() - started
        data = answer.get("body")
        return {"status": answer["statusCode"], "headers": answer.get("headers", {}),
                "data": json.loads(data) if data else None}

    def submit(self, then: Callable[[dict], None], *args: Any, **kwargs: Any) -> None:
        with self.lock:
            self.pending += 1

        def run() -> None:
            try:
                then(self.call(*args, **kwargs))
            except Exception as error:  # a crashed request is an unanswered buyer, not a crashed bench
                then({"status": 599, "headers": {}, "data": {"detail": repr(error)}})
            finally:
                with self.lock:
                    self.pending -= 1

        self.pool.submit(run)


class EdgeCache:
    """The status file as CloudFront serves it: fetched at most once a second."""

    def __init__(self, s3: Any, bucket: str, key: str) -> None:
        self.s3, self.bucket, self.key = s3, bucket, key
        self.value: dict[str, Any] | None = None
        self.fetched_at = 0.0
        self.origin_fetches = 0
        self.requests = 0
        self.changed_at = time.monotonic()  # when updated_at last changed, as queue.js tracks it
        self.lock = threading.Lock()

    def get(self) -> dict[str, Any] | None:
        with self.lock:
            self.requests += 1
            if time.monotonic() - self.fetched_at >= 1.0:
                self.fetched_at = time.monotonic()
                self.origin_fetches += 1
                try:
                    fetched = json.loads(self.s3.get_object(Bucket=self.bucket, Key=self.key)["Body"].read())
                    if fetched.get("updated_at") != (self.value or {}).get("updated_at"):
                        self.changed_at = time.monotonic()
                    self.value = fetched
                except Exception:
                    pass
            return self.value


class Buyer:
    def __init__(self, index: int, quantity: int, arrive_at: float) -> None:
        self.index, self.quantity, self.arrive_at = index, quantity, arrive_at
        self.key = f"bench-join-{uuid.uuid4()}"
        self.session = ""
        self.entry: dict[str, Any] | None = None
        self.join_sent: float | None = None
        self.join_answered: float | None = None
        self.position: int | None = None
        self.outcome: str | None = None  # held | refused | sold_out (learned while waiting)
        self.answered_at: float | None = None
        self.held_quantity = 0
        self.held_at: float | None = None
        self.abandoned = False
        self.asking = False
        self.position_ask_at: float | None = None
        self.last_asked = 0.0
        self.errors = 0


class OnSaleRun:
    def __init__(self, size: str) -> None:
        self.size = size
        self.spec = SIZES[size]
        self.rng = random.Random(2026)
        self.events: list[tuple[float, int, Callable[[], None]]] = []
        self.sequence = 0
        self.lock = threading.Lock()
        self.wake = threading.Event()

    # -- a tiny scheduler: buyers are timed callbacks, requests run on the Lambda pool
    def at(self, when: float, action: Callable[[], None]) -> None:
        with self.lock:
            self.sequence += 1
            heapq.heappush(self.events, (when, self.sequence, action))
        self.wake.set()

    def run_scheduler(self, until: Callable[[], bool], deadline: float) -> None:
        while not until() and time.monotonic() < deadline:
            with self.lock:
                due = self.events and self.events[0][0] <= time.monotonic()
                action = heapq.heappop(self.events)[2] if due else None
                wait = (self.events[0][0] - time.monotonic()) if (self.events and not due) else 0.05
            if action:
                action()
            else:
                self.wake.wait(max(0.0, min(wait, 0.05)))
                self.wake.clear()


class Workers:
    """The queue consumers and the inlet in a child process (`python -m
    bench.onsale workers QUEUE_URL`), with the stack's environment. It counts
    its own AWS calls and worker invocations between `mark` and `stop`."""

    def __init__(self, payment_events_queue_url: str) -> None:
        import os
        import subprocess

        self.process = subprocess.Popen([sys.executable, "-m", "bench.onsale", "workers", payment_events_queue_url],
                                        cwd=ROOT, env=dict(os.environ), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        assert self.process.stdout.readline().strip() == "ready"

    def mark(self) -> None:
        self.process.stdin.write("mark\n")
        self.process.stdin.flush()

    def stop(self) -> dict[str, Any]:
        self.process.stdin.write("stop\n")
        self.process.stdin.flush()
        report = json.loads(self.process.stdout.readline())
        self.process.stdin.close()
        self.process.wait(timeout=30)
        return report


def serve_workers(payment_events_queue_url: str) -> None:
    """The child's side of Workers: answers on its own copy of stdout, while
    the workers' log lines (written to stdout, as in Lambda) go to stderr."""
    import os

    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.path.insert(0, str(ROOT))
    import app as chalice_app
    from local.runner import Runner

    calls = Calls()
    calls.install()
    invocations = Counter()
    original_worker = chalice_app.onsale_worker

    timings: list[tuple[float, int, float]] = []  # (started, records, seconds)
    # Per kind of message group (pre, arrive, reserve): records handled, and when the last one ended.
    handled_by_kind: Counter = Counter()
    last_by_kind: dict[str, float] = {}
    ended_by_kind: dict[str, list[float]] = {}

    def counted_worker(event: dict, context: Any) -> Any:
        invocations["onsale_worker"] += 1
        started = time.monotonic()
        try:
            return original_worker(event, context)
        finally:
            ended = time.monotonic()
            timings.append((started, len(event.get("Records", [])), ended - started))
            for record in event.get("Records", []):
                kind = record.get("attributes", {}).get("MessageGroupId", "").partition("#")[0]
                handled_by_kind[kind] += 1
                last_by_kind[kind] = ended
                ended_by_kind.setdefault(kind, []).append(ended)

    chalice_app.onsale_worker = counted_worker
    # The reservation stage on its own: when each serving transaction ran and how many places it took.
    from chalicelib.adapters.onsale_store import OnSaleStore

    original_serve = OnSaleStore.serve
    serves: list[tuple[float, float, int]] = []

    def timed_serve(self, performance_id, event_id, decisions, holds, taken, *args, **kwargs):  # noqa: ANN001
        started = time.monotonic()
        served = original_serve(self, performance_id, event_id, decisions, holds, taken, *args, **kwargs)
        if served:
            serves.append((started, time.monotonic(), taken))
        return served

    OnSaleStore.serve = timed_serve
    runner = Runner(payment_events_queue_url, schedule_seconds=3600, inlet_seconds=INLET_SECONDS).start()
    print("ready", file=answers, flush=True)
    marked: tuple[Counter, int, int] = (Counter(), 0, 0)
    for command in sys.stdin:
        if command.strip() == "mark":
            counts, units = calls.snapshot()
            marked = (counts, units, invocations["onsale_worker"])
        elif command.strip() == "stop":
            counts, units = calls.snapshot()
            runner.stop()
            delta = counts - marked[0]
            seconds = [t for _, _, t in timings]
            records = [n for _, n, _ in timings]
            print(json.dumps({"serves": serves, "handled_by_kind": handled_by_kind, "last_by_kind": last_by_kind,
                              "ended_by_kind": ended_by_kind,
                              "onsale_worker_seconds_p50": percentile(seconds, 0.5),
                              "onsale_worker_seconds_p99": percentile(seconds, 0.99),
                              "onsale_worker_records_per_invocation": round(sum(records) / max(1, len(records)), 1),
                              "calls": [[service, op, n] for (service, op), n in delta.items()],
                              "write_units": units - marked[1],
                              "onsale_worker_invocations": invocations["onsale_worker"] - marked[2]}),
                  file=answers, flush=True)
            return


def main(size: str = "quick", out: Path = RESULTS) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from local import demo, stack as local_stack

    stack = local_stack.start(moto_in_own_process=True)
    try:
        demo.seed()
        stack.configure_faults("off")
        return _measure(size, stack, out)
    finally:
        stack.stop()


def _measure(size: str, stack: Any, out: Path) -> dict[str, Any]:
    import app as chalice_app
    from chalicelib import bootstrap
    from chalicelib.adapters import aws
    from chalicelib.domain.model import NewEvent, NewPerformance, OnSaleSettings
    from chalicelib.domain.onsale import line_position, turn_known
    from chalicelib.services import catalogue, events, onsale

    run = OnSaleRun(size)
    spec = run.spec
    calls = Calls()
    calls.install()
    api = Lambda(chalice_app)

    # The hall on sale, and a normal performance at each other venue.
    network = bootstrap.network()
    store = bootstrap.worker_store(ONSALE_VENUE)
    prices = [{"code": "normaal", "label": "Normaal", "amount": 3500}]
    event = events.create_event(store, NewEvent(title="Bench on-sale", hall="Clubzaal", price_types=prices))
    starts = datetime.now(timezone.utc) + timedelta(days=40)
    performance = events.add_performance(store, event.event_id, NewPerformance(starts_at=starts,
                                                                               capacity=spec["capacity"]))
    store.mark_published(event.event_id)
    others = []
    for venue in OTHER_VENUES:
        other_store = bootstrap.worker_store(venue)
        other = events.create_event(other_store, NewEvent(title="Bench normal sale", hall="Zaal", price_types=prices))
        other_perf = events.add_performance(other_store, other.event_id,
                                            NewPerformance(starts_at=starts, capacity=100_000))
        other_store.mark_published(other.event_id)
        others.append({"venue": venue, "event_id": other.event_id, "performance_id": other_perf.performance_id})
    lead_time = 6.0 + spec["window_s"] / 2
    opens_at_wall = datetime.now(timezone.utc) + timedelta(seconds=lead_time)
    opens_at = time.monotonic() + lead_time
    onsale.configure(bootstrap.onsale(store), event.event_id, performance.performance_id,
                     OnSaleSettings(opens_at=opens_at_wall, admit_per_second=ADMIT_PER_SECOND, max_tickets_per_buyer=4))
    catalogue.publish_venue(network, store)

    workers = Workers(stack.outputs["PaymentEventsQueueUrl"])
    s3 = aws.client("s3")
    status = EdgeCache(s3, stack.outputs["SiteBucketName"],
                       f"catalogue/{onsale.status_path(ONSALE_VENUE, performance.performance_id)}")

    # Other venues' buyers: hold and cancel at a steady pace; latency before and during the on-sale.
    other_latency: dict[str, list[float]] = {"before": [], "during": [], "after": []}
    phase = {"name": "before"}
    other_stop = threading.Event()
    other_answers: Counter[int] = Counter()

    def other_buyer() -> None:
        while not other_stop.wait(1 / OTHER_HOLDS_PER_SECOND):
            target = others[run.rng.randrange(len(others))]
            started = time.monotonic()
            # In this thread: its own warm instance, as Lambda scales out for another venue's buyers.
            answer = api.call("POST", "/holds", {**target, "tickets": [{"price_type": "normaal", "quantity": 2}]},
                              {"Idempotency-Key": str(uuid.uuid4())})
            other_answers[answer["status"]] += 1
            if answer["status"] >= 400 and other_answers[answer["status"]] == 1:
                print("other venue hold refused:", answer["data"], file=sys.stderr, flush=True)
            if answer["status"] in (200, 201):
                other_latency[phase["name"]].append(time.monotonic() - started)
                api.call("DELETE", f"/holds/{target['venue']}/{answer['data']['hold_id']}",
                         headers={"X-Buyer-Session": answer["headers"].get("X-Buyer-Session", "")})

    others_thread = threading.Thread(target=other_buyer, daemon=True)
    others_thread.start()
    time.sleep(4.0)  # the "before" sample: the other venues on their own
    phase["name"] = "during"

    buyers = [Buyer(i, run.rng.randint(1, 4), opens_at - spec["window_s"] / 2 + run.rng.random() * spec["window_s"])
              for i in range(spec["buyers"])]
    path_join = f"/queue/{ONSALE_VENUE}/{event.event_id}/{performance.performance_id}"
    last_change = {"at": time.monotonic()}

    def answer(buyer: Buyer, outcome: str) -> None:
        if buyer.outcome is None or (buyer.outcome == "sold_out" and outcome != "sold_out"):
            if buyer.outcome is None:
                buyer.answered_at = time.monotonic()
            buyer.outcome = outcome
            last_change["at"] = time.monotonic()

    def join(buyer: Buyer) -> None:
        if buyer.join_sent is None:
            buyer.join_sent = time.monotonic()
        headers = {"Idempotency-Key": buyer.key}
        if buyer.session:
            headers["X-Buyer-Session"] = buyer.session
        api.submit(lambda r: joined(buyer, r), "POST", path_join,
                   {"tickets": [{"price_type": "normaal", "quantity": buyer.quantity}]}, headers)

    def joined(buyer: Buyer, result: dict) -> None:
        if result["status"] == 202:
            buyer.join_answered = buyer.last_asked = time.monotonic()
            buyer.entry = result["data"]
            buyer.session = result["data"]["buyer_session"]
            run.at(time.monotonic() + 1.0, lambda: poll(buyer))
        else:
            buyer.errors += 1
            run.at(time.monotonic() + 0.5, lambda: join(buyer))  # 429/503: again, same key

    def poll(buyer: Buyer) -> None:
        """What queue.js does: follow the status file; ask the API for the
        result once the line has been served past this buyer
        (rules.turn_known), and for the place once, at a random moment within
        POSITION_ASK_SPREAD_S of it being known, unless the status file has
        answered first."""
        if buyer.outcome in ("held", "refused"):
            return
        line = status.get() or {}
        turn = turn_known(line, buyer.entry)
        if turn == "not_admitted":
            answer(buyer, "sold_out")
        numbered = line.get("open") and line.get("numbered_until_ms", 0) >= buyer.entry["joined_at_ms"]
        if numbered and buyer.position_ask_at is None:
            buyer.position_ask_at = time.monotonic() + run.rng.random() * POSITION_ASK_SPREAD_S
        wants_place = buyer.position is None and turn is None and buyer.position_ask_at is not None \
            and time.monotonic() >= buyer.position_ask_at
        # A slow fallback, should the status file stand still (as queue.js: 30 s unchanged).
        stale = line.get("open") and time.monotonic() - buyer.last_asked > 120.0 \
            and time.monotonic() - status.changed_at > 30.0
        need_ask = turn == "served" or wants_place or stale
        if need_ask and not buyer.asking:
            buyer.asking = True
            buyer.last_asked = time.monotonic()
            api.submit(lambda r: looked(buyer, r), "GET", f"/queue/{ONSALE_VENUE}/entries/{buyer.entry['entry_id']}",
                       headers={"X-Queue-Token": buyer.entry["queue_token"], "X-Buyer-Session": buyer.session})
        else:
            run.at(time.monotonic() + 1.0, lambda: poll(buyer))

    def looked(buyer: Buyer, result: dict) -> None:
        buyer.asking = False
        if result["status"] != 200:
            buyer.errors += 1
            run.at(time.monotonic() + 1.0, lambda: poll(buyer))
            return
        data = result["data"]
        buyer.position = data.get("position") or buyer.position
        if data["state"] == "held":
            buyer.held_quantity = data["hold"]["quantity"]
            buyer.held_at = time.monotonic()
            answer(buyer, "held")
            if run.rng.random() < ABANDON_SHARE:
                buyer.abandoned = True
                api.submit(lambda r: None, "DELETE", f"/holds/{ONSALE_VENUE}/{data['hold']['hold_id']}",
                           headers={"X-Buyer-Session": buyer.session})
            return
        if data["state"] == "refused":
            answer(buyer, "refused")
            return
        if data.get("sold_out") and buyer.position is not None:
            answer(buyer, "sold_out")
        run.at(time.monotonic() + 1.0, lambda: poll(buyer))

    calls_before, units_before = calls.snapshot()
    workers.mark()
    invocations_before = api.invocations
    for buyer in buyers:
        run.at(buyer.arrive_at, lambda b=buyer: join(b))

    def settled() -> bool:
        if any(b.outcome is None for b in buyers):
            return False
        if api.pending:  # e.g. cancels still on their way: their places go to the next in line
            return False
        state = bootstrap.onsale(store).state(performance.performance_id) or {}
        outstanding = int(state.get("admitted_entries", 0)) - int(state.get("served_entries", 0))
        left = bootstrap.worker_store(ONSALE_VENUE).get_performance(event.event_id, performance.performance_id).available
        waiting = int(state.get("joined", 0)) > int(state.get("serving", 0))
        return outstanding == 0 and not (left and waiting) and time.monotonic() - last_change["at"] > 3.0

    settle_check = {"at": 0.0, "value": False}

    def until() -> bool:
        if time.monotonic() - settle_check["at"] > 1.0:
            settle_check.update(at=time.monotonic(), value=settled())
        return settle_check["value"]

    def progress() -> None:
        while not other_stop.wait(2.0):
            state = bootstrap.onsale(store).state(performance.performance_id) or {}
            print(f"t={time.monotonic() - opens_at:6.1f}s joined={state.get('joined')} serving={state.get('serving')} "
                  f"served={state.get('served_entries')} answered={sum(1 for b in buyers if b.outcome)} "
                  f"api_calls={api.invocations}", file=sys.stderr, flush=True)

    threading.Thread(target=progress, daemon=True).start()
    run.run_scheduler(until, deadline=opens_at + (300 if size != "full" else 1500))
    ended = time.monotonic()
    phase["name"] = "after"
    other_stop.set()
    others_thread.join(timeout=5)
    calls_after, units_after = calls.snapshot()
    worker_report = workers.stop()
    calls_after.update({(service, op): n for service, op, n in worker_report["calls"]})
    units_after += worker_report["write_units"]
    api.pool.shutdown(wait=True)

    final = bootstrap.worker_store(ONSALE_VENUE).get_performance(event.event_id, performance.performance_id)
    held_now = sum(b.held_quantity for b in buyers if b.outcome == "held" and not b.abandoned)
    granted = sum(b.held_quantity for b in buyers if b.outcome == "held")
    tickets_sold = spec["capacity"] - final.available
    grant_times = [b.held_at for b in buyers if b.held_at]
    results_ready = [b.answered_at - b.join_sent for b in buyers if b.answered_at and b.join_sent]
    join_waits = [b.join_answered - b.join_sent for b in buyers if b.join_answered and b.join_sent]
    delta = calls_after - calls_before
    dynamodb = sum(v for (service, _), v in delta.items() if service == "dynamodb")
    sqs = sum(v for (service, _), v in delta.items() if service == "sqs")
    s3_puts = delta.get(("s3", "PutObject"), 0)
    lambda_invocations = (api.invocations - invocations_before) + worker_report["onsale_worker_invocations"] \
        + (ended - opens_at) / 60  # the inlet: one invocation per minute in AWS
    write_units = units_after - units_before
    reads = dynamodb - sum(v for (service, op), v in delta.items() if service == "dynamodb" and op in DYNAMODB_WRITES)
    avg_lambda_s = api.busy_seconds / max(1, api.invocations)
    cost = (api.invocations * PRICES_USD["api_gateway_rest_request"]
            + lambda_invocations * PRICES_USD["lambda_request"]
            + api.invocations * avg_lambda_s * LAMBDA_MEMORY_GB * PRICES_USD["lambda_gb_second"]
            + write_units * PRICES_USD["dynamodb_write_request_unit"]
            + reads * PRICES_USD["dynamodb_read_request_unit"]
            + sqs * PRICES_USD["sqs_fifo_request"]
            + s3_puts * PRICES_USD["s3_put"]
            + status.requests * PRICES_USD["cloudfront_https_request_eu"])
    raw_writes = raw_conditional_writes_per_s(store)
    # Every buyer's place, from the line itself (after the counts: pages need not ask for it).
    line_store = bootstrap.onsale(bootstrap.worker_store(ONSALE_VENUE))
    line_state = line_store.state(performance.performance_id) or {}
    pre_count = line_state.get("pre_count")
    entries = line_store.entries(b.entry["entry_id"] for b in buyers if b.entry)
    for buyer in buyers:
        if buyer.entry and buyer.entry["entry_id"] in entries:
            entry = entries[buyer.entry["entry_id"]]
            buyer.position = line_position(entry, pre_count) or (
                pre_count is not None and entry.get("draw")
                and line_store.drawn_position(performance.performance_id, entry["draw"])) or None
    post_opening = [b for b in buyers if b.join_sent and b.join_sent >= opens_at]
    inversions = fairness_inversions(post_opening)
    result = {
        "size": size,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "how": ("moto in its own process (IAM enforced, no injected faults); API handler invoked in-process by "
                f"{LAMBDA_CONCURRENCY} threads as warm Lambda instances (chalice local's HTTP server would be the "
                f"bottleneck); the queue consumers (2-10 per venue's on-sale queue, scaling with full batches) and the "
                f"inlet (every {INLET_SECONDS} s) in a process of their own, as Lambda instances of their own; status "
                "file cached 1 s as at the edge; 2 cores"),
        "capacity": spec["capacity"],
        "buyers": spec["buyers"],
        "arrival_window_s": spec["window_s"],
        "pre_queue_buyers": sum(1 for b in buyers if b.join_sent and b.join_sent < opens_at),
        "tickets_sold": tickets_sold,
        "tickets_held_by_buyers_at_end": held_now,
        "places_granted_including_abandoned": granted,
        "abandoned_holds": sum(1 for b in buyers if b.abandoned),
        "oversold": max(0, held_now - spec["capacity"]) + max(0, -final.available),
        "buyers_answered": sum(1 for b in buyers if b.outcome),
        "answers": dict(Counter(b.outcome or "none" for b in buyers)),
        "unanswered_sample": [{"quantity": b.quantity, "position": b.position, "joined": b.join_answered is not None,
                               "pre_queue": bool(b.join_sent and b.join_sent < opens_at), "errors": b.errors}
                              for b in buyers if not b.outcome][:5],
        "fairness_inversions": len(inversions),
        "fairness_inversion_sample": inversions[:5],
        "time_to_result_p50_s": percentile(results_ready, 0.5),
        "time_to_result_p99_s": percentile(results_ready, 0.99),
        # Of that, waiting for the join's own answer: the local stand-in for API Gateway and Lambda is
        # LAMBDA_CONCURRENCY threads, where Lambda would scale out (docs/capacity.md).
        "join_answer_p50_s": percentile(join_waits, 0.5),
        "join_answer_p99_s": percentile(join_waits, 0.99),
        "tickets_per_s": round(granted / max(0.001, max(grant_times, default=opens_at) - opens_at), 1),
        "other_venues_hold_latency_p99_s": {"before": percentile(other_latency["before"], 0.99),
                                            "during": percentile(other_latency["during"], 0.99)},
        "other_venues_holds": {k: len(v) for k, v in other_latency.items() if k != "after"},
        "other_venues_answers": {str(k): v for k, v in other_answers.items()},
        "dynamodb_requests_per_ticket": round(dynamodb / max(1, granted), 2),
        "dynamodb_write_units_per_ticket": round(write_units / max(1, granted), 2),
        "sqs_requests_per_ticket": round(sqs / max(1, granted), 2),
        "lambda_invocations_per_ticket": round(lambda_invocations / max(1, granted), 2),
        "api_requests": api.invocations - invocations_before,
        "status_file_requests": status.requests,
        "aws_cost_per_1000_tickets_usd": round(cost / max(1, granted) * 1000, 4),
        "prices_usd": PRICES_USD,
        "raw_conditional_writes_per_s": raw_writes,
        "tickets_per_s_over_raw_writes": round((granted / max(0.001, max(grant_times, default=opens_at) - opens_at))
                                               / raw_writes, 2),
        # The same up to the moment the hall was first all held: without the waves of places that
        # abandoning buyers give back later, which measure the buyers' pace rather than the pipeline's.
        "tickets_per_s_until_first_sold_out": first_sold_out_rate(buyers, spec["capacity"], opens_at),
        # The reservation stage alone (the worker's serving transactions, by its own clock), from its
        # first transaction to the one that took the hall's last place: what reserving costs,
        # without the waiting before it (joins, the draw) that time_to_result measures.
        "reserving_tickets_per_s": reserving_rate(worker_report["serves"], spec["capacity"]),
        "reserving_tickets_per_s_over_raw_writes": round((reserving_rate(worker_report["serves"], spec["capacity"]) or 0)
                                                         / raw_writes, 2),
        "onsale_worker": {k[len("onsale_worker_"):]: v for k, v in worker_report.items()
                          if k.startswith("onsale_worker_")},
        "client_errors_retried": sum(b.errors for b in buyers),
        "aws_requests_by_operation": {f"{service}:{op}": n for (service, op), n in delta.most_common()},
        "grants_by_second_after_opening": dict(sorted(Counter(int(t - opens_at) for t in grant_times).items())),
        # Where the time after the opening went: the pre-queue's last lane batch handled, the draw,
        # the first serving transaction, the first grant a buyer saw (seconds after the opening).
        "phases_after_opening_s": {
            "pre_queue_written": round(worker_report["last_by_kind"].get("pre", opens_at) - opens_at, 2),
            "drawn": round(datetime.fromisoformat(line_state["drawn_at"]).timestamp() - opens_at_wall.timestamp(), 2)
            if line_state.get("drawn_at") else None,
            "first_served": round(min((s[1] for s in worker_report["serves"]), default=opens_at) - opens_at, 2),
            "first_grant_seen": round(min(grant_times, default=opens_at) - opens_at, 2),
            "arrivals_numbered": round(worker_report["last_by_kind"].get("arrive", opens_at) - opens_at, 2)},
        "worker_records_by_kind": worker_report["handled_by_kind"],
        "worker_records_by_second_after_opening": {
            kind: dict(sorted(Counter(int(t - opens_at) if t >= opens_at else -1 - int(opens_at - t)
                                      for t in ended).items()))
            for kind, ended in worker_report["ended_by_kind"].items()},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(out.read_text()) if out.exists() else {}
    existing[size] = result
    out.write_text(json.dumps(existing, indent=2) + "\n")
    write_summary(existing, out.with_suffix(".md"))
    return result


def reserving_rate(serves: list[list[float]], capacity: int) -> float | None:
    """Places per second from the start of the first serving transaction to the end of the one
    that took the last place."""
    if not serves:
        return None
    first, taken = min(s[0] for s in serves), 0
    for _, ended, places in sorted(serves, key=lambda s: s[1]):
        taken += places
        if taken >= capacity:
            return round(capacity / max(0.001, ended - first), 1)
    return None


def first_sold_out_rate(buyers: list[Buyer], capacity: int, opens_at: float) -> float | None:
    """Tickets per second from the opening until the granted places first reached the capacity."""
    granted = 0
    for buyer in sorted((b for b in buyers if b.held_at), key=lambda b: b.held_at):
        granted += buyer.held_quantity
        if granted >= capacity:
            return round(capacity / max(0.001, buyer.held_at - opens_at), 1)
    return None


def fairness_inversions(buyers: list[Buyer]) -> list[dict[str, Any]]:
    """Buyers served after someone who arrived later with the same request:
    B joined after A's join was answered, wanted as many, and got a place
    in line ahead of A. One row per such A, with the best-placed B."""
    import bisect

    inversions: list[dict[str, Any]] = []
    for quantity in {b.quantity for b in buyers}:
        same = [b for b in buyers if b.quantity == quantity and b.join_answered and b.position]
        by_sent = sorted(same, key=lambda b: b.join_sent)
        sent_times = [b.join_sent for b in by_sent]
        # the best-placed buyer among those who sent at or after each index
        best_after: list[Buyer | None] = [None] * (len(by_sent) + 1)
        for i in range(len(by_sent) - 1, -1, -1):
            best = best_after[i + 1]
            best_after[i] = by_sent[i] if best is None or by_sent[i].position < best.position else best
        for a in same:
            b = best_after[bisect.bisect_right(sent_times, a.join_answered)]
            if b is not None and b.position < a.position:
                inversions.append({"quantity": quantity, "position": a.position, "answered_at": round(a.join_answered, 3),
                                   "overtaken_by_position": b.position, "their_join_sent": round(b.join_sent, 3)})
    return inversions


def raw_conditional_writes_per_s(store: Any, seconds: float = 3.0, threads: int = 8) -> float:
    """A bare conditional update_item on the same moto server, in the same run."""
    from chalicelib.adapters.dynamo import key, values

    store.db.put_item(TableName=store.table, Item={"pk": {"S": "BENCH#RAW"}, "sk": {"S": "RAW"}, "n": {"N": "0"}})
    done = Counter()
    stop = time.monotonic() + seconds

    def write() -> None:
        while time.monotonic() < stop:
            store.db.update_item(TableName=store.table, Key=key("BENCH#RAW", "RAW"), UpdateExpression="ADD n :one",
                                 ConditionExpression="n >= :zero", ExpressionAttributeValues=values(one=1, zero=0))
            done["n"] += 1

    workers = [threading.Thread(target=write) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return round(done["n"] / seconds, 1)


def write_summary(results: dict[str, Any], path: Path) -> None:
    rows = ["capacity", "buyers", "tickets_sold", "oversold", "buyers_answered", "fairness_inversions",
            "time_to_result_p50_s", "time_to_result_p99_s", "join_answer_p99_s", "tickets_per_s", "raw_conditional_writes_per_s",
            "tickets_per_s_over_raw_writes", "tickets_per_s_until_first_sold_out", "reserving_tickets_per_s",
            "reserving_tickets_per_s_over_raw_writes", "other_venues_hold_latency_p99_s", "dynamodb_requests_per_ticket",
            "sqs_requests_per_ticket", "lambda_invocations_per_ticket", "aws_cost_per_1000_tickets_usd"]
    sizes = [s for s in ("quick", "full") if s in results]
    lines = ["# On-sale benchmark (`make bench`; full size: `python -m bench.onsale full`)", "",
             "Written by bench/onsale.py; how it runs is in `how` in onsale.json and in the module docstring.", "",
             "| | " + " | ".join(sizes) + " |", "|---|" + "---|" * len(sizes)]
    for row in rows:
        lines.append(f"| {row} | " + " | ".join(json.dumps(results[s].get(row)) for s in sizes) + " |")
    lines += ["", "Measured at: " + ", ".join(f"{s} {results[s]['measured_at']}" for s in sizes), ""]
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    if sys.argv[1:2] == ["workers"]:
        serve_workers(sys.argv[2])
        sys.exit(0)
    chosen = sys.argv[1] if len(sys.argv) > 1 else "quick"
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else RESULTS
    print(json.dumps(main(chosen, target), indent=2))
