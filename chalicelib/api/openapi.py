"""The OpenAPI 3.1 description of the integrator API, built from the app's
routes (every `api-key` route and the lead's key management) and the pydantic
models named in `DESCRIBED` below.

Chalice's own generator writes Swagger 2.0 and chalice-spec breaks on
pydantic v2, so the schemas come from pydantic's `models_json_schema` with
`ref_template="#/components/schemas/{model}"`. Loaded only by the view that
serves `/openapi.json` and by `make run`, never at import of the app.

The webhook engineer's part: routes registered through the gate appear by
themselves; describe their bodies in `DESCRIBED` and the event payloads in
`webhook_events` (name -> pydantic model), which become the spec's `webhooks`.
"""

from __future__ import annotations

from typing import Any

PROBLEM = {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
    "type": {"type": "string", "format": "uri", "examples": ["https://loket.dev/problems/not-found"]},
    "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
    "instance": {"type": "string"}, "request_id": {"type": "string"},
    "errors": {"type": "array", "items": {"type": "object"}}}}
ANY_OBJECT = {"type": "object", "additionalProperties": True}
ANY_JSON: dict[str, Any] = {}  # a route nobody described yet: its answer is JSON


def _list_of(ref: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["data"], "properties": {
        "data": {"type": "array", "items": ref}, "next": {"type": ["string", "null"]}}}


def _models() -> dict[str, Any]:
    from chalicelib.api.v1_models import CancelOrder, CheckIn, OrderCancellation
    from chalicelib.domain.api_keys import ApiKey, NewApiKey, NewSecret, Rotation
    from chalicelib.domain.model import Event, NewEvent, NewPerformance, Performance, Ticket
    from chalicelib.domain.webhooks import OPENAPI_MODELS as webhook_models

    return {**webhook_models, "Event": Event, "Performance": Performance, "Ticket": Ticket, "CheckIn": CheckIn,
            "CancelOrder": CancelOrder, "OrderCancellation": OrderCancellation,
            "NewEvent": NewEvent, "NewPerformance": NewPerformance, "NewApiKey": NewApiKey, "Rotation": Rotation, "ApiKey": ApiKey, "NewSecret": NewSecret}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


# (method, path) -> summary, request model, response schema, status. Routes not named here are still
# described (from the gate's declaration), with a free-form object answer.
DESCRIBED: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/v1/venues/{venue}/events"): {"summary": "The venue's events", "response": _list_of(_ref("Event"))},
    ("GET", "/v1/venues/{venue}/events/{event_id}"): {
        "summary": "An event with its prices and performances (availability included)",
        "response": {"allOf": [_ref("Event"), {"type": "object", "properties": {
            "performances": {"type": "array", "items": _ref("Performance")}}}]}},
    ("POST", "/v1/venues/{venue}/events"): {
        "summary": "Make a draft event (Idempotency-Key required; a repeat answers the first)",
        "request": "NewEvent", "response": _ref("Event"), "status": "201",
        "request_example": {"title": "Strijkkwartet Rubio", "hall": "Grote zaal", "genre": "classical",
                            "price_types": [{"code": "normaal", "label": "Normaal", "amount": 2500},
                                            {"code": "-26", "label": "-26", "amount": 1500}]}},
    ("POST", "/v1/venues/{venue}/events/{event_id}/performances"): {
        "summary": "Add a performance (Idempotency-Key required; a repeat answers the first)",
        "request": "NewPerformance", "response": _ref("Performance"), "status": "201",
        "request_example": {"starts_at": "2027-03-14T20:00:00+01:00", "capacity": 450}},
    ("GET", "/v1/venues/{venue}/orders"): {
        "summary": "Orders, newest first (filters: status, event; cursor pagination). status=refunded: "
                   "cancelled with the refund done; status=cancelled includes those",
        "query": {"status": {"type": "string", "enum": ["pending", "paid", "cancelled", "expired", "refunded"]},
                  "event": {"type": "string"}, "cursor": {"type": "string"},
                  "limit": {"type": "integer", "minimum": 1, "maximum": 100}},
        "response": _list_of(ANY_OBJECT)},
    ("GET", "/v1/venues/{venue}/orders/{order_id}"): {"summary": "An order with its tickets (no buyer)",
                                                     "response": ANY_OBJECT},
    ("POST", "/v1/venues/{venue}/orders/{order_id}/cancel"): {
        "summary": "Cancel a paid online order and refund this venue's part (Idempotency-Key required)",
        "request": "CancelOrder", "response": _ref("OrderCancellation"), "status": "200",
        "request_example": {"reason": "customer_request"},
        "example": {"order_id": "ord_7d3c…", "status": "cancelled", "cancelled_at": "2027-03-01T10:15:00+00:00",
                    "refunded": 5000, "refund_status": "refunded", "currency": "eur"}},
    ("GET", "/v1/venues/{venue}/sales"): {
        "summary": "Sales per performance: sold, held, available, revenue by price type and channel (no buyers)",
        "response": _list_of(ANY_OBJECT)},
    ("GET", "/v1/venues/{venue}/customers"): {"summary": "The venue's own customers (each read is audited)",
                                              "response": _list_of(ANY_OBJECT)},
    ("POST", "/v1/venues/{venue}/check-ins"): {"summary": "Admit a ticket at the door (Idempotency-Key required)",
                                               "request": "CheckIn", "response": ANY_OBJECT},
    ("GET", "/venues/{venue}/api-keys"): {"summary": "The venue's API keys (the lead; never a secret)",
                                          "response": {"type": "array", "items": _ref("ApiKey")}},
    ("DELETE", "/venues/{venue}/api-keys/{key_id}"): {"summary": "Revoke a key: refused from the next request on",
                                                      "response": _ref("ApiKey")},
    ("POST", "/venues/{venue}/api-keys"): {"summary": "Make an API key (the lead; the secret is shown once)",
                                           "request": "NewApiKey", "response": _ref("NewSecret"), "status": "201",
                                           "example": {"key_id": "key_3f2a9c1d0b7e6a55", "label": "Website agenda",
                                                       "scopes": ["catalogue:read"], "prefix": "lk_test_",
                                                       "secret": "lk_test_…", "active": True}},
    ("POST", "/venues/{venue}/api-keys/{key_id}/rotate"): {"summary": "Rotate a key (old one works for the overlap)",
                                                           "request": "Rotation", "response": _ref("NewSecret"),
                                                           "status": "201"},
}

