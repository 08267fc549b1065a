"""Privacy per venue (services/privacy.py, docs/privacy.md).

The venue's lead (the controller's person in charge), on the venue's own role:
  POST /venues/{venue}/privacy/exports        {email}: everything the venue holds about that person
                                               (?format=html: the same as a readable page)
  POST /venues/{venue}/privacy/erasures       {email, confirm: true, reason}: anonymise that person here
  GET  /venues/{venue}/privacy/retention      the venue's retention (months) and the network's bounds
  PUT  /venues/{venue}/privacy/retention      {months}
  POST /venues/{venue}/privacy/retention/run  {dry_run}: who is past the limit; anonymise them if not a dry run
  (GET /venues/{venue}/audit in api/staff.py: the audit log, lead only)
The buyer, with a "my tickets" session (X-My-Tickets-Session), one venue at a time:
  GET  /my-tickets/{venue}/privacy/export     this venue's data about the session's address
  POST /my-tickets/{venue}/privacy/erasure    {confirm: true}
  GET/PUT /my-tickets/{venue}/consent         {marketing, text_version}: this venue's marketing consent

The address travels in a body, never in a path or query string (access logs).
Every export, erasure and retention run is written to the venue's audit log
before it is answered. Cold start: importing this module only registers routes.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.http import header, json_response, parse, route

privacy = Blueprint(__name__)
SESSION_HEADER = "X-My-Tickets-Session"
NO_STORE = {"Cache-Control": "no-store"}


def _audit(store, *, actor: str, role: str, action: str, subject: dict[str, Any], route_path: str,
           purpose: str) -> None:
    from chalicelib.adapters import audit_log

    request = privacy.current_request
    audit_log.record(store, actor=actor, role=role, action=action, subject=subject,
                     route=f"{request.method} {route_path}", purpose=purpose,
                     request_id=(request.context or {}).get("requestId"))


def _lead_audit(store, caller, venue: str, **entry: Any) -> None:
    _audit(store, actor=caller.username, role=caller.role_at(venue) or "", **entry)


def _wants_html() -> bool:
    return (privacy.current_request.query_params or {}).get("format") == "html"


def _export_answer(store, export: dict[str, Any], language: str = "nl") -> Response:
    if _wants_html():
        from chalicelib.domain.privacy import export_page

        profile = store.get_profile()
        page = export_page(export, getattr(profile, "display_name", None) or store.venue, language)
        return Response(body=page, status_code=200, headers={"Content-Type": "text/html; charset=utf-8", **NO_STORE})
    return json_response(export, headers={**NO_STORE, "Content-Disposition":
                                          f'attachment; filename="{store.venue}-{export["customer_id"]}.json"'})


# -- the lead ----------------------------------------------------------------------------------
@route(privacy, "/venues/{venue}/privacy/exports", methods=["POST"], venue_access="lead")
def export_person(venue, *, store, caller):
    from chalicelib.api.privacy_models import PersonRequest
    from chalicelib.services import privacy as service

    asked = parse(privacy.current_request, PersonRequest)
    exported = service.export(store, asked.email)
    _lead_audit(store, caller, venue, action="person.exported", subject={"customer_ids": [exported["customer_id"]]},
                route_path="/venues/{venue}/privacy/exports", purpose="access request (GDPR art. 15)")
    return _export_answer(store, exported)


@route(privacy, "/venues/{venue}/privacy/erasures", methods=["POST"], venue_access="lead")
def erase_person(venue, *, store, caller):
    from chalicelib.api.privacy_models import ErasureRequest
    from chalicelib.services import privacy as service

    asked = parse(privacy.current_request, ErasureRequest)
    customer_id = service.PrivacyStore(store).customer_id_of(asked.email)
    _lead_audit(store, caller, venue, action="person.erased", subject={"customer_ids": [customer_id]},
                route_path="/venues/{venue}/privacy/erasures", purpose=f"erasure: {asked.reason}"[:200])
    return json_response(service.erase(store, customer_id=customer_id, by=caller.username, reason=asked.reason),
                         headers=NO_STORE)


@route(privacy, "/venues/{venue}/privacy/retention", methods=["GET"], venue_access="lead")
def read_retention(venue, *, store, caller):
    from chalicelib.services import privacy as service

    return json_response({**service.retention_policy(store).as_dict(),
                          "last_scheduled_run": service.last_scheduled_report(store)}, headers=NO_STORE)


@route(privacy, "/venues/{venue}/privacy/retention", methods=["PUT"], venue_access="lead")
def set_retention(venue, *, store, caller):
    from chalicelib.api.privacy_models import RetentionChoice
    from chalicelib.services import privacy as service

    chosen = parse(privacy.current_request, RetentionChoice)
    policy = service.set_retention(store, chosen.months, caller.username)
    _lead_audit(store, caller, venue, action="settings.retention-changed", subject={},
                route_path="/venues/{venue}/privacy/retention", purpose=f"retention {policy.months} months")
    return json_response(policy.as_dict())


@route(privacy, "/venues/{venue}/privacy/retention/run", methods=["POST"], venue_access="lead")
def run_retention(venue, *, store, caller):
    from chalicelib.api.privacy_models import RetentionRun
    from chalicelib.services import privacy as service

    asked = parse(privacy.current_request, RetentionRun)
    if asked.dry_run:
        return json_response(service.retention_report(store), headers=NO_STORE)
    report = service.retention_report(store)
    _lead_audit(store, caller, venue, action="retention.applied",
                subject={"customer_ids": [c["customer_id"] for c in report["due"]][:500]},
                route_path="/venues/{venue}/privacy/retention/run", purpose="retention policy")
    return json_response(service.apply_retention(store, by=caller.username), headers=NO_STORE)


# -- the buyer, through the "my tickets" link ------------------------------------------------------
def _buyer_email() -> tuple[str, str]:
    """The address and language of the request's "my tickets" session (401/410 without a valid one)."""
    from chalicelib.services import my_tickets

    opened = my_tickets.opened_session(header(privacy.current_request, SESSION_HEADER))
    return opened.email, opened.language


