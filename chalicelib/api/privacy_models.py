"""Request bodies of the privacy API (api/privacy.py), imported by the views
that parse them (docs/decisions.md, "Cold start")."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import EmailStr, Field, StrictBool, StringConstraints, field_validator

from chalicelib.domain import privacy as rules
from chalicelib.domain.model import Strict

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
TextVersion = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._-]{1,40}$")]


class PersonRequest(Strict):
    """The person a lead exports or erases, named by the address they bought with."""
    email: EmailStr

    @field_validator("email")
    @classmethod
    def normalise(cls, value: str) -> str:
        return value.strip().lower()


class ErasureRequest(PersonRequest):
    confirm: Literal[True] = Field(description="true: the lead confirms this person's data is to be anonymised")
    reason: Reason = "request of the person"


class BuyerErasure(Strict):
    confirm: Literal[True]


class RetentionChoice(Strict):
    months: int = Field(ge=1, le=1200, description=f"{rules.MIN_MONTHS} to {rules.MAX_MONTHS}, the network's bounds")


class RetentionRun(Strict):
    dry_run: StrictBool = True


class Consent(Strict):
    marketing: StrictBool
    text_version: TextVersion
