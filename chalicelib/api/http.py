"""The HTTP edge shared by the blueprints: the route gate, problem+json,
body parsing with limits, staff auth.

The route gate
--------------
Every route is registered with `route()`, which declares who may call it:

    @route(staff, "/venues/{venue}/orders", methods=["GET"], venue_access="lead")
    def list_orders(venue, *, store, caller): ...

`venue_access` is required on every route whose path has `{venue}`:

  "lead"          the venue's ticketing lead. The view gets `store` (that venue's
                  store, on that venue's own IAM role) and `caller` (the verified
                  `identity.Staff`).
  "clerk"         any staff member of the venue (clerk or lead): `store`, `caller`.
  "public"        buyers, no sign-in; the venue must be active. With `{venue}` in
                  the path the view gets `store`; without it (the venues come
                  from the body or the basket) it gets `stores`, a callable
                  venue -> store that opens only active venues (404 otherwise).
  "network-admin" network administrators; the view gets `caller`, never a store:
                  the network manages the registry, not the venues' customers.
  "api-key"       a venue's integration, `Authorization: Bearer lk_...` (docs/integrations.md);
                  the route also declares the one scope it needs, e.g.
                  `route(bp, "/v1/venues/{venue}/webhooks", venue_access="api-key", scope="webhooks:manage")`.
                  The view gets `store` (on the venue's own role) and `caller` (an
                  `ApiKeyCaller`: key_id, venue, scopes). A key of another venue gets the
                  404 of a missing venue; a revoked key 401; a key without the scope 403;
                  too many requests 429 with Retry-After.

Staff are checked from the verified id token in this one place: anyone who is
not staff of the route's venue gets the same 404 as for a venue that does not
exist (a 403 would confirm it exists); a clerk on a lead route gets 403. The
gate is the only code under api/ that builds a venue store
(tests/test_isolation.py checks every route and every api module).

Cold start: this module imports only what every route needs. The sale
service and staff identity are imported by the gate when a route first needs
them, pydantic's model machinery by the models (docs/decisions.md, "Cold
start").
"""

from __future__ import annotations

import functools
import json
import re
import sys
import uuid
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from chalice import Response
from pydantic_core import ValidationError  # what pydantic.ValidationError is, without loading pydantic's models

from chalicelib import bootstrap
from chalicelib.errors import (
    Forbidden,
    InternalError,
    MalformedRequest,
    MethodNotAllowed,
    NestingTooDeep,
    NoSuchRoute,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    Problem,
    ServiceMisconfigured,
    UnsupportedMediaType,
    validation_problem,
)
from chalicelib.observability import logger
from chalicelib.settings import ConfigurationError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from chalicelib.adapters import identity

M = TypeVar("M", bound="BaseModel")
PROBLEM_JSON = "application/problem+json"

VENUE_ACCESS = ("lead", "clerk", "public", "network-admin", "api-key")
STAFF_ACCESS = ("lead", "clerk")

# Bodies are small JSON objects (a reservation, a checkout, an event): anything
# bigger or deeper is refused before it is parsed.
MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32


NO_SUCH_ROUTE_DETAIL = "There is no such address or method in the Loket API. Check the path and the method."


def problem_body(problem: Problem, request_id: str | None, path: str | None) -> str:
    body = problem.to_dict(instance=path)
    if request_id:
        body["request_id"] = request_id
    return json.dumps(body)


def problem_response(problem: Problem, request_id: str | None, path: str | None,
                     headers: dict[str, str] | None = None) -> Response:
    all_headers = {**(headers or {}), "Content-Type": PROBLEM_JSON}
    if problem.status == 401:
        all_headers["WWW-Authenticate"] = 'Bearer realm="loket"'
    if "retry_after" in problem.extensions:
        all_headers["Retry-After"] = str(problem.extensions["retry_after"])
    return Response(body=problem_body(problem, request_id, path), status_code=problem.status, headers=all_headers)


# -- the route gate --------------------------------------------------------------------
def _check_declaration(path: str, venue_access: str | None, scope: str | None = None) -> None:
    if (venue_access == "api-key") != (scope is not None):
        raise ValueError(f"{path}: an api-key route declares exactly one scope=, and only an api-key route does")
    if scope is not None and not re.fullmatch(r"[a-z]+:[a-z]+", scope):  # tests/test_api_keys.py: one of SCOPES
        raise ValueError(f"{path}: scope {scope!r} is not a scope name")
    if venue_access == "api-key" and "{venue}" not in path:
        raise ValueError(f"{path}: venue_access='api-key' needs {{venue}} in the path")
    if venue_access is not None and venue_access not in VENUE_ACCESS:
        raise ValueError(f"{path}: venue_access must be one of {VENUE_ACCESS}, not {venue_access!r}")
    if "{venue}" in path and venue_access is None:
        raise ValueError(f"{path}: a route with {{venue}} must declare venue_access= one of {VENUE_ACCESS}")
    if venue_access in STAFF_ACCESS and "{venue}" not in path:
        raise ValueError(f"{path}: venue_access={venue_access!r} needs {{venue}} in the path")