@route(privacy, "/my-tickets/{venue}/privacy/export", methods=["GET"], venue_access="public")
def buyer_export(venue, *, store):
    from chalicelib.services import privacy as service

    email, language = _buyer_email()
    customer_id = service.known_customer(store, email)
    exported = service.export(store, email)
    _audit(store, actor="data-subject", role="buyer", action="person.exported", subject={"customer_ids": [customer_id]},
           route_path="/my-tickets/{venue}/privacy/export", purpose="access request by the person (my tickets)")
    return _export_answer(store, exported, language)


@route(privacy, "/my-tickets/{venue}/privacy/erasure", methods=["POST"], venue_access="public")
def buyer_erasure(venue, *, store):
    from chalicelib.api.privacy_models import BuyerErasure
    from chalicelib.services import privacy as service

    email, _ = _buyer_email()
    parse(privacy.current_request, BuyerErasure)
    customer_id = service.known_customer(store, email)
    _audit(store, actor="data-subject", role="buyer", action="person.erased", subject={"customer_ids": [customer_id]},
           route_path="/my-tickets/{venue}/privacy/erasure", purpose="erasure requested by the person (my tickets)")
    return json_response(service.erase(store, customer_id=customer_id, by="data-subject", reason="request of the person"),
                         headers=NO_STORE)


@route(privacy, "/my-tickets/{venue}/consent", methods=["GET"], venue_access="public")
def buyer_consent(venue, *, store):
    from chalicelib.services import privacy as service

    email, _ = _buyer_email()
    return json_response(service.consent(store, service.known_customer(store, email)), headers=NO_STORE)


@route(privacy, "/my-tickets/{venue}/consent", methods=["PUT"], venue_access="public")
def set_buyer_consent(venue, *, store):
    from chalicelib.api.privacy_models import Consent
    from chalicelib.services import privacy as service

    email, _ = _buyer_email()
    given = parse(privacy.current_request, Consent)
    customer_id = service.known_customer(store, email)
    return json_response(service.set_consent(store, customer_id, given=given.marketing,
                                             text_version=given.text_version, source="my-tickets"), headers=NO_STORE)
