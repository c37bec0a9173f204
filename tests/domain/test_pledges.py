"""A data asset's pledges and change registrations, decided by the pure decider (given a
state, when a command, then events or a refusal) and lived through the registry."""

from __future__ import annotations

import datetime as dt

from schemas import commands as c
from schemas import events as ev
from schemas.lifecycle import State
from tests.fixtures.scenarios import decided, refusal
from tests.fixtures.world import ALICE, OFFICER, World, sha

BANK, OTHER_BANK = "福州农村商业银行", "兴业银行福州分行"


def listed_asset() -> tuple[World, str]:
    w = World()
    pid = w.create_data_asset()
    w.data_asset_application(pid, public_data=False)
    w.through_notice(pid)
    w.start_testing(pid)
    w.do(pid, ALICE, c.AttachDocument(kind="valuation_report", sha256=sha("valued"), title="评估报告",
                                      issued_on=w.clock.today))
    return w, pid


def pledge(w: World, pledgee: str = BANK, number: str = "ZY-2025-001") -> c.RegisterPledge:
    return c.RegisterPledge(pledgee=pledgee, registration_no=number, on=w.clock.today)


def test_a_released_pledge_ends_the_encumbrance_and_nothing_else() -> None:
    """Given a listed asset pledged, when the pledge is released, then only the release is
    recorded: no breach, no exit, the asset stays listed; it may then be pledged again."""
    w, pid = listed_asset()
    assert decided(w, pid, ALICE, pledge(w)) == ["PledgeRegistered"]
    w.do(pid, ALICE, pledge(w))
    release = c.ReleasePledge(on=w.clock.today)
    assert decided(w, pid, ALICE, release) == ["PledgeReleased"]
    w.do(pid, ALICE, release)
    s = w.state(pid)
    assert s.state == State.TESTING and [(x.registration_no, x.status) for x in s.pledges] == [
        ("ZY-2025-001", "released")]
    assert decided(w, pid, ALICE, pledge(w, OTHER_BANK, "ZY-2025-002")) == ["PledgeRegistered"]


def test_at_most_one_pledge_is_outstanding_and_cancellation_waits_for_its_release() -> None:
    w, pid = listed_asset()
    w.do(pid, ALICE, pledge(w))
    again = refusal(w, pid, ALICE, pledge(w, OTHER_BANK, "ZY-2025-002"))
    assert again.code == "pledge_outstanding" and "ZY-2025-001" in again.message_en
    cancel = refusal(w, pid, OFFICER, c.RecordExternalFact(trigger="cancellation_requested", on=w.clock.today))
    assert cancel.code == "pledge_outstanding"
    w.do(pid, ALICE, c.ReleasePledge(on=w.clock.today))
    assert decided(w, pid, OFFICER, c.RecordExternalFact(trigger="cancellation_requested", on=w.clock.today))[-1] == (
        "ExitInitiated")
    assert refusal(w, pid, ALICE, c.ReleasePledge(on=w.clock.today)).code == "no_pledge_outstanding"


def test_a_pledge_needs_a_valuation_no_older_than_the_programs_limit_on_its_day() -> None:
    w, pid = listed_asset()  # valued today
    w.clock.advance(days=366)
    e = refusal(w, pid, ALICE, pledge(w))
    assert e.code == "valuation_too_old" and "12 months" in e.message_en and "12 个月" in e.message_zh
    # a valuation dated 11 months before the pledge's day will do
    w.do(pid, ALICE, c.AttachDocument(kind="valuation_report", sha256=sha("revalued"), title="重估",
                                      issued_on=w.clock.today - dt.timedelta(days=330)))
    assert decided(w, pid, ALICE, pledge(w))[0] == "PledgeRegistered"  # (then a year without trades: dormancy)


def test_a_realised_pledge_follows_the_programs_rule_the_project_closes() -> None:
    w, pid = listed_asset()
    w.do(pid, ALICE, pledge(w))
    assert refusal(w, pid, ALICE, c.RealisePledge(on=w.clock.today)).code == "wrong_role"  # the regulator records it
    result = w.do(pid, OFFICER, c.RealisePledge(on=w.clock.today, reason="借款逾期"))
    assert result.event_types == ["PledgeRealised", "ThresholdBreached", "ExitInitiated"]
    breach = w.state(pid).breaches[-1]
    assert breach.criterion_id == "da.exit.pledge_realised" and breach.action == "closure"


def test_a_material_change_needs_a_change_registration_first() -> None:
    """A change registered before it takes effect covers one material change; a material change
    without one suspends trading, as the program's rule says."""
    w, pid = listed_asset()
    registered = c.RegisterChange(description="更新频率由每日改为每小时", effective_on=w.clock.today)
    assert decided(w, pid, ALICE, registered) == ["ChangeRegistered"]
    w.do(pid, ALICE, registered)
    covered = w.do(pid, OFFICER, c.RecordExternalFact(trigger="material_change", on=w.clock.today))
    assert covered.event_types == ["ExternalFactRecorded"]
    uncovered = w.do(pid, OFFICER, c.RecordExternalFact(trigger="material_change", on=w.clock.today))
    assert uncovered.event_types == ["ExternalFactRecorded", "ThresholdBreached", "ProjectSuspended"]
    assert w.state(pid).breaches[-1].criterion_id == "da.exit.change_registration"


def test_pledge_facts_are_recorded_by_their_commands_not_as_outside_facts() -> None:
    w, pid = listed_asset()
    for fact, command in (("pledge_released", "release_pledge"), ("pledge_registered", "register_pledge")):
        e = refusal(w, pid, OFFICER, c.RecordExternalFact(trigger=fact, on=w.clock.today))
        assert e.code == "invalid_value" and command in e.params["rule_en"] and command in e.params["rule_zh"]


def test_pledges_are_for_data_assets_only() -> None:
    w = World()
    pid = w.create("ecny-pilot")
    w.ecny_application(pid)
    w.through_notice(pid)
    w.start_testing(pid)
    e = refusal(w, pid, ALICE, c.RegisterPledge(pledgee=BANK, registration_no="x", on=w.clock.today))
    assert e.code == "data_assets_only" and "数据资产" in e.message_zh


def test_an_old_log_of_pledge_facts_replays_into_pledges() -> None:
    """Before pledges had commands, a pledge was the facts pledge_registered and pledge_released:
    such a log folds into the same pledge life."""
    from events.model import RecordedEvent
    from projections.project import fold
    from schemas.base import EventMetadata

    meta = EventMetadata(actor="carol", role="case_officer", occurred_at=dt.datetime(2025, 5, 1, tzinfo=dt.UTC))

    def rec(position: int, payload: ev.ExternalFactRecorded) -> RecordedEvent[ev.ExternalFactRecorded]:
        return RecordedEvent(position=position, stream_id="project-x", version=position, type=payload.event_type,
                             event_id=str(position), payload=payload, metadata=meta, recorded_at=meta.occurred_at,
                             hash="")

    on = dt.date(2025, 5, 1)
    state = fold([rec(1, ev.ExternalFactRecorded(trigger="pledge_registered", on=on, detail="ZY-1")),
                  rec(2, ev.ExternalFactRecorded(trigger="pledge_released", on=on))])
    assert [(x.registration_no, x.status, x.ended_position) for x in state.pledges] == [("ZY-1", "released", 2)]
