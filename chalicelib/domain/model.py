"""Loket's domain: events, performances, price types, holds, orders, tickets.

Plain pydantic models and functions; nothing here knows about AWS, Stripe or
HTTP. Money is in euro cents (int) to avoid rounding.
"""

# No `from __future__ import annotations` here: pydantic would then compile
# every field's annotation string with eval() when a model class is created,
# which costs every cold start a few ms. Quote a forward reference instead.

from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator, model_validator

from chalicelib.errors import InvalidInput, SoldOut

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,30}$")]
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
PriceCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9+-]{1,20}$")]
Cents = Annotated[int, Field(ge=0, le=10_000_000)]

MAX_TICKETS_PER_HOLD = 20
# Places one buyer session may hold (held or being paid) per performance at once.
MAX_PLACES_PER_BUYER = 20
FEW_LEFT_FRACTION = 0.1


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Model(BaseModel):
    """Every Loket model builds its validator and serializer on first use, not
    when the module is imported: a cold start pays only for the models its
    request touches (docs/decisions.md, "Cold start")."""

    model_config = ConfigDict(defer_build=True)


class Strict(Model):
    model_config = ConfigDict(extra="forbid")


# Sales channels: the storefront and the API sell `online`; the venue's own
# counter sells `box-office` (docs/staff.md, "Sales channels").
Channel = Literal["online", "box-office"]
CHANNELS = ("online", "box-office")


class PriceType(Strict):
    """A venue's own price type (normaal, -26, 65+, ...), with its amount and
    the channels that sell it (a counter-only price is left out online)."""

    code: PriceCode
    label: Text
    amount: Cents
    channels: list[Channel] = Field(default_factory=lambda: list(CHANNELS), min_length=1, max_length=len(CHANNELS))

    def sold_on(self, channel: str) -> bool:
        return channel in self.channels


class Availability(StrEnum):
    AVAILABLE = "available"
    FEW_LEFT = "few_left"
    SOLD_OUT = "sold_out"


def availability_of(available: int, capacity: int) -> Availability:
    """What the public catalogue says, without exposing exact stock."""
    if available <= 0:
        return Availability.SOLD_OUT
    if available <= max(1, int(capacity * FEW_LEFT_FRACTION)):
        return Availability.FEW_LEFT
    return Availability.AVAILABLE


# -- the venue's public profile ------------------------------------------------------
LANGUAGES = ("nl", "fr", "en")  # Dutch first: the fallback for any text a venue gave only in Dutch
HexColour = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
WebAddress = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500, pattern=r"^https?://[^\s<>\"]+$")]
# An image the venue uploaded, as stored in the catalogue bucket (services/images.py).
ImageKey = Annotated[str, StringConstraints(pattern=r"^catalogue/images/[a-z0-9-]+/[A-Za-z0-9_-]+\.(png|jpg|webp)$")]
TicketText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]


class Address(Strict):
    street: Text
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$")]
    city: Text
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "BE"

    def one_line(self) -> str:
        return f"{self.street}, {self.postal_code} {self.city}" + ("" if self.country == "BE" else f", {self.country}")


class Colours(Strict):
    """The venue's brand colours; `on_primary` is the text colour on `primary`."""

    primary: HexColour = "#1d4ed8"
    on_primary: HexColour = "#ffffff"


class TicketTexts(Strict):
    """A short footer the venue prints on its tickets, per language."""

    nl: TicketText = ""
    fr: TicketText = ""
    en: TicketText = ""

    def in_language(self, language: str) -> str:
        return getattr(self, language, "") or self.nl if language in LANGUAGES else self.nl


class VenueProfile(Strict):
    """What a buyer sees of a venue: on the storefront, its tickets and its mails."""

    display_name: Text
    address: Address
    map_url: WebAddress | None = None
    logo_key: ImageKey | None = None
    colours: Colours = Field(default_factory=Colours)
    reply_to: EmailStr | None = None
    ticket_texts: TicketTexts = Field(default_factory=TicketTexts)
    website: WebAddress | None = None

    @model_validator(mode="before")
    @classmethod
    def derived_fields_are_read_only(cls, data):
        # GET answers with `map_link` (derived); a client may send that body back as it is.
        return {k: v for k, v in data.items() if k != "map_link"} if isinstance(data, dict) else data

    @property
    def map_link(self) -> str:
        """The venue's own map link, else an OpenStreetMap search for its address."""
        if self.map_url:
            return self.map_url
        from urllib.parse import quote

        return "https://www.openstreetmap.org/search?query=" + quote(
            f"{self.address.street}, {self.address.postal_code} {self.address.city}, {self.address.country}")


