"""A venue's public profile: its lead sets it, the catalogue shows name,
address and map link, bad input is a 422 that changes nothing; its images
are written with the venue's own role under its own prefix only."""

from __future__ import annotations

import io

from chalicelib.adapters import catalogue_store


def _png(width: int = 300, height: int = 200, colour=(200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


PROFILE = {
    "display_name": "Cultuurcentrum De Reien",
    "address": {"street": "Sint-Jakobsstraat 20", "postal_code": "8000", "city": "Brugge"},
    "colours": {"primary": "#1d4ed8", "on_primary": "#ffffff"},
    "reply_to": "tickets@cc-reien.example",
    "ticket_texts": {"nl": "Vrije plaatsen.", "fr": "Placement libre.", "en": "Unreserved seating."},
}


def test_the_demo_venues_have_a_profile_in_the_catalogue(loket):
    network = catalogue_store.get_document("network.json")
    demo = {"stadsloket", "concertzaal", "cc-reien", "club-kaap"}  # other tests onboard venues of their own
    cards = {card["slug"]: card for card in network["venues"] if card["slug"] in demo}
    assert set(cards) == demo
    for card in cards.values():
        assert card["address_line"].endswith("8000 Brugge")
        assert card["map_url"].startswith("https://www.openstreetmap.org/search?query=")
        assert card["logo"].startswith(f"catalogue/images/{card['slug']}/logo-")
        assert "reply_to" not in card  # the reply-to address is for mails, not the catalogue
    assert len({card["brand_color"] for card in cards.values()}) == len(cards)


def test_a_lead_sets_the_profile_and_the_catalogue_follows(api):
    lead = api.token("cc-reien-lead")
    logo = api.call("POST", "/venues/cc-reien/images?purpose=logo", raw=_png(), token=lead,
                    headers={"Content-Type": "image/png"})
    assert logo.status_code == 201, logo.data
    body = {**PROFILE, "logo_key": logo.data["logo_key"], "map_url": "https://maps.example/de-reien"}
    answer = api.call("PUT", "/venues/cc-reien/profile", body, token=lead)
    assert answer.status_code == 200, answer.data
    assert answer.data["map_link"] == "https://maps.example/de-reien"

    read = api.call("GET", "/venues/cc-reien/profile", token=lead)
    assert read.data["address"] == {**PROFILE["address"], "country": "BE"}
    # The answer of GET may be sent back as it is.
    assert api.call("PUT", "/venues/cc-reien/profile", read.data, token=lead).status_code == 200

    card = catalogue_store.get_document("venues/cc-reien.json")["venue"]
    assert card["address_line"] == "Sint-Jakobsstraat 20, 8000 Brugge"
    assert card["map_url"] == "https://maps.example/de-reien"
    assert card["logo"] == logo.data["logo_key"]
    network_card = next(c for c in catalogue_store.get_document("network.json")["venues"] if c["slug"] == "cc-reien")
    assert network_card["address_line"] == card["address_line"]


def test_without_a_map_url_the_link_searches_the_address(api):
    lead = api.token("cc-reien-lead")
    answer = api.call("PUT", "/venues/cc-reien/profile", PROFILE, token=lead)
    assert answer.status_code == 200, answer.data
    assert answer.data["map_link"] == ("https://www.openstreetmap.org/search?query="
                                       "Sint-Jakobsstraat%2020%2C%208000%20Brugge%2C%20BE")


def test_bad_profiles_are_refused_and_change_nothing(api):
    lead = api.token("concertzaal-lead")
    before = api.call("GET", "/venues/concertzaal/profile", token=lead).data
    for bad, field in [({**PROFILE, "colours": {"primary": "blue"}}, "colours.primary"),
                       ({**PROFILE, "reply_to": "not an address"}, "reply_to"),
                       ({**PROFILE, "address": {"street": "x 1", "city": "Brugge"}}, "address.postal_code"),
                       ({**PROFILE, "website": "javascript:alert(1)"}, "website"),
                       ({**PROFILE, "logo_key": "catalogue/images/cc-reien/logo-abc-480.png"}, "logo_key"),
                       ({**PROFILE, "owner": "me"}, "owner")]:
        answer = api.call("PUT", "/venues/concertzaal/profile", bad, token=lead)
        assert answer.status_code == 422, (bad, answer.data)
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert field in {e["field"] for e in answer.data["errors"]}, answer.data
    assert api.call("GET", "/venues/concertzaal/profile", token=lead).data == before


def test_only_the_venues_lead_reads_or_sets_the_profile(api):
    assert api.call("GET", "/venues/concertzaal/profile", token=api.token("concertzaal-kassa")).status_code == 403
    assert api.call("PUT", "/venues/concertzaal/profile", PROFILE, token=api.token("cc-reien-lead")).status_code == 404
    assert api.call("GET", "/venues/concertzaal/profile").status_code == 401


def test_images_that_are_not_images_are_refused(api):
    lead = api.token("club-kaap-lead")
    for raw, content_type in [(b"not a picture", "image/png"), (_png(20, 20), "image/png"), (_png(), "image/jpeg"),
                              (b'{"image": "x"}', "application/json")]:
        answer = api.call("POST", "/venues/club-kaap/images", raw=raw, token=lead, headers={"Content-Type": content_type})
        assert answer.status_code == 422, answer.data
    wrong_purpose = api.call("POST", "/venues/club-kaap/images?purpose=banner", raw=_png(), token=lead,
                             headers={"Content-Type": "image/png"})
    assert wrong_purpose.status_code == 422


def test_a_venue_role_writes_images_only_under_its_own_prefix(loket):
    from botocore.exceptions import ClientError

    from chalicelib import bootstrap
    from chalicelib.adapters.venue_images import VenueImages

    images = VenueImages(bootstrap.worker_store("club-kaap"))
    images.put("catalogue/images/club-kaap/probe.png", _png(), "image/png")
    for key in ["catalogue/images/concertzaal/probe.png", "catalogue/network.json", "index.html"]:
        try:
            images.s3.put_object(Bucket=loket.outputs["SiteBucketName"], Key=key, Body=b"x")
        except ClientError as error:
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        else:
            raise AssertionError(f"club-kaap's role wrote {key}")
