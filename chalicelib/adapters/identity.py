"""Staff identity on Cognito: sign-in, token verification, staff accounts.

Groups carry the rights: `network-admin`, `venue-{slug}-lead`,
`venue-{slug}-clerk`. A token is verified against the pool's JWKS (RS256),
issuer and app client before any group is believed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from chalicelib.adapters import aws
from chalicelib.errors import Conflict, InvalidInput, NotAuthenticated
from chalicelib.observability import logger
from chalicelib.settings import get_settings

NETWORK_ADMIN = "network-admin"
ROLES = ("lead", "clerk")


def venue_group(venue: str, role: str) -> str:
    return f"venue-{venue}-{role}"


@dataclass(frozen=True)
class Staff:
    username: str
    groups: frozenset[str]

    @property
    def is_network_admin(self) -> bool:
        return NETWORK_ADMIN in self.groups

    def role_at(self, venue: str) -> str | None:
        for role in ROLES:
            if venue_group(venue, role) in self.groups:
                return role
        return None

    @property
    def venues(self) -> dict[str, str]:
        found = {}
        for group in self.groups:
            for role in ROLES:
                if group.startswith("venue-") and group.endswith(f"-{role}"):
                    found[group[len("venue-"):-len(role) - 1]] = role
        return found


@lru_cache(maxsize=1)
def _jwks():
    import jwt

    return jwt.PyJWKClient(get_settings().cognito_jwks_url, cache_keys=True, lifespan=3600)


def verify(token: str) -> Staff:
    import jwt

    settings = get_settings()
    try:
        signing_key = _jwks().get_signing_key_from_jwt(token)
        claims = jwt.decode(token, signing_key.key, algorithms=["RS256"], audience=settings.user_pool_client_id,
                            issuer=settings.cognito_issuer, options={"require": ["exp", "iss", "sub"]})
    except jwt.PyJWTError as error:
        raise NotAuthenticated("Your sign-in is not valid or has expired. Sign in again.") from error
    if claims.get("token_use") != "id":
        raise NotAuthenticated("Use the id token from sign-in.")
    return Staff(username=claims.get("cognito:username", claims["sub"]), groups=frozenset(claims.get("cognito:groups", [])))


def sign_in(username: str, password: str) -> dict[str, Any]:
    cognito = aws.client("cognito-idp")
    try:
        result = cognito.initiate_auth(ClientId=get_settings().user_pool_client_id, AuthFlow="USER_PASSWORD_AUTH",
                                       AuthParameters={"USERNAME": username, "PASSWORD": password})
    except (cognito.exceptions.NotAuthorizedException, cognito.exceptions.UserNotFoundException) as error:
        raise NotAuthenticated("Wrong username or password.") from error
    tokens = result["AuthenticationResult"]
    return {"id_token": tokens["IdToken"], "expires_in": tokens["ExpiresIn"]}


# The staff pool's password policy, mirrored here so a password is checked
# before an account is created. The pool's own definitions are in
# infra/platform.yaml (UserPool) and local/stack.py (`_user_pool`);
# tests/test_http_edge.py fails if the three disagree. (Reading it with
# DescribeUserPool would need one more permission for the API's role.)
PASSWORD_POLICY = {"MinimumLength": 12, "RequireLowercase": True, "RequireNumbers": True,
                   "RequireUppercase": False, "RequireSymbols": False}
_COGNITO_SYMBOLS = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")


def password_problems(password: str, policy: dict[str, Any] = PASSWORD_POLICY) -> list[str]:
    """What `password` lacks under Cognito's password policy (empty: acceptable)."""
    problems = []
    if len(password) < policy["MinimumLength"]:
        problems.append(f"at least {policy['MinimumLength']} characters")
    if policy.get("RequireLowercase") and not any(c.islower() for c in password):
        problems.append("a lowercase letter")
    if policy.get("RequireUppercase") and not any(c.isupper() for c in password):
        problems.append("an uppercase letter")
    if policy.get("RequireNumbers") and not any(c.isdigit() for c in password):
        problems.append("a digit")
    if policy.get("RequireSymbols") and not any(c in _COGNITO_SYMBOLS for c in password):
        problems.append("a symbol")
    return problems


def _password_refused(detail: str) -> InvalidInput:
    return InvalidInput(f"Choose another password: {detail}.",
                        errors=[{"field": "password", "message": detail, "code": "password_policy"}])


