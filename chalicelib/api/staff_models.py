"""Request bodies of the staff API (api/staff.py), imported by the views that
parse them, so a cold start does not build pydantic model classes for routes
it may never serve (docs/decisions.md, "Cold start")."""

from __future__ import annotations

from typing import Annotated

from pydantic import StrictBool, StringConstraints

from chalicelib.domain.door import DoorName, Nonce
from chalicelib.domain.model import Id, Moment, Strict


class SignIn(Strict):
    username: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class TicketCheck(Strict):
    """A ticket check; with `performance_id` a door scan (api/door.py, domain/door.py)."""

    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    check_in: bool = False
    performance_id: Id | None = None
    door: DoorName | None = None
    nonce: Nonce | None = None
    scanned_at: Moment | None = None


class NewStaff(Strict):
    username: Annotated[str, StringConstraints(pattern=r"^[a-z0-9._-]{3,64}$")]
    password: Annotated[str, StringConstraints(min_length=12, max_length=256)]
    role: Annotated[str, StringConstraints(pattern=r"^(lead|clerk)$")] = "clerk"


class PrivacySettings(Strict):
    clerks_see_buyer: StrictBool


class StaffChange(Strict):
    """A lead's change to an account of the own venue: a role, enabled or not (or both)."""

    role: Annotated[str, StringConstraints(pattern=r"^(lead|clerk)$")] | None = None
    enabled: StrictBool | None = None
