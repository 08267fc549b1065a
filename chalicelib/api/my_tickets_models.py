"""Request bodies of "my tickets" (api/my_tickets.py), imported by the views
that parse them, not at cold start (docs/decisions.md, "Cold start")."""

from __future__ import annotations

from typing import Annotated

from pydantic import EmailStr, StringConstraints, field_validator

from chalicelib.domain.model import Strict


class LinkRequest(Strict):
    email: EmailStr
    language: Annotated[str, StringConstraints(pattern=r"^(nl|fr|en)$")] = "nl"

    @field_validator("email")
    @classmethod
    def normalise(cls, value: str) -> str:
        return value.strip().lower()


class OpenLink(Strict):
    link: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)]
