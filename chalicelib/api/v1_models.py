"""Request bodies of the /v1 integrator API that no staff route shares."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from chalicelib.domain.door import DoorName
from chalicelib.domain.model import Id, Moment, Strict


class CheckIn(Strict):
    """Admit a ticket. The Idempotency-Key header makes a retry answer the first admission."""

    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] = Field(
        examples=["7KQ2M9XW3D-H4TPA"])
    performance_id: Id | None = Field(default=None, description="Only this performance; the ticket's own if absent")
    door: DoorName | None = Field(default=None, description="The entrance, shown in the check-in list", examples=["Hoofdingang"])
    scanned_at: Moment | None = Field(default=None, description="When it was scanned; now if absent")
