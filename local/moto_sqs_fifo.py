"""moto's FIFO queues, numbered and deduplicated as SQS does it.

moto 5.2 differs from SQS in three ways that matter to the waiting room
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

This patch keeps a per-queue record of deduplication ids for 5 minutes
(also making a send O(1) instead of a scan of every queued message) and hands
out increasing sequence numbers under one lock, in the order messages are
appended. Self-contained (moto only), so it could be offered upstream.
"""

from __future__ import annotations

import itertools
import threading
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
    _installed = True
