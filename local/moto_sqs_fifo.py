"""moto's FIFO queues, numbered, deduplicated and delivered as SQS does it.

moto 5.2 differs from SQS in four ways that matter to the waiting room
(docs/onsale.md), and each is kinder or looser than AWS:

- `SequenceNumber` is 20 random digits. SQS's increases with the order in
  which a message group accepted its messages; the waiting page compares its
  join's number with the status file's to know whether its turn has come.
- Deduplication looks only at messages still in the queue: once the first
  copy was received and deleted, a repeat within the 5-minute window is
  delivered again. SQS remembers the id for 5 minutes either way, and with
  `DeduplicationScope: messageGroup` (our queues) per message group, where
  moto always deduplicates across the whole queue.
- A repeat gets a fresh MessageId and SequenceNumber. SQS accepts it and
  answers with the first message's.
- A message group can be delivered to two consumers at once. A receive
  notes the groups in flight when it starts and keeps that note through its
  long poll, so a consumer that started waiting while the group was idle
  takes its next messages while another consumer still holds the first
  ones; two receives side by side can do the same. SQS never hands out a
  group's messages while earlier ones of that group are in flight: that is
  what keeps a FIFO group in order. Seen as 1-3 overlapping batches in 100
  (four long-polling consumers, one group), and as waiting-room arrivals
  numbered out of order.

This patch keeps a per-queue record of deduplication ids for 5 minutes
(also making a send O(1) instead of a scan of every queued message), hands
out increasing sequence numbers under one lock, in the order messages are
appended, and makes each pass of a FIFO receive one step under the queue's
own lock, looking at the groups in flight at that moment; the long poll
waits between passes, outside the lock. Self-contained (moto only), so it
could be offered upstream.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

DEDUPLICATION_MS = 5 * 60 * 1000
# 20 digits, like SQS's; increasing across every queue (so within each group).
_sequence = itertools.count(18_000_000_000_000_000_000)
_lock = threading.Lock()
_installed = False


def _scope(queue: Any, message: Any) -> tuple[str | None, str]:
    per_group = queue.attributes.get("DeduplicationScope") == "messageGroup"
    return (message.group_id if per_group else None, message.deduplication_id)


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.sqs import models

    original_add = models.Queue.add_message

    def add_message(self, message):  # noqa: ANN001 - moto's signature
        if not self.fifo_queue or not message.deduplication_id:
            return original_add(self, message)
        with _lock:
            seen: dict[tuple[str | None, str], tuple[int, str, str]] = self.__dict__.setdefault("_dedup_seen", {})
            now = message.sent_timestamp
            first = seen.get(_scope(self, message))
            if first and now - first[0] < DEDUPLICATION_MS:
                message.id, message.sequence_number = first[1], first[2]  # accepted, not delivered
                return None
            if len(seen) > 50_000:  # forget what is past its window
                for scope in [s for s, (at, _, _) in seen.items() if now - at >= DEDUPLICATION_MS]:
                    del seen[scope]
            message.sequence_number = f"{next(_sequence):020d}"
            seen[_scope(self, message)] = (now, message.id, message.sequence_number)
            dedup, message.deduplication_id = message.deduplication_id, None
            try:  # moto's own scan would only repeat the check above, over every queued message
                return original_add(self, message)
            finally:
                message.deduplication_id = dedup

    models.Queue.add_message = add_message

    original_receive = models.SQSBackend.receive_message

    def receive_message(self, queue_name, count, wait_seconds_timeout, visibility_timeout,  # noqa: ANN001
                        message_attribute_names=None):
        queue = self.get_queue(queue_name)
        if not queue.fifo_queue:
            return original_receive(self, queue_name, count, wait_seconds_timeout, visibility_timeout,
                                    message_attribute_names)
        receive_lock = queue.__dict__.setdefault("_receive_lock", threading.Lock())
        ends = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            with receive_lock:  # one pass: the groups in flight now, not when the poll began
                result = original_receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            left = ends - time.monotonic()
            if result or left <= 0:
                return result
            if queue.messages:  # visible, but all in groups in flight: look again shortly
                time.sleep(min(0.05, left))
            else:  # nothing visible: wake when a message is sent
                queue.wait_for_messages(min(1.0, left))

    models.SQSBackend.receive_message = receive_message
    _installed = True
