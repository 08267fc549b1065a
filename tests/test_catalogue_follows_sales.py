"""The catalogue follows a performance's availability level on the sale path
(not only every minute), and shows what a lead gives an event: texts in
three languages, genre, duration, age advice, a picture in several widths."""

from __future__ import annotations

import io

import pytest

from chalicelib.adapters import aws, catalogue_store
from chalicelib.settings import get_settings


def _event_page(event: dict) -> dict:
    return catalogue_store.get_document(f"events/{event['venue']}/{event['event_id']}.json")


def _network_line(event: dict) -> dict:
    return next(e for e in catalogue_store.get_document("network.json")["events"] if e["event_id"] == event["event_id"])


@pytest.fixture
def writes(monkeypatch):
    """The catalogue paths written, in order (the real writes still happen)."""
    written: list[str] = []
    real = catalogue_store.put_document

    def recording(path, document, **options):
        written.append(path)
        return real(path, document, **options)

    monkeypatch.setattr(catalogue_store, "put_document", recording)
    return written


def test_the_catalogue_shows_few_left_and_sold_out_as_the_sale_happens(api, writes):
    event = api.new_event("concertzaal", capacity=20)  # few left at 2 places or fewer
    page = f"events/concertzaal/{event['event_id']}.json"
    writes.clear()  # publishing the new event

    assert api.hold(event, 17).status_code == 201
    assert page not in writes, "a sale that changes no level publishes nothing"
    assert _event_page(event)["performances"][0]["availability"] == "available"

    assert api.hold(event, 1).status_code == 201
    assert writes.count(page) == 1
    assert _event_page(event)["performances"][0]["availability"] == "few_left"
    assert _network_line(event)["availability"] == "few_left"

    last = api.hold(event, 2)
    assert last.status_code == 201
    assert _event_page(event)["performances"][0]["availability"] == "sold_out"
    line = _network_line(event)
    assert line["sold_out"] and line["availability"] == "sold_out"
    refused = api.hold(event, 1)
    assert refused.status_code == 409 and refused.data["type"].endswith("/sold-out")

    # The buyer of the last two places cancels: the catalogue shows them back at once.
    assert api.call("DELETE", f"/holds/concertzaal/{last.data['hold_id']}").status_code == 204
    assert _event_page(event)["performances"][0]["availability"] == "few_left"
    assert not _network_line(event)["sold_out"]


def _jpeg(width=1000, height=600) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 160)).save(out, "JPEG")
    return out.getvalue()


def test_a_lead_gives_an_event_texts_in_three_languages_and_a_picture(api):
    event = api.new_event("cc-reien")
    lead = api.token("cc-reien-lead")
    current = api.call("GET", f"/venues/cc-reien/events/{event['event_id']}", token=lead).data
    body = {"title": "Schaduwtheater", "description": "Voor het hele gezin.", "hall": current["hall"],
            "genre": "family", "duration_minutes": 50, "age_advice": 5, "price_types": current["price_types"],
            "translations": {"fr": {"title": "Théâtre d'ombres", "description": "Pour toute la famille."},
                             "en": {"title": "Shadow theatre", "description": "For the whole family."}}}
    updated = api.call("PUT", f"/venues/cc-reien/events/{event['event_id']}", body, token=lead)
    assert updated.status_code == 200, updated.data
    picture = api.call("PUT", f"/venues/cc-reien/events/{event['event_id']}/image", raw=_jpeg(), token=lead,
                       headers={"Content-Type": "image/jpeg"})
    assert picture.status_code == 200, picture.data

    document = _event_page(event)
    assert document["texts"]["fr"]["title"] == "Théâtre d'ombres"
    assert document["texts"]["en"]["description"] == "For the whole family."
    assert (document["genre"], document["duration_minutes"], document["age_advice"]) == ("family", 50, 5)
    image = document["image"]
    assert image["widths"] == [400, 800, 1000] and image["format"] == "webp"
    s3 = aws.client("s3")
    for width in image["widths"]:
        stored = s3.head_object(Bucket=get_settings().site_bucket, Key=f"{image['key']}-{width}.webp")
        assert stored["ContentType"] == "image/webp" and "immutable" in stored["CacheControl"]
    assert _network_line(event)["titles"]["en"] == "Shadow theatre"


def test_bad_event_texts_are_refused_and_change_nothing(api):
    event = api.new_event("cc-reien")
    lead = api.token("cc-reien-lead")
    before = _event_page(event)
    current = api.call("GET", f"/venues/cc-reien/events/{event['event_id']}", token=lead).data
    base = {"title": current["title"], "hall": current["hall"], "price_types": current["price_types"]}
    for bad, field in [({**base, "genre": "rap"}, "genre"),
                       ({**base, "translations": {"de": {"title": "Schattentheater"}}}, "translations.de.[key]"),
                       ({**base, "age_advice": -1}, "age_advice"),
                       ({**base, "image": {"key": "catalogue/images/club-kaap/event-x"}}, "image")]:
        answer = api.call("PUT", f"/venues/cc-reien/events/{event['event_id']}", bad, token=lead)
        assert answer.status_code == 422, (bad, answer.data)
        assert field in {e["field"] for e in answer.data["errors"]}, answer.data
    assert _event_page(event) == before
