"""The local SQS numbers and deduplicates FIFO messages as SQS does
(local/moto_sqs_fifo.py): the waiting page relies on sequence numbers that
follow the queue's order, and the on-sale on repeats being dropped for 5
minutes even after the first copy was consumed."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from tests.waiting import until


@pytest.fixture()
def sqs(loket):
    """The session's local AWS (the stand-in as the app meets it), as its operator;
    never a mock_aws() of its own, which would reset the shared stack's state."""
    return loket.operator.client("sqs")


def _queue(sqs, scope: str = "messageGroup") -> str:
    return sqs.create_queue(QueueName=f"moto-fifo-test-{scope}-{uuid.uuid4().hex[:8]}.fifo", Attributes={
        "FifoQueue": "true", "DeduplicationScope": scope, "FifoThroughputLimit":
            "perMessageGroupId" if scope == "messageGroup" else "perQueue"})["QueueUrl"]


def _receive_all(sqs, url: str) -> list[dict]:
    found = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        if not batch:
            return found
        found += batch
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                         for i, m in enumerate(batch)])


def test_sequence_numbers_follow_the_order_the_group_accepted_its_messages(sqs):
    url = _queue(sqs)
    answers: dict[str, str] = {}

    def send(sender: int) -> None:
        for n in range(25):
            body = f"{sender}-{n}"
            answer = sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="arrive#perf",
                                      MessageDeduplicationId=body)
            answers[body] = answer["SequenceNumber"]

    senders = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    delivered = _receive_all(sqs, url)
    numbers = [int(m["Attributes"]["SequenceNumber"]) for m in delivered]
    assert len(delivered) == 200
    assert numbers == sorted(numbers) and len(set(numbers)) == 200, "increasing in delivery order"
    assert all(answers[m["Body"]] == m["Attributes"]["SequenceNumber"] for m in delivered), \
        "the sender is told the number its message is delivered with"


def test_a_repeat_within_five_minutes_is_accepted_with_the_first_answer_and_never_delivered(sqs):
    url = _queue(sqs)
    first = sqs.send_message(QueueUrl=url, MessageBody="join", MessageGroupId="g", MessageDeduplicationId="entry-1")
    assert [m["Body"] for m in _receive_all(sqs, url)] == ["join"]  # consumed and deleted
    again = sqs.send_message(QueueUrl=url, MessageBody="join", MessageGroupId="g", MessageDeduplicationId="entry-1")
    assert (again["MessageId"], again["SequenceNumber"]) == (first["MessageId"], first["SequenceNumber"])
    assert _receive_all(sqs, url) == [], "moto alone delivers it again once the first copy is gone"


def test_deduplication_is_per_message_group_only_when_the_queue_says_so(sqs):
    per_group, per_queue = _queue(sqs, "messageGroup"), _queue(sqs, "queue")
    for url in (per_group, per_queue):
        for group in ("pre#perf#1", "arrive#perf"):
            sqs.send_message(QueueUrl=url, MessageBody=group, MessageGroupId=group, MessageDeduplicationId="entry-1")
    assert sorted(m["Body"] for m in _receive_all(sqs, per_group)) == ["arrive#perf", "pre#perf#1"]
    assert [m["Body"] for m in _receive_all(sqs, per_queue)] == ["pre#perf#1"]


def test_a_message_group_is_never_with_two_consumers_at_once(sqs):
    """Four long-polling consumers, messages trickling into one group: a
    consumer may receive the group's next messages only once the previous
    batch was deleted. (moto alone handed them out 1-3 times in 100 batches,
    and the waiting room then numbered arrivals out of order.)"""
    url = _queue(sqs)
    batches: list[tuple[float, float, list[int]]] = []
    lock, stop = threading.Lock(), threading.Event()

    def consume() -> None:
        while not stop.is_set():
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            if not batch:
                continue
            received = time.monotonic()
            stop.wait(0.03)  # the handler's work
            deleting = time.monotonic()
            with lock:
                batches.append((received, deleting, [int(m["Body"]) for m in batch]))
            sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                             for i, m in enumerate(batch)])

    consumers = [threading.Thread(target=consume) for _ in range(4)]
    for thread in consumers:
        thread.start()
    for n in range(300):
        sqs.send_message(QueueUrl=url, MessageBody=str(n), MessageGroupId="arrive#perf", MessageDeduplicationId=str(n))
        stop.wait(0.005)
    until(lambda: sum(len(b[2]) for b in batches) >= 300, "every message consumed", seconds=30)
    stop.set()
    for thread in consumers:
        thread.join()
    batches.sort()
    # A batch received before the one ahead of it was even being deleted: both were in flight.
    overlapping = [(a[2], b[2]) for a, b in zip(batches, batches[1:]) if b[0] < a[1]]
    assert overlapping == []
    assert [n for b in batches for n in b[2]] == list(range(300)), "delivered once each, in order"
