"""Incidents through the API: the severity the facts give, a regulator's reclassification, and
a breach that reads ``remediated`` once remediated and reinstated."""

from __future__ import annotations

from typing import Any

from tests.fixtures.api import Api


def fintech_in_test(api: Api) -> str:
    pid = api.create("fintech-sandbox")
    api.fintech_application(pid)
    api.submit_and_open(pid)
    api.close_notices(pid)
    api.admit(pid)
    api.clock.advance(days=1)
    api.do(pid, "alice", "start_test")
    return pid


def severity_rule(api: Api, pid: str) -> Any:
    return next(r for r in api.view(pid)["exit"] if r["id"] == "fs.exit.severity1")


def test_an_outage_over_four_hours_suspends_whatever_the_reporter_says(api: Api) -> None:
    pid = fintech_in_test(api)
    today = api.clock.today.isoformat()
    done = api.do(pid, "alice", "report_incident", {"incident_id": "inc-1", "kind": "outage", "severity": 3,
                                                    "outage_minutes": 300, "occurred_on": today})
    assert done["events"] == ["IncidentReported", "ThresholdBreached", "ProjectSuspended"]
    reported = next(e for e in api.events(pid) if e["type"] == "IncidentReported")["data"]
    assert reported["severity"] == 1 and reported["reported_severity"] == 3 and "300 minutes" in reported["basis"]
    assert severity_rule(api, pid)["status"] == "breached"
    # remediated and reinstated: the breach reads remediated, not breached for ever
    api.do(pid, "alice", "remediate_incident", {"incident_id": "inc-1"})
    api.do(pid, "ada", "reinstate", {"reason": "已整改"})
    assert severity_rule(api, pid)["status"] == "remediated"


def test_a_regulator_reclassifies_an_incident_with_a_reason(api: Api) -> None:
    pid = fintech_in_test(api)
    today = api.clock.today.isoformat()
    api.do(pid, "alice", "report_incident", {"incident_id": "inc-1", "kind": "outage", "outage_minutes": 90,
                                             "occurred_on": today})
    assert api.state(pid) == "TESTING"
    r = api.post(f"/api/v1/projects/{pid}/reclassify_incident", "carol", {"incident_id": "inc-1", "severity": 1})
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    done = api.do(pid, "carol", "reclassify_incident",
                  {"incident_id": "inc-1", "severity": 1, "reason": "影响全部支付渠道，按一级认定"})
    assert done["events"] == ["IncidentReclassified", "ThresholdBreached", "ProjectSuspended"]
    assert api.state(pid) == "SUSPENDED"


def test_programs_json_shows_the_severity_definition(api: Api) -> None:
    import json

    from click.testing import CliRunner

    from sandbox.cli import main

    done = CliRunner().invoke(main, ["programs", "--db", str(api.app.state.store.path), "--json"])
    fintech = next(p for p in json.loads(done.output) if p["key"] == "fintech-sandbox")
    first = fintech["incident_severity"]["rules"][0]
    assert first["severity"] == 1 and first["outage_minutes_over"] == 240 and "fund_loss" in first["kinds"]
    assert first["consumer_loss"] is True and fintech["incident_severity"]["default_severity"] == 3
