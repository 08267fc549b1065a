"""The "my tickets" link and session as plain values: no AWS, milliseconds."""

from __future__ import annotations

import base64

import pytest

from chalicelib.domain import my_tickets as rules

KEY = b"k" * 48
NOW = 1_800_000_000


def link(email="An.Peeters@Example.be", language="fr", expires_at=NOW + rules.LINK_SECONDS, key=KEY):
    return rules.seal(key, rules.LINK, email, language, expires_at)


def test_a_link_opens_to_the_normalised_address_and_language_until_it_expires():
    opened = rules.open_token(KEY, rules.LINK, link(), NOW)
    assert (opened.email, opened.language, opened.expires_at) == ("an.peeters@example.be", "fr", NOW + 900)
    assert rules.open_token(KEY, rules.LINK, link(), NOW + 899) is not None
    with pytest.raises(rules.TokenExpired):
        rules.open_token(KEY, rules.LINK, link(), NOW + 900)


def test_the_address_cannot_be_read_from_the_link():
    token = link(email="an.peeters@example.be")
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert b"peeters" not in raw and b"example" not in raw and "peeters" not in token


def test_every_link_is_new_even_for_the_same_address():
    first, second = link(), link()
    assert first != second
    assert rules.open_token(KEY, rules.LINK, first, NOW).token_id != rules.open_token(KEY, rules.LINK, second, NOW).token_id


@pytest.mark.parametrize("position", [0, 10, 20, 40, -5, -3])  # (the last character may hold only padding bits)
def test_a_changed_character_anywhere_makes_the_link_worthless(position):
    token = link()
    index = position % len(token)
    changed = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1:]
    assert rules.open_token(KEY, rules.LINK, changed, NOW) is None


@pytest.mark.parametrize("junk", ["", None, "x", "not base64 at all!!", "A" * 700, link()[:30]],
                         ids=["empty", "none", "short", "not-base64", "too-long", "truncated-link"])
def test_junk_is_not_a_link(junk):
    assert rules.open_token(KEY, rules.LINK, junk, NOW) is None


def test_another_servers_key_or_another_purpose_opens_nothing():
    assert rules.open_token(b"o" * 48, rules.LINK, link(), NOW) is None
    session = rules.seal(KEY, rules.SESSION, "an@example.be", "nl", NOW + 60)
    assert rules.open_token(KEY, rules.LINK, session, NOW) is None  # a session is not a link
    assert rules.open_token(KEY, rules.SESSION, link(), NOW) is None  # nor the reverse
    assert rules.open_token(KEY, rules.SESSION, session, NOW).email == "an@example.be"


def test_an_unknown_language_falls_back_to_dutch():
    assert rules.open_token(KEY, rules.LINK, link(language="de"), NOW).language == "nl"


def test_windows_and_client_keys():
    start, retry_after = rules.window(NOW + 100, 900)
    assert start <= NOW + 100 < start + 900 and retry_after == start + 900 - (NOW + 100)
    assert rules.window(start, 900) == (start, 900)
    # A client's counter cannot be followed from one window to the next, nor computed without the key.
    assert rules.client_key(KEY, "198.51.100.7", start) != rules.client_key(KEY, "198.51.100.7", start + 900)
    assert rules.client_key(KEY, "198.51.100.7", start) != rules.client_key(b"o" * 48, "198.51.100.7", start)
    assert "198" not in rules.client_key(KEY, "198.51.100.7", start)


def test_the_link_mail_speaks_the_buyers_language_and_carries_the_link_unchanged():
    from chalicelib.services.my_tickets import link_mail

    url = "https://tickets.example.be/my-tickets.html?lang=nl#link=" + link()
    mails = {language: link_mail(language, url) for language in rules.LANGUAGES}
    assert [m["subject"] for m in mails.values()] == [
        "Je tickets bij Loket Brugge", "Vos billets chez Loket Bruges", "Your tickets at Loket Brugge"]
    for language, mail in mails.items():
        assert url in mail["text"] and f'href="{url}"' in mail["html"] and f'lang="{language}"' in mail["html"]
        assert "15" in mail["text"]
    assert link_mail("de", url) == mails["nl"]
