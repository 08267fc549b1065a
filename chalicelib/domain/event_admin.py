"""The lead's rules for changing events and performances, and the sales
overview's sums. Plain Python: the adapter only makes each change atomic
(its conditions guard races, they do not carry these rules)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

from chalicelib.domain.model import Event, Performance
from chalicelib.errors import CapacityBelowTaken, NotADraft, PlacesTaken

ONLINE = "online"


def check_capacity(performance: Performance, capacity: int) -> int:
    """The change of `available` for a new capacity; never below the places sold and held."""
    if capacity < performance.taken:
        raise CapacityBelowTaken(
            f"{performance.taken} places of this performance are sold or held; the capacity cannot be lower.",
            taken=performance.taken,
            errors=[{"field": "capacity", "message": "below the places sold and held", "code": "capacity_below_taken"}])
    return capacity - performance.capacity


def check_deletable(event: Event, performances: Iterable[Performance]) -> None:
    """Only a draft goes: never published (buyers may have seen or bookmarked it), nothing sold or held."""
    if event.published or event.first_published_at is not None:
        raise NotADraft("This event was published; unpublish or cancel it instead of deleting it.")
    for performance in performances:
        check_removable(performance)


def check_removable(performance: Performance) -> None:
    if performance.taken:
        raise PlacesTaken(f"{performance.taken} places of this performance are sold or held; cancel it instead.",
                          taken=performance.taken)


def sales_overview(performances: Iterable[tuple[Event, Performance]], holds: Iterable[dict[str, Any]]) -> list[dict]:
    """Per performance: places sold, held (in a basket or being paid) and
    still available, and the revenue of what was sold by price type and by
    sales channel, in cents. `holds` are the venue's hold items (event and
    performance ids, status, lines, channel)."""
    sold: dict[str, int] = defaultdict(int)
    held: dict[str, int] = defaultdict(int)
    by_price: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    by_channel: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    for hold in holds:
        performance_id = hold.get("performance_id", "")
        quantity = sum(int(line["quantity"]) for line in hold.get("lines", []))
        if hold.get("status") in ("held", "checkout"):
            held[performance_id] += quantity
        elif hold.get("status") == "sold":
            sold[performance_id] += quantity
            channel = by_channel[performance_id].setdefault(hold.get("channel") or ONLINE,
                                                            {"quantity": 0, "revenue": 0})
            for line in hold.get("lines", []):
                amount = int(line["quantity"]) * int(line["unit_amount"])
                price = by_price[performance_id].setdefault(line["price_type"], {
                    "price_type": line["price_type"], "label": line.get("label", line["price_type"]),
                    "quantity": 0, "revenue": 0})
                price["quantity"] += int(line["quantity"])
                price["revenue"] += amount
                channel["quantity"] += int(line["quantity"])
                channel["revenue"] += amount
    lines = []
    for event, performance in performances:
        pid = performance.performance_id
        lines.append({
            "event_id": event.event_id, "title": event.title, "performance_id": pid,
            "starts_at": performance.starts_at.isoformat(), "hall": performance.hall or event.hall,
            "cancelled": bool(event.cancelled_at or performance.cancelled_at), "published": event.published,
            "capacity": performance.capacity, "available": performance.available,
            "sold": sold[pid], "held": held[pid],
            "revenue": sum(p["revenue"] for p in by_price[pid].values()),
            "by_price_type": sorted(by_price[pid].values(), key=lambda p: p["price_type"]),
            "by_channel": [{"channel": name, **figures} for name, figures in sorted(by_channel[pid].items())],
        })
    return sorted(lines, key=lambda line: line["starts_at"])


def order_matches(order: dict[str, Any], query: str) -> bool:
    """An order number (its start will do), or part of the buyer's name or e-mail, in any case."""
    wanted = query.strip().lower()
    if not wanted:
        return True
    buyer = order.get("buyer") or {}
    return (order.get("order_id", "").lower().startswith(wanted) or wanted in str(buyer.get("name", "")).lower()
            or wanted in str(buyer.get("email", "")).lower())