def _active(venue: str) -> None:
    from chalicelib.services import sales

    sales.active_venue(bootstrap.network(), venue)  # unknown or not active: 404 before any credentials


def _active_venue_store(venue: str):
    """What a public route without {venue} gets as `stores`."""
    _active(venue)
    return bootstrap._venue_store(venue)


def _admit(venue_access: str | None, request: Any, venue: str | None, scope: str | None = None) -> dict[str, Any]:
    """Check the caller for the route and return what the view is handed."""
    if venue_access is None:
        return {}
    if venue_access == "api-key":
        caller = api_key_caller(request, venue or "", scope or "")
        _active(venue or "")
        return {"caller": caller, "store": bootstrap._venue_store(venue or "")}
    if venue_access == "network-admin":
        return {"caller": network_admin(request)}
    if venue_access in STAFF_ACCESS:
        caller = venue_staff(request, venue or "", lead=venue_access == "lead")
        _active(venue or "")
        return {"caller": caller, "store": bootstrap._venue_store(venue or "")}
    if venue is None:
        return {"stores": _active_venue_store}
    return {"store": _active_venue_store(venue)}


def route(blueprint: Any, path: str, *, venue_access: str | None = None, scope: str | None = None,
          **options: Any) -> Callable:
    """Register a view behind the gate (see the module docstring); its
    errors become problem+json. (Chalice turns view exceptions into its own
    500 before any middleware could see them.)"""
    _check_declaration(path, venue_access, scope)

    def register(view: Callable) -> Callable:
        @functools.wraps(view)
        def handled(**params: Any) -> Any:
            request = blueprint.current_request
            # API Gateway gives every request an id; chalice local and the test
            # client do not, and a lead needs one to quote (as below, line ~323).
            request_id = (request.context or {}).get("requestId") or str(uuid.uuid4())
            granted: dict[str, Any] = {}
            try:
                granted = _admit(venue_access, request, params.get("venue"), scope)
                return view(**params, **granted)
            except Problem as problem:
                logger.info("request refused", extra={"problem": problem.slug, "status": problem.status, "route": path})
                return problem_response(problem, request_id, request.path)
            except ConfigurationError as error:
                logger.error("not configured", extra={"route": path, "configuration": str(error)})
                return problem_response(ServiceMisconfigured("Loket cannot do this until it is configured; the "
                                                             "operators have been told. Try again later."),
                                        request_id, request.path)
            except Exception as error:
                logger.exception("unhandled error", extra={"route": path})
                if hasattr(granted.get("store"), "table"):  # a venue's request: its lead sees the id (/health)
                    from chalicelib.services import venue_health

                    venue_health.record_failure(granted["store"], request_id=request_id, route=path, error=error)
                return problem_response(InternalError("Something went wrong on our side. Quote the request id "
                                                      "when you report it."), request_id, path)

        handled.venue_access = venue_access  # read by tests/test_isolation.py
        handled.scope = scope  # read by tests/test_api_keys.py's scope matrix and the OpenAPI description
        return blueprint.route(path, **options)(handled)

    return register


# -- responses and bodies --------------------------------------------------------------
def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, default=str), status_code=status,
                    headers={"Content-Type": "application/json", **(headers or {})})


@functools.cache
def _json_scanners() -> tuple[re.Pattern, re.Pattern]:
    """(JSON string, bracket), compiled when the first body is parsed, not at import."""
    return re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL), re.compile(r"[\[\]{}]")


def _too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON `text` nests objects/arrays deeper than `limit`, counted
    without parsing (json.loads recurses and raises RecursionError on deep
    input). Brackets inside strings do not count."""
    json_string, json_bracket = _json_scanners()
    depth = 0
    for bracket in json_bracket.finditer(json_string.sub('""', text)):
        if bracket.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def parse(request: Any, model: type[M]) -> M:
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The body is {len(raw)} bytes; at most {MAX_BODY_BYTES} bytes are accepted.",
                              max_bytes=MAX_BODY_BYTES)
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as error:
        raise MalformedRequest("The body is not valid UTF-8 JSON.") from error
    if _too_deep(text):
        raise NestingTooDeep(f"The body nests objects or arrays more than {MAX_JSON_DEPTH} levels deep.",
                             max_depth=MAX_JSON_DEPTH)
    try:
        data = json.loads(text) if text.strip() else None
    except (ValueError, RecursionError) as error:
        raise MalformedRequest("The body is not valid JSON.") from error
    if not isinstance(data, dict):
        raise MalformedRequest("The body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise validation_problem(error) from error


def header(request: Any, name: str) -> str | None:
    return {k.lower(): v for k, v in (request.headers or {}).items()}.get(name.lower())


# -- who is calling --------------------------------------------------------------------
def staff(request: Any) -> identity.Staff:
    from chalicelib.adapters import identity

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


def api_key_caller(request: Any, venue: str, scope: str):
    """A venue's integration, by its API key (services/api_keys.py)."""
    from chalicelib.services import api_keys

    value = header(request, "authorization") or ""
    scheme, _, secret = value.partition(" ")
    if scheme.lower() != "bearer" or not secret:
        raise NotAuthenticated("Send your venue's API key as 'Authorization: Bearer lk_...'.")
    return api_keys.authenticate(bootstrap.network(), secret.strip(), venue, scope)


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