def create_staff(username: str, password: str, groups: list[str], *, client: Any = None,
                 pool_id: str | None = None) -> None:
    """Create a staff account, or nothing: the password is checked against the
    pool's policy first, and if Cognito still refuses it (or a group) after the
    user was created, the user is deleted again so the name is not burned."""
    lacking = password_problems(password)
    if lacking:
        raise _password_refused("it needs " + ", ".join(lacking))
    cognito = client or aws.client("cognito-idp")
    pool = pool_id or get_settings().user_pool_id
    try:
        cognito.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS")
    except cognito.exceptions.UsernameExistsException:
        raise Conflict(f"A staff account '{username}' already exists.")
    try:
        cognito.admin_set_user_password(UserPoolId=pool, Username=username, Password=password, Permanent=True)
        for group in groups:
            cognito.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=group)
    except Exception as error:
        _delete_half_created(cognito, pool, username)
        if isinstance(error, cognito.exceptions.InvalidPasswordException):
            raise _password_refused("the staff sign-in service does not accept it "
                                    f"({error.response['Error'].get('Message', 'password policy')})") from error
        raise


def _delete_half_created(cognito: Any, pool: str, username: str) -> None:
    try:
        cognito.admin_delete_user(UserPoolId=pool, Username=username)
    except Exception:  # the original error matters more; the name stays taken
        logger.exception("could not roll back a half-created staff account")


def ensure_group(name: str, *, client: Any = None, pool_id: str | None = None) -> None:
    cognito = client or aws.client("cognito-idp")
    try:
        cognito.create_group(UserPoolId=pool_id or get_settings().user_pool_id, GroupName=name)
    except cognito.exceptions.GroupExistsException:
        pass


def delete_group(name: str) -> None:
    cognito = aws.client("cognito-idp")
    try:
        cognito.delete_group(UserPoolId=get_settings().user_pool_id, GroupName=name)
    except cognito.exceptions.ResourceNotFoundException:
        pass


# -- a venue's own staff accounts (the lead's team page; services/staff_accounts.py) -------
def venue_staff_accounts(venue: str, *, client: Any = None, pool_id: str | None = None) -> list[dict[str, Any]]:
    """The venue's leads and clerks: username, role, enabled. Nothing else of
    the account (no e-mail, no other venues' groups)."""
    cognito = client or aws.client("cognito-idp")
    pool = pool_id or get_settings().user_pool_id
    accounts: dict[str, dict[str, Any]] = {}
    for role in ROLES:
        for page in cognito.get_paginator("list_users_in_group").paginate(UserPoolId=pool,
                                                                         GroupName=venue_group(venue, role)):
            for user in page.get("Users", []):
                # a lead listed in both groups counts as lead (role_at's order)
                accounts.setdefault(user["Username"], {"username": user["Username"], "role": role,
                                                       "enabled": bool(user.get("Enabled", True))})
    return sorted(accounts.values(), key=lambda a: a["username"])


def groups_of(username: str, *, client: Any = None, pool_id: str | None = None) -> list[str]:
    cognito = client or aws.client("cognito-idp")
    pool = pool_id or get_settings().user_pool_id
    groups: list[str] = []
    for page in cognito.get_paginator("admin_list_groups_for_user").paginate(UserPoolId=pool, Username=username):
        groups.extend(g["GroupName"] for g in page.get("Groups", []))
    return groups


def set_venue_role(username: str, venue: str, role: str, *, client: Any = None, pool_id: str | None = None) -> None:
    """Into the venue's group for `role` first, then out of the other: never a moment without access."""
    cognito = client or aws.client("cognito-idp")
    pool = pool_id or get_settings().user_pool_id
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=venue_group(venue, role))
    for other in ROLES:
        if other != role:
            cognito.admin_remove_user_from_group(UserPoolId=pool, Username=username,
                                                 GroupName=venue_group(venue, other))


def set_enabled(username: str, enabled: bool, *, client: Any = None, pool_id: str | None = None) -> None:
    """Disabled: the account can no longer sign in (a token already issued lasts until it expires)."""
    cognito = client or aws.client("cognito-idp")
    pool = pool_id or get_settings().user_pool_id
    if enabled:
        cognito.admin_enable_user(UserPoolId=pool, Username=username)
    else:
        cognito.admin_disable_user(UserPoolId=pool, Username=username)
