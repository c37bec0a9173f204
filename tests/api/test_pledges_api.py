"""A listed data asset pledged, released and pledged again through the API: the release ends
the encumbrance only (the asset stays listed); the rule data says so in ``programs --json``."""

from __future__ import annotations

import json

from click.testing import CliRunner

from sandbox.cli import main
from tests.fixtures.api import Api, sha


def listed(api: Api) -> str:
    pid = api.create_data_asset()
    api.data_asset_application(pid, public_data=False)
    api.submit_and_open(pid)
    api.close_notices(pid)
    api.admit(pid)
    api.do(pid, "alice", "start_test")
    api.do(pid, "alice", "attach_document", {"kind": "valuation_report", "sha256": sha("valuation"),
                                              "title": "资产评估报告", "issued_on": api.clock.today.isoformat()})
    return pid


def test_a_pledge_released_leaves_the_asset_listed_and_it_may_be_pledged_again(api: Api) -> None:
    pid = listed(api)
    today = api.clock.today.isoformat()
    first = {"pledgee": "福州农村商业银行", "registration_no": "ZY-2025-001", "on": today}
    assert api.do(pid, "alice", "register_pledge", first)["events"] == ["PledgeRegistered"]
    # a second pledge, and cancellation, wait for the first one's release
    for action, body in (("register_pledge", {**first, "registration_no": "ZY-2025-002"}),
                         ("record_external_fact", {"trigger": "cancellation_requested", "on": today})):
        who = "alice" if action == "register_pledge" else "carol"
        r = api.post(f"/api/v1/projects/{pid}/{action}", who, body)
        assert r.status_code == 409 and r.json()["code"] == "pledge_outstanding", r.text
        assert "ZY-2025-001" in r.json()["message_en"] and "质押" in r.json()["message_zh"]
    # the release: one event, no breach, no exit; the asset is still listed
    assert api.do(pid, "alice", "release_pledge", {"on": today})["events"] == ["PledgeReleased"]
    assert api.state(pid) == "TESTING"
    criteria = {rule["id"]: rule for rule in api.view(pid)["exit"]}
    assert "da.exit.pledge_closed" not in criteria
    assert criteria["da.exit.pledge_realised"]["status"] == "ok"
    assert api.get(f"/api/v1/register/{pid}").json()["status"] == "TESTING"
    # pledged again, to another bank; then realised by the pledgee: the program's rule closes it
    again = {"pledgee": "兴业银行福州分行", "registration_no": "ZY-2025-002", "on": today}
    assert api.do(pid, "alice", "register_pledge", again)["events"] == ["PledgeRegistered"]
    realised = api.do(pid, "carol", "realise_pledge", {"on": today, "reason": "借款逾期，质权人实现质权"})
    assert realised["events"] == ["PledgeRealised", "ThresholdBreached", "ExitInitiated"]
    assert api.state(pid) == "EXIT_IN_PROGRESS"


def test_a_pledge_recorded_as_a_fact_is_refused_naming_its_command(api: Api) -> None:
    pid = listed(api)
    r = api.post(f"/api/v1/projects/{pid}/record_external_fact", "carol",
                 {"trigger": "pledge_released", "on": api.clock.today.isoformat()})
    assert r.status_code == 422 and "release_pledge" in r.text
    assert api.state(pid) == "TESTING"


def test_a_material_change_without_a_change_registration_suspends_trading(api: Api) -> None:
    pid = listed(api)
    today = api.clock.today.isoformat()
    api.do(pid, "alice", "register_change", {"description": "交付方式由文件改为接口", "effective_on": today})
    assert api.do(pid, "carol", "record_external_fact", {"trigger": "material_change", "on": today})["events"] == [
        "ExternalFactRecorded"]
    second = api.do(pid, "carol", "record_external_fact", {"trigger": "material_change", "on": today})
    assert second["events"] == ["ExternalFactRecorded", "ThresholdBreached", "ProjectSuspended"]
    assert api.state(pid) == "SUSPENDED"


def test_programs_json_shows_the_pledge_and_change_rules(api: Api) -> None:
    db = api.app.state.store.path
    done = CliRunner().invoke(main, ["programs", "--db", str(db), "--json"])
    assert done.exit_code == 0, done.output
    data_asset = next(p for p in json.loads(done.output) if p["key"] == "data-asset")
    rules = {r["id"]: r for r in data_asset["exit"]}
    assert rules["da.exit.pledge_realised"]["params"] == {"check": "pledge_realised", "action": "closure"}
    assert rules["da.exit.change_registration"]["params"] == {"check": "change_registration", "action": "suspension"}
