"""The box office's rules, plain Python: a counter sale, its payment, the
cash drawer of a clerk's shift, the end-of-day report and the refund policy.

Money in euro cents. Nothing here knows about AWS, Stripe or HTTP
(services/box_office.py runs these rules; docs/staff.md, "Box office").
"""

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import EmailStr, Field, StringConstraints, field_validator, model_validator

from chalicelib.domain.model import Cents, Id, Strict, Text, TicketRequest
from chalicelib.errors import InvalidInput, RefundNotAllowed

PaymentMethod = Literal["cash", "card", "payment-link"]
PAYMENT_METHODS = ("cash", "card", "payment-link")
# Shifts, sales and refunds are counted on the venue's own day.
VENUE_TIME_ZONE = "Europe/Brussels"


class CounterSale(Strict):
    """What the clerk sends for one sale: one performance, quantities per price
    type, how it is paid, and optionally who bought it (for the mail)."""

    event_id: Id
    performance_id: Id
    tickets: list[TicketRequest] = Field(min_length=1, max_length=10)
    method: PaymentMethod
    tendered: Cents | None = None  # cash handed over
    terminal_reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    buyer_name: Text | None = None
    buyer_email: EmailStr | None = None
    language: Annotated[str, StringConstraints(pattern=r"^(nl|fr|en)$")] = "nl"

    @field_validator("buyer_email")
    @classmethod
    def normalise(cls, value: str | None) -> str | None:
        return value.strip().lower() if value else value

    @model_validator(mode="after")
    def payment_link_needs_an_address(self) -> "CounterSale":
        if self.method == "payment-link" and not self.buyer_email:
            raise ValueError("a payment link is sent to the buyer: give their e-mail address")
        return self


def change_due(total: int, method: str, tendered: int | None) -> int:
    """Cash: what the clerk hands back; refused when too little was handed over."""
    if method != "cash":
        return 0
    if tendered is None:
        return 0  # exact amount
    if tendered < total:
        raise InvalidInput("The amount received is less than the total.",
                           errors=[{"field": "tendered", "message": "less than the total", "code": "tendered_too_little"}])
    return tendered - total


class CounterMail(Strict):
    """The address the buyer gives at the counter for their tickets."""

    email: EmailStr
    name: Text | None = None
    language: Annotated[str, StringConstraints(pattern=r"^(nl|fr|en)$")] = "nl"


class OpenShift(Strict):
    float: Cents  # the cash in the drawer at the start


class CloseShift(Strict):
    counted: Cents  # the cash the clerk counted at the end


class RefundPolicy(Strict):
    """The venue's counter refund rule: a paid order may be cancelled and
    refunded until `hours_before` hours before its (first) performance.
    Set by the lead; 24 hours unless changed."""

    hours_before: Annotated[int, Field(ge=0, le=24 * 60)] = 24

    def check(self, starts_at: datetime, now: datetime) -> None:
        if now > starts_at - timedelta(hours=self.hours_before):
            raise RefundNotAllowed(f"This venue refunds until {self.hours_before} hours before the performance.",
                                   hours_before=self.hours_before)


def drawer(float_cents: int, moves: list[dict[str, Any]]) -> dict[str, int]:
    """The drawer's cash: the float plus cash sales less cash refunds."""
    cash_in = sum(m["amount"] for m in moves if m["method"] == "cash" and m["amount"] > 0)
    cash_out = -sum(m["amount"] for m in moves if m["method"] == "cash" and m["amount"] < 0)
    return {"float": float_cents, "cash_sales": cash_in, "cash_refunds": cash_out,
            "expected": float_cents + cash_in - cash_out}


def day_report(shifts: list[dict[str, Any]], moves: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals per payment method and per clerk (sales, refunds, net), and each shift's drawer."""
    per_method: dict[str, dict[str, int]] = {m: {"sales": 0, "refunds": 0, "net": 0, "orders": 0}
                                             for m in PAYMENT_METHODS}
    per_clerk: dict[str, dict[str, int]] = defaultdict(lambda: {"sales": 0, "refunds": 0, "net": 0, "orders": 0})
    for move in moves:
        for bucket in (per_method[move["method"]], per_clerk[move["clerk"]]):
            if move["amount"] >= 0:
                bucket["sales"] += move["amount"]
                bucket["orders"] += 1
            else:
                bucket["refunds"] -= move["amount"]
            bucket["net"] += move["amount"]
    by_shift: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for move in moves:
        by_shift[move["shift_id"]].append(move)
    drawers = []
    for shift in shifts:
        counted = shift.get("counted")
        cash = drawer(shift["float"], by_shift.get(shift["shift_id"], []))
        drawers.append({"shift_id": shift["shift_id"], "clerk": shift["clerk"], "opened_at": shift["opened_at"],
                        "closed_at": shift.get("closed_at"), **cash, "counted": counted,
                        "difference": None if counted is None else counted - cash["expected"]})
    return {"per_method": per_method, "per_clerk": dict(per_clerk), "shifts": drawers,
            "total": sum(m["amount"] for m in moves)}
