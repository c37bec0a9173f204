"""What a command's events say of themselves: its own events name the actor, its reason and the
document it files; what the system adds in the same append (a breach, a suspension) names the
system and the command that caused it; all carry the command's correlation id and the rule
version it was decided under."""

from __future__ import annotations

from sandbox.metadata import AUTOMATIC, SYSTEM
from schemas import commands as c
from tests.fixtures.scenarios import fintech_in_test
from tests.fixtures.world import ALICE, sha


def test_a_commands_own_events_are_the_actors_and_its_consequences_the_systems() -> None:
    # given a test in progress
    w, pid = fintech_in_test()
    before, program = w.head(), w.state(pid).program_ref
    # when the lead reports a fund loss, with a reason, in a request whose digest is known
    report = c.ReportIncident(
        incident_id="inc-1", kind="fund_loss", occurred_on=w.clock.today, consumer_loss_yuan=12_000,
        reason="客户资金损失",
    )
    w.registry.execute(pid, report, ALICE, command_id="report-1", request="digest")
    # then the report is the lead's, and the breach and the suspension are the system's, caused by it
    own, *automatic = [e for e in w.events(pid) if e.position > before]
    assert [e.type for e in automatic][-1] == "ProjectSuspended"
    assert (own.metadata.actor, own.metadata.role, own.metadata.organisation) == (ALICE.id, ALICE.role, "fzbank")
    assert (own.metadata.reason, own.metadata.causation_id) == ("客户资金损失", None)
    for event in automatic:
        meta = event.metadata
        assert (meta.actor, meta.role, meta.organisation) == (SYSTEM.id, SYSTEM.role, None)
        assert (meta.reason, meta.causation_id) == (AUTOMATIC, "report-1")
    recorded = [own, *automatic]
    assert {e.metadata.correlation_id for e in recorded} == {"report-1#digest"}
    assert {e.metadata.rule_version for e in recorded} == {program}
    assert {e.metadata.occurred_at for e in recorded} == {w.clock.now}


def test_a_filed_document_is_named_by_its_digest() -> None:
    w, pid = fintech_in_test()
    before = w.head()
    w.do(pid, ALICE, c.SubmitFinalReport(sha256=sha("final"), summary="总结", kpis_met=[]))
    [filed] = [e for e in w.events(pid) if e.position > before]
    assert filed.metadata.attachments == (sha("final"),)
