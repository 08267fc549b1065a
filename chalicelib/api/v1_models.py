"""Request bodies of the /v1 integrator API that no staff route shares."""

from __future__ import annotations

from typing import Annotated, Literal

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


class CancelOrder(Strict):
    """Cancel a paid online order and refund this venue's part of its payment, within the venue's
    refund policy. The Idempotency-Key header makes a retry answer the first cancel and refund once."""

    reason: Literal["customer_request", "event_changed", "duplicate", "other"] = Field(
        default="customer_request", description="Why, for the venue's own records", examples=["customer_request"])


class OrderCancellation(Strict):
    """A cancelled order and where its money is: `refund_status` is `pending` until the payment
    provider has given it back (send the same request again to finish it), then `refunded`."""

    order_id: str
    status: Literal["cancelled"]
    cancelled_at: str | None = None
    refunded: int = Field(description="Cents given back so far (this venue's part of the payment)")
    refund_status: Literal["pending", "refunded"]
    currency: Literal["eur"] = "eur"
