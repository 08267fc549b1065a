"""The waiting room's rules as plain functions (chalicelib/domain/onsale.py):
no AWS, no clock."""

import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

from chalicelib.domain import onsale as rules, tokens

KEY = b"k" * 32


def line(*wants: int, start: int = 1) -> list[dict]:
    return [{"position": start + i, "quantity": q} for i, q in enumerate(wants)]


def test_admission_stops_where_the_places_left_no_longer_cover_what_admitted_buyers_asked():
    admitted = rules.admit(line(4, 4, 4, 1), available=10, outstanding_demand=0, outstanding_entries=0, budget=100)
    assert [e["position"] for e in admitted.admitted] == [1, 2, 3], \
        "the third gets the last 2 places; the buyer of 1 behind them does not skip ahead"
    assert admitted.demand == 12, "what they asked: the line's counters count requests, serving grants what is left"
    decisions, taken = rules.serve(admitted.admitted, available=10)
    assert [d.quantity for d in decisions] == [4, 4, 2] and taken == 10


def test_admission_counts_what_earlier_admitted_buyers_will_take():
    admitted = rules.admit(line(2, 2), available=5, outstanding_demand=4, outstanding_entries=2, budget=100)
    assert [e["position"] for e in admitted.admitted] == [1], \
        "the 1 place left after those being served goes to the next buyer at once; the one behind is not admitted"
    assert rules.admit(line(2), available=4, outstanding_demand=4, outstanding_entries=2, budget=100).admitted == []


def test_the_last_places_go_to_the_next_buyer_even_if_fewer_than_asked_and_nobody_skips_them():
    admitted = rules.admit(line(4, 1), available=3, outstanding_demand=0, outstanding_entries=0, budget=100)
    assert [e["position"] for e in admitted.admitted] == [1]
    decisions, taken = rules.serve(admitted.admitted, available=3)
    assert (decisions[0].quantity, decisions[0].partial, taken) == (3, True, 3)


def test_admission_keeps_to_the_rate_and_the_backlog():
    assert len(rules.admit(line(*[1] * 50), available=1000, outstanding_demand=0, outstanding_entries=0,
                           budget=20).admitted) == 20
    assert len(rules.admit(line(*[1] * 50), available=1000, outstanding_demand=0,
                           outstanding_entries=rules.MAX_ADMITTED_BACKLOG - 5, budget=20).admitted) == 5


def test_serving_in_line_order_never_takes_more_than_is_left():
    decisions, taken = rules.serve(line(2, 3, 2), available=4)
    assert [d.quantity for d in decisions] == [2, 2, 0]
    assert taken == 4 and not decisions[2].granted


def test_trimmed_tickets_keep_the_first_price_types():
    assert rules.trim([["normaal", 2], ["-26", 2]], 3) == [("normaal", 2), ("-26", 1)]


def test_the_pre_queue_is_ordered_by_the_draws_fixed_at_arrival():
    key = rules.new_draw_key()
    arrivals = [(rules.draw_for(key, f"entry{i}"), f"entry{i}") for i in range(200)]
    order = rules.draw_order(arrivals)
    assert sorted(order) == sorted(e for _, e in arrivals)
    assert order != [e for _, e in arrivals], "not arrival order"
    assert order == rules.draw_order(list(reversed(arrivals))), "the same draws give the same order"


def test_pre_queue_is_who_joined_before_opening_spread_over_lanes_by_entry():
    opens = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    assert rules.is_pre_queue(opens - timedelta(milliseconds=1), opens) and not rules.is_pre_queue(opens, opens)
    lanes = Counter(rules.pre_queue_lane(uuid.uuid4().hex) for _ in range(800))
    assert set(lanes) == set(range(rules.PRE_QUEUE_LANES)) and min(lanes.values()) > 50, lanes


def test_after_the_draw_later_arrivals_follow_the_whole_pre_queue():
    assert rules.line_position({"position": 7}, None) == 7, "a drawn place"
    assert rules.line_position({"seq": 3}, None) is None, "not known before the draw"
    assert rules.line_position({"seq": 3}, 120) == 123


def test_a_queue_token_is_bound_to_its_entry_buyer_and_expiry():
    token = tokens.queue_token(KEY, "entry1", "event1", "perf1", "buyer-a", 2_000)
    assert tokens.verify_queue_token(KEY, token, "buyer-a", 1_999) == ("entry1", "event1", "perf1")
    assert tokens.verify_queue_token(KEY, token, "buyer-b", 1_999) is None, "borrowed"
    assert tokens.verify_queue_token(KEY, token, "buyer-a", 2_000) is None, "expired"
    assert tokens.verify_queue_token(b"x" * 32, token, "buyer-a", 1_999) is None, "not ours"
    entry, event, perf, expires, mac = token.split(".")
    assert tokens.verify_queue_token(KEY, f"entry2.{event}.{perf}.{expires}.{mac}", "buyer-a", 1_999) is None, \
        "another entry"


def test_a_waiting_page_tells_its_turn_from_the_status_file_alone():
    key = rules.new_draw_key()
    early, late = "entry-early", "entry-late"
    ranked = sorted([early, late], key=lambda e: rules.draw_for(key, e))
    first, second = ({"pre_queue": True, "entry_id": e} for e in ranked)
    after = {"pre_queue": False, "entry_id": "entry-after", "sequence_number": "18000000000000000123"}
    line = {"open": True, "pre_count": 2, "draw_key": key, "serving": 1, "served_until": 1,
            "admitted_draw_until": rules.draw_for(key, ranked[0]), "served_draw_until": rules.draw_for(key, ranked[0]),
            "admitted_sequence_until": None, "served_sequence_until": None, "sold_out": False}
    assert rules.turn_known({**line, "open": False, "draw_key": None}, first) is None, "nothing before the draw"
    assert rules.turn_known(line, first) == "served", "ask for the result, once"
    assert rules.turn_known(line, second) is None, "still waiting"
    assert rules.turn_known({**line, "sold_out": True}, second) == "not_admitted"
    assert rules.turn_known({**line, "sold_out": True}, after) == "not_admitted"
    everyone_before = {**line, "serving": 3, "served_until": 2, "admitted_sequence_until": "18000000000000000123"}
    assert rules.turn_known({**everyone_before, "sold_out": True}, second) == "served"
    assert rules.turn_known({**everyone_before, "sold_out": True}, after) is None, "admitted: its result comes"
    assert rules.turn_known({**everyone_before, "served_sequence_until": "18000000000000000200"}, after) == "served"
