"""The local SQS numbers and deduplicates FIFO messages as SQS does
(local/moto_sqs_fifo.py): the waiting page relies on sequence numbers that
follow the queue's order, and the on-sale on repeats being dropped for 5
minutes even after the first copy was consumed."""

from __future__ import annotations

import threading
import uuid

import pytest


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
