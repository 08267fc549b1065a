"""Domain rules, no AWS needed."""

import pytest
from pydantic import ValidationError

from chalicelib.domain import tickets
from chalicelib.domain.model import NewCheckout, NewHold, availability_of

KEY_A = b"a" * 32
KEY_B = b"b" * 32


def test_a_ticket_code_verifies_only_unchanged_and_only_at_its_own_venue():
    code = tickets.sign("concertzaal", tickets.new_ticket_id(), KEY_A)
    assert tickets.verify("concertzaal", code, KEY_A)
    assert tickets.verify("concertzaal", code.lower(), KEY_A), "scanners may lower-case codes"
    assert tickets.verify("cc-reien", code, KEY_A) is None
    assert tickets.verify("concertzaal", code, KEY_B) is None
    for position in range(len(code)):
        if code[position] == "-":
            continue
        changed = code[:position] + ("A" if code[position] != "A" else "B") + code[position + 1:]
        assert tickets.verify("concertzaal", changed, KEY_A) is None, f"changed character {position} accepted"


def test_customer_ids_differ_per_venue_so_venues_cannot_match_buyers():
    assert tickets.customer_id("An@Example.be", KEY_A) == tickets.customer_id("an@example.be ", KEY_A)
    assert tickets.customer_id("an@example.be", KEY_A) != tickets.customer_id("an@example.be", KEY_B)


@pytest.mark.parametrize("available, capacity, expected", [
    (100, 100, "available"), (11, 100, "available"), (10, 100, "few_left"), (1, 5, "few_left"), (0, 100, "sold_out")])
def test_catalogue_shows_availability_levels_not_stock(available, capacity, expected):
    assert availability_of(available, capacity).value == expected


def test_a_hold_is_limited_to_twenty_tickets_and_one_line_per_price_type():
    base = {"venue": "club-kaap", "event_id": "e1", "performance_id": "p1"}
    with pytest.raises(ValidationError, match="at most 20"):
        NewHold(**base, tickets=[{"price_type": "normaal", "quantity": 15}, {"price_type": "-26", "quantity": 6}])
    with pytest.raises(ValidationError, match="once"):
        NewHold(**base, tickets=[{"price_type": "normaal", "quantity": 1}, {"price_type": "normaal", "quantity": 1}])


def test_checkout_needs_a_real_email_and_distinct_holds():
    with pytest.raises(ValidationError) as error:
        NewCheckout(holds=[{"venue": "club-kaap", "hold_id": "h1"}, {"venue": "club-kaap", "hold_id": "h1"}],
                    buyer={"name": "An", "email": "not-an-email"})
    fields = {".".join(map(str, e["loc"])) for e in error.value.errors()}
    assert {"holds", "buyer.email"} <= fields


def test_a_reservation_takes_places_only_while_enough_are_left():
    import pytest

    from chalicelib.domain.model import Performance
    from chalicelib.errors import SoldOut

    performance = Performance(performance_id="p", event_id="e", starts_at="2027-01-01T20:00:00+01:00",
                              capacity=10, available=3)
    assert performance.reserve(3) == 0
    with pytest.raises(SoldOut) as refused:
        performance.reserve(4)
    assert "3" not in refused.value.detail and not refused.value.extensions, "no stock figure"


def test_buyer_sessions_are_recognised_only_with_the_servers_key():
    from chalicelib.domain import tokens

    key, other = b"k" * 32, b"o" * 32
    session = tokens.new_buyer_session(key)
    assert tokens.buyer_of(key, session) and tokens.buyer_of(key, session) == tokens.buyer_of(key, session)
    assert tokens.buyer_of(other, session) is None
    assert tokens.buyer_of(key, session[:-1] + ("A" if session[-1] != "A" else "B")) is None
    assert tokens.derived_id(key, "basket", "x") != tokens.derived_id(other, "basket", "x")
    assert tokens.basket_token(key, "x") == tokens.basket_token(key, "x") != tokens.basket_token(other, "x")
