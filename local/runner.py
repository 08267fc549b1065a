"""Runs the Lambda event sources locally: feeds the SQS consumers from the
real (moto) queues and fires the scheduled jobs, in-process, with the same
identity as the API. What AWS's event source mapping and EventBridge do."""

from __future__ import annotations

import threading
import uuid
from functools import lru_cache
from typing import Any, Callable

from chalicelib.adapters import aws
from chalicelib.observability import logger


def _lambda_event(queue_arn: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m.get("MD5OfBody", ""),
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": "eu-west-1"} for m in messages]}


class _Context:
    """The parts of a Lambda context that Powertools reads."""

    def __init__(self, name: str) -> None:
        self.function_name = name
        self.aws_request_id = str(uuid.uuid4())
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{name}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@lru_cache(maxsize=256)  # every venue has several queues: a small cache would ask again on every poll
def _queue_arn(queue_url: str) -> str:
    return aws.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def drain(queue_url: str, handler: Callable[[dict, Any], Any], *, wait_seconds: int = 0, max_batches: int = 100,
          on_full_batch: Callable[[], None] | None = None) -> int:
    """Deliver queued messages in batches of 10 until the queue is empty.
    Messages reported as failed stay in the queue (and reach the DLQ after
    maxReceiveCount), exactly as with ReportBatchItemFailures."""
    sqs = aws.client("sqs")
    queue_arn = _queue_arn(queue_url)
    handled = 0
    for _ in range(max_batches):
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds,
                                       AttributeNames=["All"]).get("Messages", [])
        if not messages:
            return handled
        if on_full_batch and len(messages) == 10:
            on_full_batch()
        result = handler(_lambda_event(queue_arn, messages), _Context(queue_url.rsplit("/", 1)[-1])) or {}
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:  # as the event source mapping does: one batch delete
            sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
        handled += len(done)
    return handled


# An event source mapping on a FIFO queue scales its pollers with the message
# groups that have work (up to its maximum concurrency): two always, more
# while batches come back full, each extra one leaving when it finds nothing.
ONSALE_POLLERS = 2
ONSALE_MAX_POLLERS = 10


@lru_cache(maxsize=256)
def webhook_queue_url(venue: str) -> str:
    from chalicelib.adapters.webhook_store import WebhookStore
    from chalicelib.settings import get_settings

    from chalicelib import bootstrap

    return WebhookStore(bootstrap.worker_store(venue), get_settings().stage).queue_url()


def consume_webhooks(venue: str, stopping: threading.Event, handler: Callable[[dict, Any], Any] | None = None) -> None:
    """One venue's webhook queue, as its own event source mapping does in AWS:
    a venue whose endpoint hangs holds up only this thread (the bulkhead)."""
    if handler is None:
        import app

        handler = app.webhook_worker
    while not stopping.is_set():
        try:
            drain(webhook_queue_url(venue), handler, wait_seconds=1)
        except Exception:
            if stopping.is_set():
                return
            logger.exception("local webhook consumer failed", extra={"venue": venue})
            stopping.wait(2)


def onsale_queue_url(venue: str) -> str:
    from chalicelib import bootstrap

    return bootstrap.onsale(bootstrap.worker_store(venue)).queue_url


class Runner:
    """Background threads: long-poll the payment-events queue; run
    every_minute; tick the waiting rooms' inlet; and one consumer per venue's
    on-sale queue (as each venue stack's event source mapping does in AWS)."""

    def __init__(self, queue_url: str, schedule_seconds: float = 60.0, inlet_seconds: float = 0.5) -> None:
        self.queue_url = queue_url
        self.schedule_seconds = schedule_seconds
        self.inlet_seconds = inlet_seconds
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.onsale_consumers: dict[str, list[threading.Thread]] = {}
        self.extra_pollers: dict[str, int] = {}
        self.pollers_lock = threading.Lock()

    def start(self) -> "Runner":
        for target in (self._consume, self._schedule, self._inlet):
            self._thread(target)
        return self

    def _thread(self, target: Callable[..., None], *args: Any) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self.threads.append(thread)
        return thread

    def _inlet(self) -> None:
        from chalicelib import bootstrap
        from chalicelib.workers import onsale

        while not self.stopping.wait(self.inlet_seconds):
            try:
                onsale.tick_all(seconds=self.inlet_seconds)
                for venue in bootstrap.network().list_venues():
                    if venue.get("status") == "active" and venue["slug"] not in self.onsale_consumers:
                        # Two pollers per queue, as an event source mapping's minimum concurrency:
                        # while one works on a batch of arrivals (its group locked), the other
                        # serves admitted buyers.
                        self.onsale_consumers[venue["slug"]] = [
                            self._thread(self._consume_onsale, venue["slug"]) for _ in range(ONSALE_POLLERS)]
                        self._thread(consume_webhooks, venue["slug"], self.stopping)
            except Exception:
                if self.stopping.is_set():
                    return
                logger.exception("local on-sale inlet failed")

    def _consume_onsale(self, venue: str, extra: bool = False) -> None:
        import app

        try:
            while not self.stopping.is_set():
                try:
                    handled = drain(onsale_queue_url(venue), app.onsale_worker, wait_seconds=0 if extra else 1,
                                    on_full_batch=lambda: self._add_onsale_poller(venue))
                    if extra and not handled:
                        return
                except Exception:
                    if self.stopping.is_set():
                        return  # the stack is stopping under us
                    logger.exception("local on-sale consumer failed", extra={"venue": venue})
                    self.stopping.wait(2)
        finally:
            if extra:
                with self.pollers_lock:
                    self.extra_pollers[venue] -= 1

    def _add_onsale_poller(self, venue: str) -> None:
        with self.pollers_lock:
            if self.extra_pollers.get(venue, 0) >= ONSALE_MAX_POLLERS - ONSALE_POLLERS:
                return
            self.extra_pollers[venue] = self.extra_pollers.get(venue, 0) + 1
        self._thread(self._consume_onsale, venue, True)

    def _consume(self) -> None:
        import app

        while not self.stopping.is_set():
            try:
                drain(self.queue_url, app.payment_events, wait_seconds=1)
            except Exception:
                logger.exception("local SQS consumer failed")
                self.stopping.wait(2)

    def _schedule(self) -> None:
        import app

        while not self.stopping.wait(self.schedule_seconds):
            try:
                app.every_minute({"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {},
                                  "resources": [], "time": "", "id": str(uuid.uuid4()), "account": "", "region": ""},
                                 _Context("every_minute"))
            except Exception:
                logger.exception("local schedule failed")

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=5)
