"""The webhook rules without AWS or sockets (chalicelib/domain/webhooks.py):
the signature against the independent `standardwebhooks` package, the
schedule and its jitter, what an answer means, the excerpt. Milliseconds."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import standardwebhooks

from chalicelib.domain import webhooks as rules

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def test_our_signature_is_the_one_standardwebhooks_makes():
    secret = rules.new_secret()
    body = '{"type":"order.paid","timestamp":"2026-12-01T12:00:00+00:00","data":{"venue":"kaap"}}'
    ours = rules.sign(secret, "msg_1", int(NOW.timestamp()), body)
    assert ours == standardwebhooks.Webhook(secret).sign("msg_1", NOW, body)


def test_rotation_signs_with_both_secrets_until_the_overlap_ends():
    old = [{"secret": rules.new_secret(), "expires_at": None}]
    new_secret = rules.new_secret()
    both = rules.rotated(old, new_secret, NOW, timedelta(hours=2))
    assert rules.live_secrets(both, NOW + timedelta(hours=1)) == [new_secret, old[0]["secret"]]
    assert rules.live_secrets(both, NOW + timedelta(hours=3)) == [new_secret]
    assert rules.rotated(old, new_secret, NOW, timedelta(0)) == [{"secret": new_secret, "expires_at": None}]
    # Rotating again during an overlap keeps only the newest predecessor.
    third = rules.rotated(both, rules.new_secret(), NOW + timedelta(minutes=5), timedelta(hours=2))
    assert len(third) == 2 and third[1]["secret"] == new_secret


def test_the_schedule_is_the_spec_example_with_jitter():
    waits = [rules.next_delay(n, rng=random.Random(n)) for n in range(1, rules.MAX_ATTEMPTS)]
    for wait, planned in zip(waits, rules.SCHEDULE[1:]):
        assert planned * 0.9 <= wait <= planned * 1.1
    assert rules.next_delay(rules.MAX_ATTEMPTS) is None
    assert sum(rules.SCHEDULE, timedelta()) == timedelta(days=3, hours=3, minutes=35, seconds=5)  # "about 3 days"
    assert len({rules.next_delay(3) for _ in range(20)}) > 1  # jittered


def test_answers_and_retry_after():
    assert [rules.outcome(s) for s in (200, 204, 410, 500, 429, None)] == \
        ["succeeded", "succeeded", "gone", "retry", "retry", "retry"]
    assert rules.retry_after(429, "120", NOW) == timedelta(seconds=120)
    assert rules.retry_after(503, "Tue, 01 Dec 2026 12:10:00 GMT", NOW) == timedelta(minutes=10)
    assert rules.retry_after(500, "120", NOW) is None  # only the slow-down answers
    assert rules.next_delay(1, timedelta(hours=30)) == rules.MAX_RETRY_AFTER


def test_the_excerpt_keeps_no_markup_control_characters_or_keys():
    text = rules.excerpt(b"<html><body>Error \x1b[31m Bearer abc.def sk_live_123 " + b"x" * 1000 + b"</body>")
    assert text.startswith("Error") and "<" not in text and "\x1b" not in text
    assert "abc.def" not in text and "sk_live_123" not in text and len(text) <= rules.EXCERPT_CHARS
