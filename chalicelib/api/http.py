"""HTTP helpers shared by the blueprints: problem+json, body parsing, staff auth."""

from __future__ import annotations

import functools
import json
from typing import Any, Callable, TypeVar

from chalice import Response
from pydantic import BaseModel, ValidationError

from chalicelib.adapters import identity
from chalicelib.errors import (
    Forbidden,
    InternalError,
    MalformedRequest,
    NotAuthenticated,
    NotFound,
    Problem,
    validation_problem,
)
from chalicelib.observability import logger

M = TypeVar("M", bound=BaseModel)
PROBLEM_JSON = "application/problem+json"


def problem_response(problem: Problem, request_id: str | None, path: str | None) -> Response:
    body = problem.to_dict(instance=path)
    if request_id:
        body["request_id"] = request_id
    headers = {"Content-Type": PROBLEM_JSON}
    if problem.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="loket"'
    return Response(body=json.dumps(body), status_code=problem.status, headers=headers)


def route(blueprint: Any, path: str, **options: Any) -> Callable:
    """Register a view whose errors become problem+json. (Chalice turns view
    exceptions into its own 500 before any middleware could see them.)"""

    def register(view: Callable) -> Callable:
        @functools.wraps(view)
        def handled(*args: Any, **kwargs: Any) -> Any:
            request = blueprint.current_request
            request_id = (request.context or {}).get("requestId")
            try:
                return view(*args, **kwargs)
            except Problem as problem:
                logger.info("request refused", extra={"problem": problem.slug, "status": problem.status, "route": path})
                return problem_response(problem, request_id, request.path)
            except Exception:
                logger.exception("unhandled error", extra={"route": path})
                return problem_response(InternalError("Something went wrong on our side. Quote the request id "
                                                      "when you report it."), request_id, path)

        return blueprint.route(path, **options)(handled)

    return register


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, default=str), status_code=status,
                    headers={"Content-Type": "application/json", **(headers or {})})


def parse(request: Any, model: type[M]) -> M:
    raw = request.raw_body or b""
    try:
        data = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedRequest("The body is not valid JSON.") from error
    if not isinstance(data, dict):
        raise MalformedRequest("The body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise validation_problem(error) from error


def header(request: Any, name: str) -> str | None:
    return {k.lower(): v for k, v in (request.headers or {}).items()}.get(name.lower())


def staff(request: Any) -> identity.Staff:
    value = header(request, "authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("Send your id token as 'Authorization: Bearer <token>'.")
    return identity.verify(token.strip())


def venue_staff(request: Any, venue: str, *, lead: bool = False) -> identity.Staff:
    """Staff of `venue`. For anyone else the venue does not exist: answering 403
    would tell them it does."""
    who = staff(request)
    role = who.role_at(venue)
    if role is None:
        raise NotFound(f"There is no venue '{venue}'.")
    if lead and role != "lead":
        raise Forbidden("Only the venue's ticketing lead may do this.")
    return who


def network_admin(request: Any) -> identity.Staff:
    who = staff(request)
    if not who.is_network_admin:
        raise Forbidden("Only network administrators may do this.")
    return who


def idempotency_key(request: Any, *, required: bool, min_length: int = 8) -> str | None:
    key = header(request, "idempotency-key")
    if key is not None and not (min_length <= len(key) <= 255):
        raise MalformedRequest(f"Idempotency-Key must be {min_length} to 255 characters; use a random UUID.")
    if required and not key:
        raise MalformedRequest("Send an Idempotency-Key header (a fresh random UUID per checkout) so a retry "
                               "never creates a second order.")
    return key
