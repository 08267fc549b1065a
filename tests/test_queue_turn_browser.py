"""The waiting page follows its turn from the status file alone
(storefront/assets/queue-turn.js). It must reach exactly the conclusions of
the server's rule (chalicelib/domain/onsale.py draw_for, turn_known), or a
page would ask when it need not, or wait when its result is there: both run
here on the same cases, the page's in real Chromium."""

from __future__ import annotations

import json

from chalicelib.domain import onsale as rules


def _cases() -> list[tuple[dict, dict]]:
    key = rules.new_draw_key()
    entries = [{"pre_queue": True, "entry_id": f"entry-{i:02d}"} for i in range(12)]
    ranked = sorted(entries, key=lambda e: rules.draw_for(key, e["entry_id"]))
    after = [{"pre_queue": False, "entry_id": f"after-{i}", "sequence_number": str(18_000_000_000_000_000_100 + i * 7)}
             for i in range(6)]
    drawn = {"open": True, "draw_key": key, "pre_count": 12, "sold_out": False}
    statuses = [
        {"open": False, "draw_key": None, "pre_count": None, "sold_out": False},  # before the draw
        {**drawn, "serving": 0, "served_until": 0},
        {**drawn, "serving": 5, "served_until": 3,
         "admitted_draw_until": rules.draw_for(key, ranked[4]["entry_id"]),
         "served_draw_until": rules.draw_for(key, ranked[2]["entry_id"])},
        {**drawn, "sold_out": True, "serving": 5, "served_until": 5,
         "admitted_draw_until": rules.draw_for(key, ranked[4]["entry_id"]),
         "served_draw_until": rules.draw_for(key, ranked[4]["entry_id"])},
        {**drawn, "sold_out": True, "serving": 15, "served_until": 13,
         "admitted_sequence_until": after[2]["sequence_number"], "served_sequence_until": after[0]["sequence_number"]},
        # sequence numbers of different lengths compare as numbers, not as text
        {**drawn, "serving": 13, "served_until": 13, "served_sequence_until": "9" * 19,
         "admitted_sequence_until": "9" * 19},
    ]
    return [(status, entry) for status in statuses for entry in entries + after]


def test_the_page_and_the_server_tell_a_buyers_turn_alike(site, browser):
    cases = _cases()
    expected = [rules.turn_known(status, entry) for status, entry in cases]
    assert {"served", "not_admitted", None} <= set(expected), "the cases cover every answer"
    page = browser.new_page()
    try:
        page.goto(site.url("/index.html"))
        found = page.evaluate("""async (cases) => {
            const { drawFor, turnFromStatus } = await import('/assets/queue-turn.js');
            const answers = [];
            for (const [status, entry] of cases) {
              const draw = entry.pre_queue && status.draw_key ? await drawFor(status.draw_key, entry.entry_id) : null;
              answers.push(turnFromStatus(status, entry, draw));
            }
            return answers;
        }""", json.loads(json.dumps(cases)))
    finally:
        page.close()
    assert found == expected
