"""Schemathesis over /openapi.json against the app (in process, through the
Chalice test client): every described operation with generated paths, queries,
headers and bodies. No answer may be a 5xx, and every answer must match the
description (status, content type, schema).

`make test` runs a few examples per operation (LOKET_FUZZ_EXAMPLES, default 10);
`make fuzz` runs many more. The figures are written to test-artifacts/api-fuzz.json."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from chalicelib.domain import api_keys as rules
from chalicelib.services import api_keys
from tests.test_api_keys import make_key

EXAMPLES = int(os.environ.get("LOKET_FUZZ_EXAMPLES", "10"))
VENUE = "club-kaap"
ARTIFACT = Path(__file__).resolve().parents[1] / "test-artifacts" / "api-fuzz.json"


def _send(api, case, credentials):
    import requests
    from schemathesis.core.transport import Response

    kwargs = case.as_transport_kwargs(base_url="http://loket.test", headers=credentials)
    request = requests.Request(**{k: v for k, v in kwargs.items()
                                  if k in ("method", "url", "headers", "params", "json", "data", "cookies")}).prepare()
    parts = urlsplit(request.url)
    body = request.body.encode() if isinstance(request.body, str) else request.body
    answer = api.client.http.request(request.method, parts.path + (f"?{parts.query}" if parts.query else ""),
                                     headers=dict(request.headers), body=body)
    return Response(status_code=answer.status_code, headers={k: [v] for k, v in answer.headers.items()},
                    content=answer.body or b"", request=request, elapsed=0.0, verify=True)


def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_description(api, monkeypatch):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.failures import Failure, FailureGroup
    from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

    monkeypatch.setattr(api_keys, "_rate", rules.RateWindow(10_000, 0))  # the limit has its own test
    key = make_key(api, VENUE, list(rules.SCOPES), label="fuzz")["secret"]
    lead = api.token(f"{VENUE}-lead")
    schema = schemathesis.openapi.from_dict(api.call("GET", "/openapi.json").data)
    figures = {"operations": 0, "examples": 0, "failures": []}
    for result in schema.get_all_operations():
        operation = result.ok()
        figures["operations"] += 1
        secured = operation.definition.raw.get("security", [{}])[0]
        credentials = {"Authorization": f"Bearer {key if 'apiKey' in secured else lead}"}

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            if case.path_parameters and "venue" in case.path_parameters:
                case.path_parameters["venue"] = VENUE  # the key's own venue; other venues: test_v1_api
            figures["examples"] += 1
            response = _send(api, case, credentials)
            try:
                case.validate_response(response, checks=[not_a_server_error, response_schema_conformance,
                                                         status_code_conformance])
            except (Failure, FailureGroup) as failure:  # every failure is collected and reported
                found = {"operation": operation.label, "status": response.status_code,
                         "failure": str(failure)[:600]}
                figures["failures"].append(found)

        run()
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(json.dumps({**figures, "examples_per_operation": EXAMPLES}, indent=2))
    assert figures["operations"] >= 8 and figures["examples"] >= figures["operations"]
    distinct = {(f["operation"], f["status"]): f for f in figures["failures"]}
    assert not figures["failures"], json.dumps(list(distinct.values()), indent=2)
