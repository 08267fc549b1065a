"""Sales channels as plain domain rules (no AWS): a price type sold only at
the counter, and places a performance keeps for the counter."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from chalicelib.domain.model import Event, NewHold, NewPerformance, Performance, price_hold
from chalicelib.errors import InvalidInput, SoldOut

SOON = datetime.now(timezone.utc) + timedelta(days=3)


def _event() -> Event:
    return Event(event_id="e1", venue="cc-reien", title="Kassa-avond", hall="Zaal", created_at=SOON,
                 price_types=[{"code": "normaal", "label": "Normaal", "amount": 2000},
                              {"code": "kassa", "label": "Aan de kassa", "amount": 1500, "channels": ["box-office"]}])


def _performance(available: int = 100, quota: int = 10) -> Performance:
    return Performance(performance_id="p1", event_id="e1", starts_at=SOON, capacity=100, available=available,
                       box_office_quota=quota)


def _request(code: str, quantity: int = 1) -> NewHold:
    return NewHold(venue="cc-reien", event_id="e1", performance_id="p1",
                   tickets=[{"price_type": code, "quantity": quantity}])


def test_a_counter_only_price_type_does_not_exist_online():
    event = _event()
    with pytest.raises(InvalidInput):
        price_hold(event, _request("kassa"))
    assert price_hold(event, _request("kassa"), "box-office")[0].unit_amount == 1500
    assert [p.code for p in event.prices_on("online")] == ["normaal"]
    assert [p.code for p in event.prices_on("box-office")] == ["normaal", "kassa"]


def test_the_counters_quota_is_not_sold_online_but_the_counter_sells_every_place():
    performance = _performance(available=12, quota=10)
    assert performance.reserve(2) == 10
    with pytest.raises(SoldOut):
        performance.reserve(3)
    assert performance.reserve(12, "box-office") == 0
    assert _performance(available=10, quota=10).availability == "sold_out"  # online: nothing left for buyers
    assert (_performance(available=12, quota=10).online_available, _performance(available=5, quota=10).online_available) == (2, 0)


def test_a_quota_larger_than_the_hall_is_refused():
    with pytest.raises(ValidationError):
        NewPerformance(starts_at=SOON, capacity=10, box_office_quota=11)
