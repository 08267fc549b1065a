"""The venue's audit log: who read buyers' personal data, when and why.

Entries live in the venue's own table (written on the venue's own role, like
the data they are about) and carry ids only: the staff member's username and
role, the action, the ids of what was read, the route and the purpose. Never
a name, an e-mail address or a ticket code: an audit log must not become a
second copy of the personal data it guards. `record` refuses anything else.

Staff views write the entry *before* they show the data, so a read that could
not be recorded is not shown.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, Protocol

# What an entry may point at: ids, and the one setting value staff can change.
SUBJECT_KEYS = {"order_id", "order_ids", "customer_ids", "ticket_id", "event_id", "performance_id", "basket_id",
                "clerks_see_buyer"}


class AuditStore(Protocol):
    def put_audit_entry(self, entry: dict[str, Any]) -> None: ...

    def list_audit_entries(self, limit: int = 100) -> list[dict[str, Any]]: ...


def _plain_id(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, str):
        return "@" not in value and " " not in value and len(value) <= 128
    if isinstance(value, list):
        return len(value) <= 500 and all(isinstance(v, str) and _plain_id(v) for v in value)
    return False


def record(store: AuditStore, *, actor: str, role: str, action: str, subject: dict[str, Any], route: str,
           purpose: str, request_id: str | None = None, at: datetime | None = None) -> dict[str, Any]:
    """Write one entry; returns it. Raises ValueError for a subject that is not ids."""
    unknown = set(subject) - SUBJECT_KEYS
    if unknown or not all(_plain_id(v) for v in subject.values()):
        raise ValueError(f"audit subjects are ids only; refused {sorted(unknown) or 'a value'}")
    moment = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    entry = {"entry_id": uuid.uuid4().hex, "at": moment.isoformat(), "actor": actor, "role": role,
             "action": action, "subject": subject, "route": route, "purpose": purpose}
    if request_id:
        entry["request_id"] = request_id
    store.put_audit_entry(entry)
    return entry


def entries(store: AuditStore, limit: int = 100) -> list[dict[str, Any]]:
    """The newest entries first."""
    return store.list_audit_entries(limit=max(1, min(limit, 500)))
