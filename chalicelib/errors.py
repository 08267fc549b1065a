"""Problems a caller can act on, rendered as RFC 9457 problem+json.

Domain and service code raise these; the HTTP edge turns them into responses
with a stable `type` URI, so clients branch on `type`, never on `detail`.
"""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "https://loket.dev/problems/"


class Problem(Exception):
    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


class InternalError(Problem):
    status, slug, title = 500, "internal-error", "Internal error"


class InvalidInput(Problem):
    status, slug, title = 422, "validation-error", "Your request is not valid"


class MalformedRequest(Problem):
    status, slug, title = 400, "malformed-request", "The request body could not be read"


class NotAuthenticated(Problem):
    status, slug, title = 401, "not-authenticated", "Sign in first"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "You may not do this"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflicts with the current state"


class OffboardingNotPrepared(Problem):
    status, slug, title = 428, "offboarding-not-confirmed", "Export the venue and confirm before offboarding"


class SoldOut(Conflict):
    slug, title = "sold-out", "Not enough places left"


class RefundNotAllowed(Conflict):
    slug, title = "refund-not-allowed", "The venue's refund policy does not allow this refund"


class TillNotOpen(Conflict):
    slug, title = "till-not-open", "Open your cash drawer first"


class TillAlreadyOpen(Conflict):
    slug, title = "till-already-open", "Your cash drawer is already open"


class TooManyPlaces(Conflict):
    slug, title = "too-many-places", "You already hold the most places allowed"


class HoldExpired(Conflict):
    slug, title = "hold-expired", "Your reservation has expired"


class PerformanceStarted(Conflict):
    slug, title = "performance-started", "The performance has already started"


class WaitingRoomOnly(Conflict):
    slug, title = "waiting-room-only", "Sold through the waiting room only"


class EventCancelled(Conflict):
    slug, title = "event-cancelled", "This event or performance is cancelled"


class CapacityBelowTaken(Conflict):
    slug, title = "capacity-below-taken", "The capacity cannot be lower than the places sold and held"


class NotADraft(Conflict):
    slug, title = "not-a-draft", "Only an event that was never published can be deleted"


class PlacesTaken(Conflict):
    slug, title = "places-taken", "Places of this performance are sold or held"


class IdempotencyKeyReused(Problem):
    status, slug, title = 422, "idempotency-key-reused", "Idempotency-Key was used for a different request"


class PaymentProviderUnavailable(Problem):
    status, slug, title = 502, "payment-provider-unavailable", "The payment provider did not answer"


class ServiceBusy(Problem):
    """Contention that retries did not resolve: nothing was changed, and the
    same request may be sent again."""

    status, slug, title = 503, "busy", "Too busy right now"

    def __init__(self, detail: str, retry_after: int = 2, **extensions: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extensions)


class TooManyRequests(Problem):
    """A rate limit: nothing was done; the same request may be sent after `retry_after` seconds."""

    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, detail: str, retry_after: int, **extensions: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extensions)


# -- "my tickets" links (services/my_tickets.py) ------------------------------------
class LinkInvalid(Problem):
    status, slug, title = 400, "link-invalid", "This is not a valid link"


class LinkExpired(Problem):
    status, slug, title = 410, "link-expired", "This link has expired"


class LinkUsed(Problem):
    status, slug, title = 410, "link-used", "This link was already used"


class MyTicketsSessionExpired(NotAuthenticated):
    slug, title = "my-tickets-session-expired", "Ask for a new link"


class InvalidSignature(Problem):
    status, slug, title = 400, "invalid-signature", "Signature verification failed"


# -- what the HTTP edge itself answers ------------------------------------------
class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "The request body is too large"


class NestingTooDeep(Problem):
    status, slug, title = 400, "nesting-too-deep", "The request body is nested too deeply"


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", "Unsupported Content-Type"


class MethodNotAllowed(Problem):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class NoSuchRoute(Problem):
    status, slug, title = 404, "no-such-route", "There is no such address"


class ServiceMisconfigured(Problem):
    status, slug, title = 503, "service-misconfigured", "Loket is not configured to do this right now"


def validation_problem(exc: Any) -> InvalidInput:
    """Turn a pydantic ValidationError into one problem with per-field errors."""
    errors = [
        {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "message": err["msg"], "code": err["type"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]
    fields = ", ".join(e["field"] for e in errors)
    return InvalidInput(f"Check these fields: {fields}.", errors=errors)