# -- answers the framework gives before any view runs ----------------------------------
def framework_problems(event: Any, get_response: Callable) -> Response:
    """HTTP middleware: Chalice's own error answers (415 for a Content-Type a
    route does not accept, 405 for a method a path does not have, its 500 and
    400) are `{"Code", "Message"}` JSON; rewrite them as problem+json with a
    stable type. Nothing ran, so nothing was written."""
    response = get_response(event)
    body = response.body
    if not (isinstance(body, dict) and set(body) == {"Code", "Message"}):
        return response
    status = response.status_code
    method = getattr(event, "method", "")
    if status == 415:
        content_type = header(event, "content-type") or ""
        problem: Problem = UnsupportedMediaType(f"This address accepts application/json bodies, not "
                                                f"{content_type!r}.")
    elif status == 405:
        allowed = response.headers.get("Allow", "")
        problem = MethodNotAllowed(f"{method} is not allowed here; allowed: {allowed}.", allowed=allowed.split(", "))
    elif status == 400:
        problem = MalformedRequest(str(body.get("Message", "Bad request.")))
    elif status >= 500:
        problem = InternalError("Something went wrong on our side. Quote the request id when you report it.")
    else:
        problem = Problem(str(body.get("Message", "")))
        problem.status = status
    request_id = ((getattr(event, "context", None) or {}).get("requestId"))
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
    return problem_response(problem, request_id, getattr(event, "path", None), headers)


def mirror_gateway_responses_locally() -> None:
    """On `chalice local` and in `chalice.test.Client`, answer an unknown
    path as the deployed API does (local/deploy.py configures API Gateway's
    MISSING_AUTHENTICATION_TOKEN gateway response): 404 problem+json, instead
    of API Gateway's 403 "Missing Authentication Token" / "Authorization
    header requires 'Credential'". Never called inside Lambda.

    chalice.local (and with it http.server) is not imported for this: it is
    patched now if `chalice local` or the test client already imported it,
    else as soon as one of them does. So `import app` outside Lambda (as
    `make bench` measures the cold start, issue 10) does not load a module
    that only local serving uses and Lambda never imports."""
    local = sys.modules.get("chalice.local")
    if local is not None:
        _mirror_gateway_responses(local)
    elif not any(isinstance(finder, _PatchChaliceLocalOnImport) for finder in sys.meta_path):
        sys.meta_path = [_PatchChaliceLocalOnImport(), *sys.meta_path]


class _PatchChaliceLocalOnImport:
    """An import hook (`sys.meta_path` finder) for chalice.local only: the
    module is found and loaded as usual, then patched before anyone uses it."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "chalice.local":
            return None
        from importlib.util import find_spec

        # Out of the way first (find_spec below asks the finders again); a new
        # list, as another thread may be going through the current one.
        sys.meta_path = [finder for finder in sys.meta_path if finder is not self]
        spec = find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            load(module)
            _mirror_gateway_responses(module)

        spec.loader.exec_module = exec_module
        return spec


def _mirror_gateway_responses(local: Any) -> None:
    if getattr(local.LocalGateway, "_loket_gateway_responses", False):
        return
    original = local.LocalGateway.handle_request

    def handle_request(self, method, path, headers, body):  # noqa: ANN001 - chalice's signature
        try:
            return original(self, method, path, headers, body)
        except local.ForbiddenError as error:
            if error.headers.get("x-amzn-ErrorType") != "UnauthorizedException":
                raise
            request_id = error.headers.get("x-amzn-RequestId") or str(uuid.uuid4())
            return {"statusCode": 404, "multiValueHeaders": {},
                    "headers": {"Content-Type": PROBLEM_JSON, "x-amzn-RequestId": request_id},
                    "body": problem_body(NoSuchRoute(NO_SUCH_ROUTE_DETAIL), request_id, path.split("?")[0])}

    local.LocalGateway.handle_request = handle_request
    local.LocalGateway._loket_gateway_responses = True
