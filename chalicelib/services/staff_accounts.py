"""A lead manages the venue's own staff accounts (Cognito): list, change
role, disable and enable. Only accounts that are staff of this venue and of
nothing else: another venue's staff, a person who works for two venues and
the network admins are out of a lead's reach (docs/staff.md)."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import identity
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.observability import logger


def team(venue: str) -> list[dict[str, Any]]:
    return identity.venue_staff_accounts(venue)


def _own_staff(venue: str, username: str) -> list[str]:
    """The account's groups, if it is this venue's staff; 404 as for an unknown account otherwise."""
    try:
        groups = identity.groups_of(username)
    except Exception as error:  # Cognito's UserNotFoundException: an unknown name
        if type(error).__name__ != "UserNotFoundException":
            raise
        groups = []
    own = {identity.venue_group(venue, role) for role in identity.ROLES}
    if not own & set(groups):
        raise NotFound(f"There is no staff account '{username}' at this venue.")
    if set(groups) - own:
        raise Forbidden("This account also works elsewhere in the network; ask the network administrator to change it.")
    return groups


def change(venue: str, caller: identity.Staff, username: str, *, role: str | None, enabled: bool | None) -> dict:
    _own_staff(venue, username)
    if username == caller.username and (enabled is False or role not in (None, "lead")):
        raise Conflict("You cannot take away your own access; ask another lead.")
    if role is not None:
        identity.set_venue_role(username, venue, role)
    if enabled is not None:
        identity.set_enabled(username, enabled)
    logger.info("staff account changed", extra={"venue": venue, "role": role, "enabled": enabled})
    return next((a for a in team(venue) if a["username"] == username), {"username": username})