# Genres are codes the storefront translates and filters on; `category` stays
# the venue's own free label ("Pop/rock", "Kamermuziek").
GENRES = ("classical", "jazz", "pop-rock", "electronic", "world", "theatre", "dance", "comedy", "family", "tour",
          "festival", "other")
Genre = Literal[GENRES]


class EventTexts(Strict):
    """An event's title and description in one more language (Dutch is the event's own)."""

    title: Text
    description: LongText = ""


class EventImage(Strict):
    """An uploaded event picture, stored as `{key}-{width}.{format}` per width (services/images.py)."""

    key: Annotated[str, StringConstraints(pattern=r"^catalogue/images/[a-z0-9-]+/event-[0-9a-f]{20}$")]
    format: Literal["webp"]
    widths: list[Annotated[int, Field(ge=16, le=4000)]] = Field(min_length=1, max_length=6)
    width: Annotated[int, Field(ge=1, le=4000)]
    height: Annotated[int, Field(ge=1, le=20000)]


class NewEvent(Strict):
    title: Text
    description: LongText = ""
    hall: Text
    category: Annotated[str, StringConstraints(max_length=40)] = ""
    genre: Genre = "other"
    duration_minutes: Annotated[int, Field(ge=1, le=24 * 60)] | None = None
    # Age advice: "from N years" (0 = for everyone).
    age_advice: Annotated[int, Field(ge=0, le=21)] | None = None
    translations: dict[Literal["fr", "en"], EventTexts] = Field(default_factory=dict)
    price_types: list[PriceType] = Field(min_length=1, max_length=20)

    @field_validator("price_types")
    @classmethod
    def unique_codes(cls, value: list[PriceType]) -> list[PriceType]:
        codes = [p.code for p in value]
        if len(set(codes)) != len(codes):
            raise ValueError("price type codes must be unique")
        return value


class Event(NewEvent):
    model_config = ConfigDict(extra="ignore")
    event_id: Id
    venue: Slug
    published: bool = False
    created_at: datetime
    image: EventImage | None = None
    # Set when first published: a draft (never published) is the only event that may be deleted.
    first_published_at: datetime | None = None
    # A cancelled event sells nothing more; the catalogue shows it as cancelled (docs/staff.md).
    cancelled_at: datetime | None = None

    def price(self, code: str, channel: str | None = None) -> PriceType | None:
        """The price type `code`; with `channel`, only if that channel sells it."""
        return next((p for p in self.price_types if p.code == code and (channel is None or p.sold_on(channel))), None)

    def prices_on(self, channel: str) -> list[PriceType]:
        return [p for p in self.price_types if p.sold_on(channel)]


