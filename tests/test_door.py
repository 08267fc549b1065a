"""Door scanning on the in-process stack (moto with IAM, the real sale path):
a scan admits a ticket once, a retry with the same nonce counts once, two
doors at once admit once, offline scans sync with the earliest admission
winning; and the door's rule itself, without AWS."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.door import Admission, Scan, Verdict, decide
from chalicelib.domain.model import Ticket

NOW = datetime(2026, 11, 30, 20, 0, tzinfo=timezone.utc)


def _scan(api, venue, code, performance_id, *, door="Hoofdingang", nonce=None, token=None):
    body = {"code": code, "performance_id": performance_id, "door": door, "nonce": nonce or uuid.uuid4().hex,
            "scanned_at": datetime.now(timezone.utc).isoformat()}
    return api.call("POST", f"/venues/{venue}/tickets/check", body, token=token or api.token(f"{venue}-kassa"))


def _door_list(api, venue, performance_id):
    answer = api.call("GET", f"/venues/{venue}/door/performances/{performance_id}", token=api.token(f"{venue}-kassa"))
    assert answer.status_code == 200, answer.data
    return answer.data


@pytest.fixture(scope="module")
def sold(api):
    """Three paid tickets for one performance of a new event, which has a second performance."""
    event = api.new_event("concertzaal", capacity=20, days=0.2)
    other = api.call("POST", f"/venues/concertzaal/events/{event['event_id']}/performances",
                     {"starts_at": (datetime.now(timezone.utc) + timedelta(days=1)).isoformat(), "capacity": 20},
                     token=api.token("concertzaal-lead")).data
    tickets = api.buy(event, quantity=3)["basket"]["orders"][0]["tickets"]
    return {"event": event, "performance_id": event["performance_id"], "other_performance_id": other["performance_id"],
            "codes": [t["code"] for t in tickets]}


def test_a_ticket_admits_once_and_the_second_scan_says_when_and_where(api, sold):
    performance, code = sold["performance_id"], sold["codes"][0]
    first = _scan(api, "concertzaal", code, performance, door="Zij-ingang")
    assert first.status_code == 200 and first.data["result"] == "valid", first.data
    assert first.data["door"] == "Zij-ingang"
    second = _scan(api, "concertzaal", code, performance, door="Hoofdingang")
    assert second.status_code == 409 and second.headers["Content-Type"] == "application/problem+json"
    assert second.data["type"].endswith("/ticket-already-used") and second.data["result"] == "already_used"
    assert second.data["first_admitted_at"] == first.data["admitted_at"] and second.data["first_door"] == "Zij-ingang"
    listed = _door_list(api, "concertzaal", performance)
    assert (listed["admitted"], listed["sold"]) == (1, 3)
    assert listed["check_ins"][0]["door"] == "Zij-ingang" and listed["check_ins"][0]["admitted_at"] == first.data["admitted_at"]


def test_a_retry_with_the_same_nonce_answers_the_same_and_counts_once(api, sold):
    performance, code = sold["performance_id"], sold["codes"][1]
    nonce = uuid.uuid4().hex
    answers = [_scan(api, "concertzaal", code, performance, nonce=nonce) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].data == answers[1].data == answers[2].data
    assert len([c for c in _door_list(api, "concertzaal", performance)["check_ins"]
                if c["ticket_id"] == answers[0].data["ticket_id"]]) == 1


def test_two_doors_scanning_one_ticket_at_once_admit_it_once(api, sold, loket):
    event = api.new_event("concertzaal", capacity=20, days=0.2)
    code = api.buy(event, quantity=1)["basket"]["orders"][0]["tickets"][0]["code"]
    token = api.token("concertzaal-kassa")
    start = threading.Barrier(4)
    answers = []

    def door(name):
        start.wait()
        answers.append(_scan(api, "concertzaal", code, event["performance_id"], door=name, token=token))

    threads = [threading.Thread(target=door, args=(f"Deur {n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.data["result"] for a in answers) == ["already_used"] * 3 + ["valid"], [a.data for a in answers]
    assert _door_list(api, "concertzaal", event["performance_id"])["admitted"] == 1


def test_a_ticket_for_another_performance_and_a_forged_code_are_refused(api, sold):
    code = sold["codes"][2]
    other = _scan(api, "concertzaal", code, sold["other_performance_id"])
    assert other.status_code == 409 and other.data["type"].endswith("/ticket-other-performance")
    assert other.data["result"] == "other_performance"
    assert other.data["ticket_performance_id"] == sold["performance_id"]
    forged = _scan(api, "concertzaal", code[:-1] + ("A" if code[-1] != "A" else "B"), sold["performance_id"])
    assert forged.status_code == 404 and forged.data["type"].endswith("/ticket-invalid")
    assert forged.data["result"] == "invalid"
    assert _door_list(api, "concertzaal", sold["other_performance_id"])["admitted"] == 0


def test_offline_scans_sync_and_the_earliest_admission_wins(api):
    event = api.new_event("cc-reien", capacity=20, days=0.2)
    codes = [t["code"] for t in api.buy(event, quantity=2)["basket"]["orders"][0]["tickets"]]
    performance = event["performance_id"]
    token = api.token("cc-reien-kassa")
    earlier = datetime.now(timezone.utc) - timedelta(minutes=10)
    online = _scan(api, "cc-reien", codes[0], performance, door="Deur A", token=token)
    assert online.status_code == 200
    # Door B was offline ten minutes ago and let both holders in; now it syncs.
    batch = {"scans": [
        {"code": codes[0], "performance_id": performance, "door": "Deur B", "nonce": "offline-b-1",
         "scanned_at": earlier.isoformat()},
        {"code": codes[1], "performance_id": performance, "door": "Deur B", "nonce": "offline-b-2",
         "scanned_at": (earlier + timedelta(seconds=5)).isoformat()},
        {"code": codes[1], "performance_id": performance, "door": "Deur C", "nonce": "offline-c-1",
         "scanned_at": (earlier + timedelta(seconds=30)).isoformat()},
    ]}
    synced = api.call("POST", "/venues/cc-reien/door/scans", batch, token=token)
    assert synced.status_code == 200, synced.data
    results = {r["nonce"]: r for r in synced.data["results"]}
    assert results["offline-b-1"]["result"] == "valid"
    assert results["offline-b-1"]["duplicate"]["door"] == "Deur A"
    assert results["offline-b-2"]["result"] == "valid"
    assert results["offline-c-1"]["result"] == "already_used" and results["offline-c-1"]["first_door"] == "Deur B"
    listed = _door_list(api, "cc-reien", performance)
    assert (listed["admitted"], listed["sold"]) == (2, 2)
    assert {c["door"] for c in listed["check_ins"]} == {"Deur B"}
    assert sorted(d["door"] for d in listed["duplicates"]) == ["Deur A", "Deur C"]
    # The sync's answer was lost: the device sends the same batch again, and nothing counts twice.
    again = api.call("POST", "/venues/cc-reien/door/scans", batch, token=token)
    assert [r["result"] for r in again.data["results"]] == ["valid", "valid", "already_used"]
    relisted = _door_list(api, "cc-reien", performance)
    assert (relisted["admitted"], len(relisted["duplicates"])) == (2, 2)
    # Door A's later scan now learns the ticket was first admitted at door B.
    late = _scan(api, "cc-reien", codes[0], performance, door="Deur A", token=token)
    assert late.data["result"] == "already_used" and late.data["first_door"] == "Deur B"


def test_bad_scans_are_refused_whole_with_a_clear_problem(api, sold):
    token = api.token("concertzaal-kassa")
    missing = api.call("POST", "/venues/concertzaal/tickets/check",
                       {"code": sold["codes"][0], "performance_id": sold["performance_id"], "nonce": "x"}, token=token)
    assert missing.status_code == 422 and missing.data["type"].endswith("/validation-error")
    stale = api.call("POST", "/venues/concertzaal/door/scans", {"scans": [
        {"code": sold["codes"][2], "performance_id": sold["performance_id"], "door": "Deur", "nonce": "stale-scan-1",
         "scanned_at": (datetime.now(timezone.utc) - timedelta(days=3)).isoformat()}]}, token=token)
    assert stale.status_code == 422 and stale.data["errors"][0]["code"] == "scan_time_out_of_range"
    assert sold["codes"][2] not in str(_door_list(api, "concertzaal", sold["performance_id"]))


def test_another_venues_clerk_finds_no_door(api, sold):
    stranger = api.token("cc-reien-kassa")
    answer = _scan(api, "concertzaal", sold["codes"][0], sold["performance_id"], token=stranger)
    assert answer.status_code == 404 and answer.data["type"].endswith("/not-found")
    listed = api.call("GET", f"/venues/concertzaal/door/performances/{sold['performance_id']}", token=stranger)
    assert listed.status_code == 404


def test_the_door_lists_todays_performance_first(api, sold):
    listed = api.call("GET", "/venues/concertzaal/door/performances", token=api.token("concertzaal-kassa")).data
    starts = [p["starts_at"] for p in listed["performances"]]
    assert sold["performance_id"] in [p["performance_id"] for p in listed["performances"]]
    assert [datetime.fromisoformat(s) for s in starts] == sorted(datetime.fromisoformat(s) for s in starts)


# -- the rule, without AWS ----------------------------------------------------------------
def _ticket(performance_id="P1"):
    return Ticket(ticket_id="T1", code="T1-X", venue="v", order_id="O1", event_id="E1", performance_id=performance_id,
                  event_title="Concert", starts_at=NOW, price_type="normaal", label="Normaal", amount=2500)


def _door_scan(nonce="n-000001", at=NOW, performance_id="P1"):
    return Scan(code="T1-X", performance_id=performance_id, door="A", nonce=nonce, scanned_at=at)


def test_the_rule():
    first = Admission(ticket_id="T1", performance_id="P1", at=NOW, door="A", nonce="n-000001")
    assert decide(_door_scan(), None, False, None, NOW) == Verdict.INVALID
    assert decide(_door_scan(), _ticket(), False, None, NOW) == Verdict.INVALID
    assert decide(_door_scan(performance_id="P2"), _ticket(), True, None, NOW) == Verdict.OTHER_PERFORMANCE
    assert decide(_door_scan(), _ticket(), True, None, NOW) == Verdict.VALID
    assert decide(_door_scan(), _ticket(), True, first, NOW) == Verdict.VALID  # the same scan again
    later = NOW + timedelta(minutes=1)
    assert decide(_door_scan("n-000002", later), _ticket(), True, first, later) == Verdict.ALREADY_USED
    earlier = NOW - timedelta(minutes=1)
    assert decide(_door_scan("n-000003", earlier), _ticket(), True, first, earlier) == Verdict.ALREADY_USED
    assert decide(_door_scan("n-000003", earlier), _ticket(), True, first, earlier, offline=True) == Verdict.VALID
