"""The public notice (公示), decided by the pure decider: what it publishes, and who may object."""

from __future__ import annotations

import hashlib

from events.codec import canonical_json
from projections.public import register_entry
from schemas import commands as c
from schemas.commands import Actor
from tests.fixtures.pure import OFFICER, PROGRAMS, on_notice, refused, when

FINTECH = PROGRAMS["fintech-sandbox"]
CITIZEN = Actor(id="citizen-lin", role="public")
NEIGHBOUR = Actor(id="citizen-wu", role="public")


def test_the_notice_publishes_the_statements_public_parts_the_program_names_and_no_personal_name() -> None:
    for key, program in PROGRAMS.items():
        entry = register_entry(on_notice(key))
        assert entry is not None
        [statement] = entry.statements
        published = {(section, name) for section, fields in statement.public.items() for name in fields}
        named = {(section, name) for section, names in program.public_fields.by_section().items() for name in names}
        assert published and published <= named, key
        assert statement.public_sha256 == hashlib.sha256(canonical_json(statement.public)).hexdigest()
        assert "complaint_contact" not in str(statement.public)
    fintech = register_entry(on_notice("fintech-sandbox"))
    assert fintech is not None
    parts = fintech.statements[0].public["statement"]
    for part in ("service_description", "innovation_claim", "consumer_benefit", "risk_controls", "complaint_channel"):
        assert parts[part], part
    assert {"max_users", "start_date", "end_date"} <= set(fintech.statements[0].public["boundaries"])


def test_an_anonymous_objection_is_refused_naming_the_missing_fields_and_a_comment_may_stay_anonymous() -> None:
    s = on_notice()
    e = refused(s, CITIZEN, c.Object(grounds="数据来源存疑"), FINTECH)
    assert e.code == "invalid_value" and [d["field"] for d in e.details] == ["name", "contact"]
    e = refused(s, CITIZEN, c.Object(grounds="数据来源存疑", name="林女士", contact="  "), FINTECH)
    assert [d["field"] for d in e.details] == ["contact"] and "异议人" in e.details[0]["rule_zh"]
    assert when(s, CITIZEN, c.Comment(text="支持"), FINTECH).comments == 1


def test_one_open_objection_per_objector_and_another_once_it_is_disposed() -> None:
    s = when(on_notice(), CITIZEN, c.Object(grounds="异议一", name="林女士", contact="Lin@Example.cn"), FINTECH)
    [first] = s.open_objections
    # the same objector (their contact, whatever its case and spacing), even through another token
    e = refused(s, NEIGHBOUR, c.Object(grounds="异议二", name="林女士", contact=" lin@example.CN"), FINTECH)
    assert e.code == "objection_already_open"
    s = when(s, NEIGHBOUR, c.Object(grounds="另一异议", name="吴先生", contact="wu@example.cn"), FINTECH)
    assert len(s.open_objections) == 2
    s = when(s, OFFICER, c.DisposeObjection(objection_id=first.objection_id, outcome="dismissed"), FINTECH)
    s = when(s, CITIZEN, c.Object(grounds="新的理由", name="林女士", contact="lin@example.cn"), FINTECH)
    assert len(s.open_objections) == 2