# The lead's own integration routes (signed in as staff), described with the key routes.
LEAD_INTEGRATION_PATHS = ("/venues/{venue}/api-keys", "/venues/{venue}/webhooks")

# The webhook routes (lead and webhooks:manage) and event type -> pydantic model of its payload.
from chalicelib.domain.webhooks import WEBHOOK_EVENTS as webhook_events, openapi_routes  # noqa: E402

DESCRIBED.update(openapi_routes())


def _described_routes(app: Any):
    for path, methods in sorted(app.routes.items()):
        for method, entry in sorted(methods.items()):
            access = getattr(entry.view_function, "venue_access", None)
            if access == "api-key" or path.startswith(LEAD_INTEGRATION_PATHS):
                yield method, path, access, getattr(entry.view_function, "scope", None), entry.view_function


def build(app: Any, server_url: str = "/api") -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema

    models = _models()
    payloads = {f"Webhook_{name.replace('.', '_')}": model for name, model in webhook_events.items()}
    _, schemas = models_json_schema([(m, "serialization") for m in [*models.values(), *payloads.values()]],
                                    ref_template="#/components/schemas/{model}")
    components = {**schemas.get("$defs", {}), "Problem": PROBLEM}
    paths: dict[str, Any] = {}
    for method, path, access, scope, view in _described_routes(app):
        info = DESCRIBED.get((method, path), {})
        status = info.get("status", "201" if method == "POST" and "request" in info else "200")
        parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                      for name in _path_names(path)]
        parameters += [{"name": name, "in": "query", "required": False, "schema": schema}
                       for name, schema in info.get("query", {}).items()]
        if method == "POST" and access == "api-key":
            parameters.append({"name": "Idempotency-Key", "in": "header", "required": True,
                               "schema": {"type": "string", "minLength": 8, "maxLength": 255}})
        success: dict[str, Any] = {"description": "OK", "content": {"application/json": {
            "schema": info.get("response", ANY_JSON)}}}
        if "example" in info:
            success["content"]["application/json"]["example"] = info["example"]
        problem = {"description": "A problem (RFC 9457)",
                   "content": {"application/problem+json": {"schema": _ref("Problem")}}}
        operation: dict[str, Any] = {
            "operationId": view.__name__, "summary": info.get("summary", (view.__doc__ or view.__name__).split("\n")[0]),
            "parameters": parameters, "responses": {status: success, "4XX": problem},
            "security": [{"apiKey": []}] if access == "api-key" else [{"staffToken": []}]}
        if scope:
            operation["x-required-scope"] = scope
            operation["description"] = f"Needs an API key with the scope `{scope}`."
        if "request" in info:
            body_content: dict[str, Any] = {"schema": _ref(info["request"])}
            if "request_example" in info:
                body_content["example"] = info["request_example"]
            operation["requestBody"] = {"required": info["request"] not in ("Rotation", "CancelOrder"),
                                        "content": {"application/json": body_content}}
        operation["tags"] = [_tag(path)]
        paths.setdefault(path, {})[method.lower()] = operation
    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Loket integrations API", "version": "1",
                 "description": "A venue's own API: events, orders, customers and check-in of that venue only, "
                                "with the venue's API key. Money is integer cents with its currency; times are "
                                "ISO 8601 with an offset; errors are RFC 9457 problem+json."},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {
            "apiKey": {"type": "http", "scheme": "bearer", "bearerFormat": "lk_live_… / lk_test_…",
                       "description": "A venue's API key, made by its lead at /venues/{venue}/api-keys."},
            "staffToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "The lead's id token from POST /staff/session."}}},
    }
    if payloads:
        spec["webhooks"] = {name: {"post": {"requestBody": {"content": {"application/json": {"schema": _ref(ref)}}},
                                            "responses": {"2XX": {"description": "Received"}}}}
                            for (name, ref) in zip(webhook_events, payloads)}
    return spec


def _tag(path: str) -> str:
    """Redoc's sections: what the path is about (events, orders, api-keys, webhooks...)."""
    segments = [s for s in path.split("/") if s and s not in ("v1", "venues", "{venue}")]
    return segments[0].replace("-", " ").capitalize() if segments else "Other"


def _path_names(path: str) -> list[str]:
    import re

    return re.findall(r"\{(\w+)\}", path)