def _with_time_zone(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone, e.g. 2026-12-31T20:00:00+01:00")
    return value


# A moment a person means: "20:00" without a zone is refused rather than guessed.
Moment = Annotated[datetime, AfterValidator(_with_time_zone)]


class NewPerformance(Strict):
    starts_at: Moment
    capacity: Annotated[int, Field(ge=1, le=100_000)]
    hall: Text | None = None  # this date's hall, when not the event's own
    # Places kept for the counter: online sales stop while this many are left;
    # the box office sells every place.
    box_office_quota: Annotated[int, Field(ge=0, le=100_000)] = 0

    @model_validator(mode="after")
    def quota_within_capacity(self) -> "NewPerformance":
        if self.box_office_quota > self.capacity:
            raise ValueError("box_office_quota cannot be more than the capacity")
        return self


class OnSaleSettings(Strict):
    """A high-demand on-sale (docs/onsale.md): the performance sells only
    through the waiting room from `opens_at`, admitting buyers at
    `admit_per_second`, each asking for at most `max_tickets_per_buyer`."""

    opens_at: Moment
    admit_per_second: Annotated[int, Field(ge=1, le=2_000)] = 50
    max_tickets_per_buyer: Annotated[int, Field(ge=1, le=MAX_TICKETS_PER_HOLD)] = 4


class Performance(NewPerformance):
    model_config = ConfigDict(extra="ignore")
    performance_id: Id
    event_id: Id
    available: int
    onsale: OnSaleSettings | None = None
    cancelled_at: datetime | None = None

    @property
    def taken(self) -> int:
        """Places sold or held (in a basket or being paid)."""
        return self.capacity - self.available

    @property
    def availability(self) -> Availability:
        """What the public (online) sees: the places kept for the counter are not on sale there."""
        return availability_of(self.available - self.box_office_quota, self.capacity - self.box_office_quota)

    @property
    def online_available(self) -> int:
        """Places online buyers (and the waiting room) may still take."""
        return max(0, self.available - self.box_office_quota)

    def kept_from(self, channel: str) -> int:
        """Places a sale on `channel` must leave: the counter's quota, for online sales."""
        return self.box_office_quota if channel == "online" else 0

    def reserve(self, quantity: int, channel: str = "online") -> int:
        """The sale rule: a reservation takes places only while enough are
        left for its channel. Returns what is left after it. The store makes
        the change atomic and refuses it if a concurrent sale got there first."""
        if quantity > self.available - self.kept_from(channel):
            # No stock figure in the answer: it would tell competitors and bots the exact count.
            raise SoldOut("Not enough places are left for this performance.")
        return self.available - quantity


class TicketRequest(Strict):
    price_type: PriceCode
    quantity: Annotated[int, Field(ge=1, le=MAX_TICKETS_PER_HOLD)]


class NewHold(Strict):
    venue: Slug
    event_id: Id
    performance_id: Id
    tickets: list[TicketRequest] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def bounded(self) -> "NewHold":
        if sum(t.quantity for t in self.tickets) > MAX_TICKETS_PER_HOLD:
            raise ValueError(f"at most {MAX_TICKETS_PER_HOLD} tickets per reservation")
        if len({t.price_type for t in self.tickets}) != len(self.tickets):
            raise ValueError("list each price type once")
        return self


class HoldLine(Model):
    price_type: str
    label: str
    quantity: int
    unit_amount: int


class HoldStatus(StrEnum):
    HELD = "held"
    CHECKOUT = "checkout"
    SOLD = "sold"
    RELEASED = "released"


class Hold(Model):
    hold_id: str
    venue: str
    event_id: str
    performance_id: str
    event_title: str
    starts_at: datetime
    lines: list[HoldLine]
    status: HoldStatus
    expires_at: datetime
    order_id: str | None = None
    # Hash of the buyer session that made the hold: only that session may
    # see, cancel or check it out.
    buyer: str | None = None
    channel: Channel = "online"

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def total(self) -> int:
        return sum(line.quantity * line.unit_amount for line in self.lines)

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at <= now


def price_hold(event: Event, request: NewHold, channel: str = "online") -> list[HoldLine]:
    """Price each requested line with the venue's own price types for this
    channel (a counter-only price type does not exist online)."""
    lines = []
    for wanted in request.tickets:
        price = event.price(wanted.price_type, channel)
        if price is None:
            raise InvalidInput(
                f"Price type '{wanted.price_type}' does not exist for this event.",
                errors=[{"field": "tickets.price_type", "message": "unknown price type", "code": "unknown_price_type"}],
            )
        lines.append(HoldLine(price_type=price.code, label=price.label, quantity=wanted.quantity, unit_amount=price.amount))
    return lines


def hold_expiry(now: datetime, minutes: int) -> datetime:
    return now + timedelta(minutes=minutes)


class Buyer(Strict):
    name: Text
    email: EmailStr

    @field_validator("email")
    @classmethod
    def normalise(cls, value: str) -> str:
        return value.strip().lower()


class HoldRef(Strict):
    venue: Slug
    hold_id: Id


class NewCheckout(Strict):
    holds: list[HoldRef] = Field(min_length=1, max_length=20)
    buyer: Buyer
    locale: Annotated[str, StringConstraints(pattern=r"^(nl|fr|en)$")] = "nl"

    @field_validator("holds")
    @classmethod
    def distinct(cls, value: list[HoldRef]) -> list[HoldRef]:
        if len({(h.venue, h.hold_id) for h in value}) != len(value):
            raise ValueError("each reservation may appear once")
        return value


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # cancelled (counter, lead or API key): its tickets are refused at the door


class Order(Model):
    order_id: str
    venue: str
    basket_id: str
    hold_ids: list[str]
    lines: list[dict]
    total: int
    status: OrderStatus
    customer_id: str
    created_at: datetime
    paid_at: datetime | None = None
    transfer_id: str | None = None
    transfer_attempt: int = 0
    language: str = "nl"  # the buyer's, from checkout: their confirmation mail speaks it
    channel: Channel = "online"
    cancelled_at: datetime | None = None
    # A cancelled order's money: "pending" from the cancel until Stripe has refunded it
    # (services/order_cancellation.py), "refunded" once given back.
    refund_status: Literal["pending", "refunded"] | None = None


class Ticket(Model):
    ticket_id: str
    code: str
    venue: str
    order_id: str
    event_id: str
    performance_id: str
    event_title: str
    starts_at: datetime
    price_type: str
    label: str
    amount: int
    checked_in_at: datetime | None = None


class BasketStatus(StrEnum):
    OPEN = "open"
    # Paid at Stripe; some venue's order, tickets or payout is not finished yet
    # (the reconciler finishes it).
    SETTLING = "settling"
    PAID = "paid"
    EXPIRED = "expired"
    PAYMENT_FAILED = "payment_failed"

